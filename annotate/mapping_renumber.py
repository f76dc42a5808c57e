"""Mapping step 5: word ids 1..n again, heads written as ids, enhanced dependencies and empty nodes remapped."""

from __future__ import annotations

from mudawwana.corpus.data_model import Sentence, Word, format_misc, parse_misc

from .mapping_common import ROOT, TOKEN_MISC_KEYS
from .mapping_heads import Heads
from .mapping_words import Resegmentation


def renumber(sentence: Sentence, heads: Heads, predicted_words: list[Word], reseg: Resegmentation) -> None:
    """Write `heads` into the words and renumber them (Sentence.renumber); new words have no enhanced deps and
    only token-level MISC (their xpos, feats and lemma are what step 3 gave them)."""
    words = sentence.words
    changed = [id(w) for w in words] != [id(w) for w in predicted_words]
    position = {id(w): i for i, w in enumerate(words, 1)}
    old_to_new = {0: 0, **{w.id: position[id(reseg.heir[w.id])] for w in predicted_words}}
    # Sentence.renumber maps heads through the current ids, so every word needs a unique one first: new words
    # get negative ids (predicted ids are positive).
    for i, w in enumerate(words, 1):
        if reseg.is_new(w):
            w.id = -i
    for w in words:
        head, w.deprel = heads[id(w)]
        w.head = None if head is None else 0 if head is ROOT else head.id
        if reseg.is_new(w):
            w.deps = "_"
            w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k in TOKEN_MISC_KEYS})
    sentence.renumber()
    if changed:
        _remap_enhanced(sentence, old_to_new)


def _remap_enhanced(sentence: Sentence, old_to_new: dict[int, int]) -> None:
    """Enhanced DEPS and empty nodes still name the predicted ids: point them at the heirs' new ids."""
    for w in sentence.words:
        w.deps = remap_deps(w.deps, old_to_new)
    for node in sentence.empty_nodes:
        node.after = old_to_new.get(node.after, node.after)
        node.columns[8] = remap_deps(node.columns[8], old_to_new)
        node.columns[0] = f"{node.after}.{node.columns[0].split('.', 1)[1]}"


def remap_deps(deps: str, ids: dict[int, int]) -> str:
    """Enhanced DEPS `head:rel|...` with word ids (and empty-node ids `n.k`) renumbered."""
    if deps == "_":
        return deps
    out = []
    for item in deps.split("|"):
        head, sep, rel = item.partition(":")
        major, dot, minor = head.partition(".")
        if major.isdigit() and int(major) in ids:
            head = f"{ids[int(major)]}{dot}{minor}"
        out.append(head + sep + rel)
    return "|".join(out)
