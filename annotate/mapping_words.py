"""Mapping step 3: the words of each token from its word regions: segmentation, UPOS and lemma.

A region with the span of a predicted word *is* that word (the same object, every column kept); any other
region is a new word. Which predicted word each new word inherits from is recorded for the heads (step 4)
and the renumbering (step 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from mudawwana.corpus.data_model import UPOS_TAGS, Token, Word, format_misc, parse_misc

from .config import UPOS
from .mapping_common import TOKEN_MISC_KEYS, MappingContext, Region, Span
from .mapping_regions import PlacedRegions


@dataclass
class Resegmentation:
    """How the predicted words became the annotated ones. Words are keyed by id(): new words have no id of
    their own yet."""
    region_word: dict[str, Word]  # region id -> the word it became (or ROOT)
    heir: dict[int, Word] = field(default_factory=dict)  # predicted word id -> the word taking its place in the tree
    # id(word) -> [(predicted word, letters they share)], for every predicted word the word overlaps
    overlaps: dict[int, list[tuple[Word, int]]] = field(default_factory=dict)
    new: set[int] = field(default_factory=set)  # id() of the words the annotator created (merged or split)

    def is_new(self, word: Word) -> bool:
        return id(word) in self.new


def resegment_tokens(ctx: MappingContext, placed: PlacedRegions, lemmas: dict, region_word: dict[str, Word],
                     ) -> Resegmentation:
    """Every token gets the words its regions say; `region_word` (holding the ROOT regions) learns the rest."""
    reseg = Resegmentation(region_word)
    for ti, tok in enumerate(ctx.sentence.tokens):
        predicted = ctx.view.predicted_word_spans(ti)
        pieces = _regions_by_span(placed.by_token.get(ti, []))
        spans = _segmentation(ctx, tok, predicted, pieces, readable=ti not in placed.unreadable)
        predicted_word = dict(zip(predicted, tok.words))
        words = [_build_word(ctx, sp, pieces.get(sp, []), predicted_word.get(sp), lemmas, reseg) for sp in spans]
        _record_heirs(ctx, tok.words, predicted, words, spans, reseg)
        if [id(w) for w in words] != [id(w) for w in tok.words]:
            _replace_words(tok, words)
    return reseg


def report_stray_lemmas(ctx: MappingContext, lemmas: dict, region_word: dict[str, Word]) -> None:
    for rid in lemmas:
        if rid not in region_word:
            ctx.problem("lemma on a region that is not a word ignored", rid)


def _regions_by_span(regions: list[Region]) -> dict[Span, list[Region]]:
    """Regions grouped by span, spans in text order (two regions on one span are one word with two labels)."""
    pieces: dict[Span, list[Region]] = {}
    for r in sorted(regions, key=lambda r: (r.start, r.end)):
        pieces.setdefault((r.start, r.end), []).append(r)
    return pieces


def _segmentation(ctx: MappingContext, tok: Token, predicted: list[Span], pieces: dict[Span, list[Region]],
                  readable: bool) -> list[Span]:
    """The word spans of the token: the regions' when they tile it, else the predicted ones (a problem says why).

    Falling back keeps the predicted words; their tags and lemmas still come from regions that match them."""
    text, view = ctx.view.text, ctx.view
    spans = sorted(pieces)
    for (s1, e1), (s2, e2) in pairwise(spans):
        if s2 < e1:
            ctx.problem(f"regions {text[s1:e1]!r} and {text[s2:e2]!r} overlap", pieces[(s2, e2)][0].id)
            readable = False
    t_start, t_end = predicted[0][0], predicted[-1][1]
    covered = {i for s, e in spans for i in range(s, e)}
    gaps = "".join(c if i not in covered and view.in_word[i] else " "
                   for i, c in enumerate(text[t_start:t_end], t_start)).split()
    if gaps:
        ctx.problem(f"part of token {tok.form!r} is not covered by any word: {' '.join(gaps)!r}")
        readable = False
    if readable and spans != predicted and "seg" not in ctx.layers:
        ctx.problem(f"words of token {tok.form!r} were resegmented but the seg layer is off",
                    next((p[0].id for sp, p in pieces.items() if sp not in predicted), None))
        readable = False
    return spans if readable else predicted


def _build_word(ctx: MappingContext, span: Span, regions: list[Region], predicted: Word | None, lemmas: dict,
                reseg: Resegmentation) -> Word:
    """The word on `span`: the predicted word itself when there was one there, else a new one; labelled by its
    region (the first, when several)."""
    if len(regions) > 1:
        ctx.problem(f"two labels on one word {ctx.view.text[span[0]:span[1]]!r}; the first kept", regions[1].id)
    word = predicted or Word(0, ctx.view.letters(span))
    if predicted is None:
        reseg.new.add(id(word))
    if not regions:
        return word
    for r in regions:
        if r.id is not None:
            reseg.region_word[r.id] = word
    if ctx.control == UPOS:
        _label_upos(ctx, word, regions[0], is_new=predicted is None)
    if "lemma" in ctx.layers:
        _type_lemma(ctx, word, regions[0], lemmas)
    return word


def _label_upos(ctx: MappingContext, word: Word, region: Region, is_new: bool) -> None:
    labels = region.labels
    if len(labels) == 1 and labels[0] in UPOS_TAGS:
        word.upos = labels[0]
    elif len(labels) > 1:
        ctx.problem(f"two labels on one word {word.form!r}: {', '.join(labels)}", region.id)
    elif labels or word.upos != "_" or is_new:
        # The prediction shows a word tagged "_" as a region without a label: left so, it is no problem.
        ctx.problem(f"word {word.form!r} has no valid UPOS label: {labels}", region.id)


def _type_lemma(ctx: MappingContext, word: Word, region: Region, lemmas: dict) -> None:
    values = lemmas.get(region.id)
    texts = [t for v in values or [] for t in (v if isinstance(v, list) else [v])]
    if len(texts) == 1 and isinstance(texts[0], str) and texts[0].strip():
        word.lemma = texts[0].strip()
    elif len(texts) > 1:
        ctx.problem(f"several lemmas for word {word.form!r}: {texts}", region.id)
    # No lemma typed (or a cleared box): a kept word keeps its lemma, a new word gets "_". A cleared box is
    # never read as a correction.


def _record_heirs(ctx: MappingContext, predicted_words: list[Word], predicted: list[Span], words: list[Word],
                  spans: list[Span], reseg: Resegmentation) -> None:
    """Each predicted word's place in the tree goes to the word sharing most of its letters (the first on ties)."""
    for old, old_span in zip(predicted_words, predicted):
        shares = []
        for word, span in zip(words, spans):
            n = ctx.view.shared_letters(old_span, span)
            if n:
                shares.append((word, n))
                reseg.overlaps.setdefault(id(word), []).append((old, n))
        reseg.heir[old.id] = max(shares, key=lambda x: x[1])[0]


def _replace_words(tok: Token, words: list[Word]) -> None:
    """Put the new words into the token; token-level MISC moves between word and range line."""
    was_multi = tok.is_multiword
    token_misc = tok.misc
    tok.words = words
    if len(words) == 1:
        word = words[0]
        word.form = tok.form  # a single-word token's word is spelled as the token
        if was_multi:
            items = {**{k: v for k, v in parse_misc(word.misc).items() if k not in TOKEN_MISC_KEYS},
                     **parse_misc(tok.mwt_misc)}
            word.misc = format_misc(items)
            if word.feats == "_" and tok.mwt_feats != "_":
                word.feats = tok.mwt_feats
            tok.mwt_misc, tok.mwt_feats = "_", "_"
    elif not was_multi:
        items = parse_misc(token_misc)
        tok.mwt_misc = format_misc({k: v for k, v in items.items() if k in TOKEN_MISC_KEYS})
        for w in words:
            w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_MISC_KEYS})
