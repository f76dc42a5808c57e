"""Mapping step 4: heads and deprels, as word objects (ids are only given in step 5).

Every word first gets its predicted head carried through the resegmentation; with the deps layer the
relations then overwrite it, and what does not make a tree is reported."""

from __future__ import annotations

from mudawwana.corpus.data_model import Word

from .config import DEPRELS
from .mapping_common import ROOT, MappingContext, region_id_of
from .mapping_words import Resegmentation

Head = tuple[Word | None, str]  # (head word, ROOT or None for no head; deprel)
Heads = dict[int, Head]  # id(word) -> its head


def predicted_heads(words: list[Word], reseg: Resegmentation, predicted: dict[int, tuple[int | None, str]]) -> Heads:
    """`predicted`: predicted word id -> (head id, deprel), taken before the resegmentation."""
    return {id(w): _predicted_head(w, reseg, predicted) for w in words}


def _predicted_head(word: Word, reseg: Resegmentation, predicted: dict) -> Head:
    """A kept word keeps its head; a merged word takes the head of the part that attached outside it; a split's
    largest piece takes the old word's place (it is the old word's heir), the other pieces hang from it as `dep`."""
    def heir_of(head: int | None) -> Word | None:
        return None if head is None else ROOT if head == 0 else reseg.heir[head]

    if not reseg.is_new(word):
        head, deprel = predicted[word.id]
        return heir_of(head), deprel
    shares = reseg.overlaps.get(id(word), [])
    inherited = [w for w, _ in shares if reseg.heir[w.id] is word]
    if inherited:
        # Of the parts merged into this word, the one attached outside the word (the root, if one is) gives the head.
        outside = [w for w in inherited if predicted[w.id][0] in (None, 0) or heir_of(predicted[w.id][0]) is not word]
        pick = next((w for w in outside if predicted[w.id][0] == 0), outside[0] if outside else inherited[0])
        head, deprel = predicted[pick.id]
        return (heir_of(head), deprel) if heir_of(head) is not word else (None, "_")
    biggest = max(shares, key=lambda x: x[1])[0]
    if predicted[biggest.id][0] is None:
        return None, "_"
    return reseg.heir[biggest.id], "dep"


def apply_relations(ctx: MappingContext, relations: list[dict], heads: Heads, reseg: Resegmentation,
                    parsed: bool) -> None:
    """Overwrite `heads` with the relations; a word without exactly one keeps its predicted head (`parsed`: the
    prediction had heads, so a word left without one is a problem rather than the unparsed norm).

    Relations on the regions of predicted words that are words no more (a typed segmentation or an action
    changed them) speak for the words that took their places: a relation between two parts of a merged word is
    dropped, and of several that reach a merged word, the one from ROOT, else the one to the part it inherits
    from, is taken. A new word without a region of its own keeps the head it was given (step 4) silently."""
    region_word = reseg.region_word
    incoming = _incoming_relations(ctx, relations, reseg)
    words = ctx.sentence.words
    for w in words:
        got = incoming.get(id(w), [])
        rid = region_id_of(region_word, w)
        if len(got) > 1 and reseg.is_new(w) and all(dep_rid in reseg.stale for _, _, dep_rid in got):
            got = [_pick_inherited(w, got, reseg)]
        if len(got) > 1:
            ctx.problem(f"word {w.form!r} has {len(got)} heads; the predicted one kept", rid)
        elif not got:
            if parsed and not (reseg.is_new(w) and id(w) not in reseg.own_region and rid is None):
                ctx.problem(f"word {w.form!r} has no head; the predicted one kept", rid)
        else:
            head, deprel, _ = got[0]
            if (head is ROOT) != (deprel == "root"):
                ctx.problem(f"word {w.form!r}: only a relation from ROOT is labelled root", rid)
            heads[id(w)] = (head, deprel)
    roots = [w for w in words if heads[id(w)][0] is ROOT]
    if len(roots) > 1:
        ctx.problem(f"{len(roots)} words hang from ROOT: {', '.join(w.form for w in roots)}",
                    region_id_of(region_word, roots[1]))


def _pick_inherited(word: Word, got: list, reseg: Resegmentation):
    from_root = [g for g in got if g[0] is ROOT]
    if from_root:
        return from_root[0]
    shares = {id(old): n for old, n in reseg.overlaps.get(id(word), [])}
    return max(got, key=lambda g: shares.get(id(reseg.stale[g[2]]), 0))


def _incoming_relations(ctx: MappingContext, relations: list[dict], reseg: Resegmentation,
                        ) -> dict[int, list[tuple[Word, str, str]]]:
    """id(dependent) -> [(head, deprel, dependent's region id)] for every relation that names two words, one
    direction and one deprel."""
    region_word = reseg.region_word
    incoming: dict[int, list] = {}
    for rel in relations:
        a, b = (region_word.get(rel.get(k)) for k in ("from_id", "to_id"))
        for key, w in (("from_id", a), ("to_id", b)):
            if w is None:
                ctx.problem("relation to an unknown region (not a word) ignored", rel.get(key))
        if a is None or b is None:
            continue
        direction = rel.get("direction", "right")
        if direction not in ("right", "left"):
            ctx.problem(f"relation {rel.get('from_id')}-{rel.get('to_id')} has direction {direction!r}: "
                        "make it point from head to dependent", rel.get("to_id"))
            continue
        # An arc drawn from the dependent to the head is stored as "left": the direction, not the order, decides.
        head, dep = (a, b) if direction == "right" else (b, a)
        dep_id = rel.get("to_id") if direction == "right" else rel.get("from_id")
        head_id = rel.get("from_id") if direction == "right" else rel.get("to_id")
        labels = rel.get("labels") or []
        if head is dep and (dep_id in reseg.stale or head_id in reseg.stale):
            continue  # between two parts of a word that were merged
        if dep is ROOT:
            ctx.problem("ROOT cannot be a dependent", dep_id)
        elif len(labels) != 1 or labels[0] not in DEPRELS:
            ctx.problem(f"relation to {dep.form!r} needs exactly one known deprel, has {labels}", dep_id)
        else:
            incoming.setdefault(id(dep), []).append((head, labels[0], dep_id))
    return incoming


def report_cycles(ctx: MappingContext, heads: Heads, region_word: dict[str, Word]) -> None:
    """Each cycle once, from the first of its words that a walk up from the words in order meets."""
    done: set[int] = set()
    for w in ctx.sentence.words:
        path, cur = [], w
        while cur is not None and cur is not ROOT and id(cur) not in done:
            at = next((k for k, x in enumerate(path) if x is cur), None)  # identity: two new words may be equal
            if at is not None:
                cycle = path[at:]
                ctx.problem("cycle: " + " -> ".join(x.form for x in cycle), region_id_of(region_word, cycle[0]))
                break
            path.append(cur)
            cur = heads[id(cur)][0]
        done.update(id(x) for x in path)
