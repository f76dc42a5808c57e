"""Mapping step 3a: the segmentation of each written word (a maximal run of the text without whitespace) into
words, as spans of the `words` view.

Three ways to say it, in this order (docs/labeling-interface.md):
- typed: the written word's words joined by "+" in the `segmentation` box of any of its words;
- actions: `seg` choices on its words (join with the next word, split off the first letter, split off a pronoun
  suffix), applied to the predicted words;
- regions: the word regions themselves (deleted and drawn again), which must tile the written word.
None of them: the predicted words. What cannot be read is a problem, and the written word keeps its predicted
words."""

from __future__ import annotations

import unicodedata
from itertools import pairwise

from mudawwana.corpus.clitics import PRONOUN_SUFFIXES
from mudawwana.corpus.ud_values import nfc

from .config import SEG_ACTIONS, SEG_JOIN, SEG_JOINER, SEG_PREFIX, SEG_SUFFIX
from .mapping_common import MappingContext, Region, Span, WrittenWord
from .mapping_regions import WordValue, flat_values

# Longest first: كتابهما ends in هما, not in ما or ا.
_SUFFIXES = sorted(PRONOUN_SUFFIXES, key=len, reverse=True)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) == "Mn"  # a diacritic: it belongs to the letter before it


def written_form(ctx: MappingContext, ww: WrittenWord, spans: list[Span]) -> str:
    """The written word as the `segmentation` box shows it: its words joined by "+"."""
    return SEG_JOINER.join(ctx.view.letters(sp) for sp in spans)


def boundaries(ww: WrittenWord, spans: list[Span]) -> list[int]:
    """Where each word but the first starts, as letter indexes of the written word."""
    return [ww.letter_range(sp)[0] for sp in spans[1:]]


def spans_at(ww: WrittenWord, cuts) -> list[Span]:
    points = [0, *sorted(set(cuts)), len(ww.letters)]
    return [ww.span_of(a, b) for a, b in pairwise(points)]


def segment_written_word(ctx: MappingContext, ww: WrittenWord, pieces: dict[Span, list[Region]], readable: bool,
                         typed: list[WordValue], actions: list[WordValue]) -> list[Span]:
    """The word spans of the written word (see the module docstring)."""
    typed_spans = _typed(ctx, ww, typed)
    chosen = _actions(ctx, ww, actions)
    current = written_form(ctx, ww, ww.predicted)
    if typed_spans is not None and chosen:
        ctx.problem(f"written word {current!r}: a segmentation was typed and segmentation actions chosen; neither "
                    "applied", chosen[0][2])
        typed_spans, chosen = None, []
    if typed_spans is not None:
        for sp, regions in pieces.items():
            if sp not in typed_spans and sp not in ww.predicted:
                ctx.problem(f"region {ctx.view.text[sp[0]:sp[1]]!r} is not a word of the segmentation typed for "
                            f"{current!r}; ignored", regions[0].id)
        return typed_spans
    base = _from_regions(ctx, ww, pieces, readable)
    if not chosen:
        return base
    if base != ww.predicted:
        ctx.problem(f"written word {current!r}: segmentation actions chosen on word regions drawn anew; the "
                    "actions are not applied", chosen[0][2])
        return base
    return _apply_actions(ctx, ww, chosen)


def _typed(ctx: MappingContext, ww: WrittenWord, typed: list[WordValue]) -> list[Span] | None:
    """The segmentation typed in the box, when one differs from the predicted one; None otherwise."""
    current = written_form(ctx, ww, ww.predicted)
    letters = ww.text(ctx.view)
    predicted_cuts = boundaries(ww, ww.predicted)
    found: dict[tuple, tuple[str, str | None]] = {}
    for value in typed:
        for text in flat_values(value.values):
            if not isinstance(text, str) or not text.strip():
                continue  # a cleared box is never a correction
            cuts = _align(text, letters)
            if cuts is None:
                ctx.problem(f"the segmentation {text.strip()!r} typed for {current!r} changes its letters: only "
                            f"{SEG_JOINER} can be added or removed", value.region_id)
                return None
            if cuts != predicted_cuts:
                found.setdefault(tuple(cuts), (text.strip(), value.region_id))
    if not found:
        return None
    if len(found) > 1:
        texts = ", ".join(repr(t) for t, _ in found.values())
        ctx.problem(f"different segmentations typed for {current!r}: {texts}; none applied",
                    next(iter(found.values()))[1])
        return None
    (cuts, (text, rid)), = found.items()
    if any(_is_mark(letters[c]) for c in cuts):
        ctx.problem(f"the segmentation {text!r} typed for {current!r} starts a word with a diacritic", rid)
        return None
    return spans_at(ww, cuts)


