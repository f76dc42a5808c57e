"""Mapping steps 1-2: read an annotation's result list into regions by layer, and file the word regions under
the tokens they lie in."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import LEMMA, NER, TEXT, UPOS, WORD, WORDS
from .config import ROOT as ROOT_CONTROL  # the control name "root"; mapping_common.ROOT is the pseudo-word
from .mapping_common import MappingContext, Region
from .tasks import from_js


@dataclass
class AnnotationRegions:
    """An annotation's result, sorted by what each item is; items that could not be read are problems instead."""
    words: list[Region] = field(default_factory=list)     # word regions on `words` (the word control's)
    root: list[Region] = field(default_factory=list)      # regions labelled ROOT on `words`
    lemmas: dict[str | None, list] = field(default_factory=dict)  # region id -> its textarea values
    entities: list[Region] = field(default_factory=list)  # NER regions on `text`
    relations: list[dict] = field(default_factory=list)


def read_result(ctx: MappingContext, result: list[dict]) -> AnnotationRegions:
    regions = AnnotationRegions()
    for item in result:
        if item.get("type") == "relation":
            regions.relations.append(item)
            continue
        region = _read_region(ctx, item)
        if region is not None:
            _file_region(ctx, regions, item, region)
    return regions


def _read_region(ctx: MappingContext, item: dict) -> Region | None:
    """The item's span in code points, checked against the text it claims to select."""
    rid, to_name = item.get("id"), item.get("to_name")
    value = item.get("value") or {}
    text = {WORDS: ctx.view.text, TEXT: ctx.sentence.text}.get(to_name)
    if text is None:
        ctx.problem(f"region on unknown object {to_name!r} ignored", rid)
        return None
    start, end = value.get("start"), value.get("end")
    # Label Studio counts UTF-16 units (docs/label-studio.md): convert, and refuse offsets inside a surrogate pair.
    start = from_js(text, start) if isinstance(start, int) else None
    end = from_js(text, end) if isinstance(end, int) else None
    if start is None or end is None or start >= end:
        ctx.problem(f"region offsets {value.get('start')}-{value.get('end')} are not a span of ${to_name}; ignored",
                    rid)
        return None
    if isinstance(value.get("text"), str) and value["text"] != text[start:end]:
        ctx.problem(f"region text {value['text']!r} does not match its offsets; ignored", rid)
        return None
    return Region(rid, start, end, list(value.get("labels") or []))


def _file_region(ctx: MappingContext, regions: AnnotationRegions, item: dict, region: Region) -> None:
    rid, from_name, to_name = item.get("id"), item.get("from_name"), item.get("to_name")
    layer_off = f"{from_name} region ignored: its layer is not on"
    if to_name == WORDS and from_name in (UPOS, WORD):
        if from_name != ctx.control:
            ctx.problem(layer_off, rid)
        else:
            regions.words.append(region)
    elif to_name == WORDS and from_name == ROOT_CONTROL:
        regions.root.append(region)
    elif to_name == WORDS and from_name == LEMMA:
        if "lemma" not in ctx.layers:
            ctx.problem(layer_off, rid)
        else:
            regions.lemmas.setdefault(rid, []).append((item.get("value") or {}).get("text"))
    elif to_name == TEXT and from_name == NER:
        if NER not in ctx.layers:
            ctx.problem(layer_off, rid)
        else:
            regions.entities.append(region)
    else:
        ctx.problem(f"region of unknown control {from_name!r} on {to_name!r} ignored", rid)


def root_region_ids(ctx: MappingContext, root_regions: list[Region]) -> list[str]:
    """The ids of the regions that are the ROOT pseudo-word (relations from them attach words to the root)."""
    ids = []
    for region in root_regions:
        if region.id is not None and (region.start, region.end) == ctx.view.root_span():
            ids.append(region.id)
        else:
            ctx.problem("ROOT label used off the ROOT pseudo-word; ignored", region.id)
    return ids


@dataclass
class PlacedRegions:
    by_token: dict[int, list[Region]] = field(default_factory=dict)  # token index -> its word regions, trimmed
    unreadable: set[int] = field(default_factory=set)  # tokens whose regions cannot be read as a segmentation


def place_word_regions(ctx: MappingContext, word_regions: list[Region]) -> PlacedRegions:
    """Trim separators off each word region and file it under the token it lies in.

    A region across tokens is not applied (tokenization is fixed) and makes every token it touches keep its
    predicted words."""
    view, placed = ctx.view, PlacedRegions()
    owner: list[int | None] = [None] * len(view.text)  # character -> token index (-1: ROOT), None in gaps
    for t, (start, end) in view.token_spans().items():
        owner[start:end] = [t] * (end - start)
    for r in word_regions:
        s, e = view.trim(r.start, r.end)
        first, last = (owner[s], owner[e - 1]) if s < e else (None, None)
        if s >= e:
            ctx.problem(f"region {view.text[r.start:r.end]!r} selects no word; ignored", r.id)
        elif first == -1 or last == -1:
            ctx.problem("the ROOT pseudo-word cannot be a word; region ignored", r.id)
        elif first is not None and first == last:
            placed.by_token.setdefault(first, []).append(Region(r.id, s, e, r.labels))
        else:
            ctx.problem(f"region {view.text[s:e]!r} crosses a token gap", r.id)
            inside = [t for t in owner[s:e] if t is not None and t >= 0]
            placed.unreadable.update(range(min(inside), max(inside) + 1))
    return placed
