"""Mapping step 6: named entities from the spans over `text`, mapped onto tokens by their offsets."""

from __future__ import annotations

from mudawwana.corpus.data_model import NER_LABELS, Entity

from .mapping_common import MappingContext, Region


def map_entities(ctx: MappingContext, regions: list[Region]) -> None:
    sentence = ctx.sentence
    tokens = sentence.tokens
    before = sentence.entities
    # Entities on tokens not found in the text were never shown: keep them.
    entities = [e for e in before if tokens[e.start_token].start is None or tokens[e.end_token - 1].end is None]
    starts = {t.start: i for i, t in enumerate(tokens) if t.start is not None}
    ends = {t.end: i for i, t in enumerate(tokens) if t.end is not None}
    found = [(e, r.id) for r in regions if (e := _entity(ctx, r, starts, ends)) is not None]
    found.sort(key=lambda x: (x[0].start_token, x[0].end_token))
    for ent, rid in found:
        if any(ent.start_token < o.end_token and o.start_token < ent.end_token for o in entities):
            ctx.problem(f"entity {ent.label} over tokens {ent.start_token}-{ent.end_token - 1} overlaps another; "
                        "ignored", rid)
        else:
            entities.append(ent)
    entities.sort(key=lambda x: x.start_token)
    if entities != before:  # set_entities rewrites every token's MISC; an unchanged annotation gives back the input
        sentence.set_entities(entities)


def _entity(ctx: MappingContext, region: Region, starts: dict[int, int], ends: dict[int, int]) -> Entity | None:
    """The tokens a region covers, once the whitespace at its edges is trimmed; None (and a problem) when the
    region has no single valid label or does not start and end on token boundaries (`starts`/`ends`: text
    offset -> token index)."""
    text = ctx.sentence.text
    s, e = region.start, region.end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if len(region.labels) != 1 or region.labels[0] not in NER_LABELS:
        ctx.problem(f"entity {text[s:e]!r} needs exactly one of {', '.join(NER_LABELS)}, has {region.labels}",
                    region.id)
    elif s not in starts or e not in ends or ends[e] < starts[s]:
        ctx.problem(f"entity {text[s:e]!r} is not aligned to tokens", region.id)
    else:
        return Entity(starts[s], ends[e] + 1, region.labels[0])
    return None