def _align(typed: str, letters: str) -> list[int] | None:
    """Where the typed words start (letter indexes, the first word's 0 left out), or None when the typed text is
    not the letters with separators ("+" or whitespace) between them. A "+" that is the next letter (C++) is read
    as that letter."""
    typed, letters = nfc(typed.strip()), nfc(letters)
    cuts, i, cut_pending = [], 0, False
    for ch in typed:
        if i < len(letters) and ch == letters[i]:
            if cut_pending and i > 0:
                cuts.append(i)
            cut_pending = False
            i += 1
        elif ch == SEG_JOINER or ch.isspace():
            cut_pending = True
        else:
            return None
    return sorted(set(cuts)) if i == len(letters) else None


def _actions(ctx: MappingContext, ww: WrittenWord, actions: list[WordValue]) -> list[tuple[Span, str, str | None]]:
    out = []
    for value in actions:
        for action in flat_values(value.values):
            if action in SEG_ACTIONS:
                out.append((value.span, action, value.region_id))
            else:
                ctx.problem(f"unknown segmentation action {action!r} ignored", value.region_id)
    return sorted(out, key=lambda x: x[0])


def _apply_actions(ctx: MappingContext, ww: WrittenWord, chosen: list[tuple[Span, str, str | None]]) -> list[Span]:
    """The predicted words with the actions applied (join with the next word, split off the first letter or a
    pronoun suffix); an action that cannot apply is a problem and is skipped."""
    words, letters = ww.predicted, ww.text(ctx.view)
    cuts = set(boundaries(ww, words))
    for span, action, rid in chosen:
        form = ctx.view.letters(span)
        if span not in words:
            ctx.problem(f"segmentation action {action!r} on {form!r}, which is not a word; ignored", rid)
            continue
        k = words.index(span)
        i, j = ww.letter_range(span)
        if action == SEG_JOIN:
            if len(words) == 1:
                ctx.problem(f"nothing to join {form!r} with: it is the only word of its written word "
                            "(words apart in the text cannot be joined)", rid)
            else:
                cuts.discard(j if k < len(words) - 1 else i)  # the last word joins the one before it
        elif action == SEG_PREFIX:
            cut = i + 1
            while cut < j and _is_mark(letters[cut]):
                cut += 1
            if cut >= j:
                ctx.problem(f"{form!r} has nothing after its first letter to split off", rid)
            else:
                cuts.add(cut)
        elif action == SEG_SUFFIX:
            cut = suffix_start(letters[i:j])
            if cut is None:
                ctx.problem(f"{form!r} ends in no pronoun suffix ({' '.join(sorted(PRONOUN_SUFFIXES))}): type its "
                            "segmentation instead", rid)
            else:
                cuts.add(i + cut)
    return spans_at(ww, cuts)


def suffix_start(form: str) -> int | None:
    """Where the pronoun suffix at the end of `form` starts (diacritics ignored, at least one letter left before
    it), or None."""
    base = [p for p, ch in enumerate(form) if not _is_mark(ch)]
    bare = "".join(form[p] for p in base)
    for suffix in _SUFFIXES:
        if bare.endswith(suffix) and len(bare) > len(suffix):
            return base[len(bare) - len(suffix)]
    return None


def _from_regions(ctx: MappingContext, ww: WrittenWord, pieces: dict[Span, list[Region]], readable: bool,
                  ) -> list[Span]:
    """The regions' spans when they tile the written word, else the predicted ones (a problem says why)."""
    text, view = ctx.view.text, ctx.view
    spans = sorted(pieces)
    for (s1, e1), (s2, e2) in pairwise(spans):
        if s2 < e1:
            ctx.problem(f"regions {text[s1:e1]!r} and {text[s2:e2]!r} overlap", pieces[(s2, e2)][0].id)
            readable = False
    covered = {i for s, e in spans for i in range(s, e)}
    start, end = ww.span
    gaps = "".join(c if i not in covered and view.in_word[i] else " "
                   for i, c in enumerate(text[start:end], start)).split()
    if gaps:
        ctx.problem(f"part of {view.letters(ww.span)!r} is not covered by any word: {' '.join(gaps)!r}")
        readable = False
    if readable and spans != ww.predicted and "seg" not in ctx.layers:
        ctx.problem(f"words of {view.letters(ww.span)!r} were resegmented but the seg layer is off",
                    next((p[0].id for sp, p in pieces.items() if sp not in ww.predicted), None))
        readable = False
    return spans if readable else ww.predicted
