"""Mapping step 3: the words of each written word: segmentation (mapping_segment), UPOS, lemma, features, XPOS,
and the tokens they are written in (mapping_tokens).

A word with the span of a predicted word *is* that word (the same object, every column kept, then corrected by
its region); any other is a new word. A new word with a region of its own takes that region's tag, lemma and
features; one made by a typed segmentation or an action (no region of its own) inherits them from the predicted
word whose place it takes (as corrected by that word's region), and a piece that takes no word's place gets the
tag its form suggests (CLITIC_UPOS, a pronoun suffix PRON, else X). Which predicted word each new one inherits
from is recorded for the heads (step 4) and the renumbering (step 5)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from mudawwana.corpus.clitics import PRONOUN_SUFFIXES, bare
from mudawwana.corpus.data_model import UPOS_TAGS, Word
from mudawwana.corpus.ud_values import feats as sorted_feats
from mudawwana.corpus.ud_values import squeeze

from .config import LEMMA, UPOS, XPOS, arabic_features, feature_control
from .mapping_common import MappingContext, Region, Span, WrittenWord
from .mapping_regions import AnnotationRegions, PlacedRegions, flat_values
from .mapping_segment import segment_written_word
from .mapping_tokens import rebuild_tokens
from .tasks import parse_feats, shown_features

# The UPOS a one-letter proclitic split off by an annotator gets (the commonest in UD Arabic-PADT/PUD).
CLITIC_UPOS = {"و": "CCONJ", "ف": "CCONJ", "ب": "ADP", "ل": "ADP", "ك": "ADP", "س": "PART"}


@dataclass
class Resegmentation:
    """How the predicted words became the annotated ones. Words are keyed by id(): new words have no id of
    their own yet."""
    region_word: dict[str, Word]  # region id -> the word it became (or ROOT); a stale region -> its word's heir
    heir: dict[int, Word] = field(default_factory=dict)  # predicted word id -> the word taking its place in the tree
    # id(word) -> [(predicted word, letters they share)], for every predicted word the word overlaps
    overlaps: dict[int, list[tuple[Word, int]]] = field(default_factory=dict)
    new: set[int] = field(default_factory=set)  # id() of the words the annotator created (merged or split)
    own_region: set[int] = field(default_factory=set)  # id() of the new words that have a region of their own
    # regions of predicted words that are words no more (a typed segmentation or an action changed them)
    stale: dict[str, Word] = field(default_factory=dict)

    def is_new(self, word: Word) -> bool:
        return id(word) in self.new


def resegment(ctx: MappingContext, written: list[WrittenWord], placed: PlacedRegions, regions: AnnotationRegions,
              region_word: dict[str, Word]) -> Resegmentation:
    """Every written word gets the words its annotation says, and tokens for them; `region_word` (holding the
    ROOT regions) learns the rest."""
    reseg = Resegmentation(region_word)
    sentence = ctx.sentence
    tokens = []
    for ww in written:
        old_tokens = [sentence.tokens[t] for t in ww.tokens]
        predicted_words = [w for tok in old_tokens for w in tok.words]
        pieces = _regions_by_span(placed.by_written.get(ww.index, []))
        spans = segment_written_word(ctx, ww, pieces, ww.index not in placed.unreadable,
                                     placed.seg_text.get(ww.index, []), placed.seg.get(ww.index, []))
        predicted_word = dict(zip(ww.predicted, predicted_words))
        words = [_build_word(ctx, sp, pieces.get(sp, []), predicted_word.get(sp), regions, reseg) for sp in spans]
        _record_heirs(ctx, predicted_words, ww.predicted, words, spans, reseg)
        for sp, old in predicted_word.items():
            if sp not in spans:  # a predicted word that is no more: its regions speak for its heir
                for r in pieces.get(sp, []):
                    if r.id is not None:
                        reseg.stale[r.id] = old
                        region_word[r.id] = reseg.heir[old.id]
        _fill_regionless(ctx, words, dict(zip(map(id, predicted_words), ww.predicted)), pieces, regions, reseg)
        if [id(w) for w in words] != [id(w) for w in predicted_words]:
            tokens.extend(rebuild_tokens(ctx, ww, old_tokens, words, spans))
        else:
            tokens.extend(old_tokens)
    sentence.tokens = tokens
    return reseg


def report_stray_values(ctx: MappingContext, regions: AnnotationRegions, region_word: dict[str, Word]) -> None:
    for control, by_region in regions.values.items():
        for rid in by_region:
            if rid not in region_word:
                what = "lemma" if control == LEMMA else control
                ctx.problem(f"{what} on a region that is not a word ignored", rid)


def _regions_by_span(regions: list[Region]) -> dict[Span, list[Region]]:
    """Regions grouped by span, spans in text order (two regions on one span are one word with two labels)."""
    pieces: dict[Span, list[Region]] = {}
    for r in sorted(regions, key=lambda r: (r.start, r.end)):
        pieces.setdefault((r.start, r.end), []).append(r)
    return pieces


def _build_word(ctx: MappingContext, span: Span, word_regions: list[Region], predicted: Word | None,
                regions: AnnotationRegions, reseg: Resegmentation) -> Word:
    """The word on `span`: the predicted word itself when there was one there, else a new one; corrected by its
    region (the first, when several)."""
    if len(word_regions) > 1:
        ctx.problem(f"two labels on one word {ctx.view.text[span[0]:span[1]]!r}; the first kept", word_regions[1].id)
    word = predicted or Word(0, ctx.view.letters(span))
    if predicted is None:
        reseg.new.add(id(word))
        if word_regions:
            reseg.own_region.add(id(word))
    if not word_regions:
        return word
    for r in word_regions:
        if r.id is not None:
            reseg.region_word[r.id] = word
    apply_region(ctx, word, word_regions[0], regions, is_new=predicted is None)
    return word


def apply_region(ctx: MappingContext, word: Word, region: Region, regions: AnnotationRegions, is_new: bool) -> None:
    """What the word's region says about it: UPOS (its label), lemma, features and XPOS (its per-region values)."""
    if ctx.control == UPOS:
        _label_upos(ctx, word, region, is_new)
    if "lemma" in ctx.layers:
        _type_lemma(ctx, word, region, regions.values.get(LEMMA, {}))
    if "feats" in ctx.layers:
        _choose_features(ctx, word, region, regions, is_new)
    if XPOS in ctx.layers:
        _type_xpos(ctx, word, region, regions.values.get(XPOS, {}))


def _label_upos(ctx: MappingContext, word: Word, region: Region, is_new: bool) -> None:
    labels = region.labels
    if len(labels) == 1 and labels[0] in UPOS_TAGS:
        word.upos = labels[0]
    elif len(labels) > 1:
        ctx.problem(f"two labels on one word {word.form!r}: {', '.join(labels)}", region.id)
    elif labels or word.upos != "_" or is_new:
        # The prediction shows a word tagged "_" as a region without a label: left so, it is no problem.
        ctx.problem(f"word {word.form!r} has no valid UPOS label: {labels}", region.id)


def _one_text(ctx: MappingContext, word: Word, region: Region, by_region: dict, what: str) -> str | None:
    texts = [t for t in flat_values(by_region.get(region.id)) if isinstance(t, str) and t.strip()]
    if len(texts) > 1:
        ctx.problem(f"several {what}s for word {word.form!r}: {texts}", region.id)
    return squeeze(texts[0]) if len(texts) == 1 else None


def _type_lemma(ctx: MappingContext, word: Word, region: Region, lemmas: dict) -> None:
    # No lemma typed (or a cleared box): a kept word keeps its lemma, a new word gets "_". A cleared box is
    # never read as a correction.
    lemma = _one_text(ctx, word, region, lemmas, "lemma")
    if lemma is not None:
        word.lemma = lemma


def _type_xpos(ctx: MappingContext, word: Word, region: Region, values: dict) -> None:
    xpos = _one_text(ctx, word, region, values, "XPOS")
    if xpos is not None:
        word.xpos = xpos


def _choose_features(ctx: MappingContext, word: Word, region: Region, regions: AnnotationRegions,
                     is_new: bool) -> None:
    """FEATS from the feature controls: a value chosen sets the feature, a value that was prefilled and is gone
    removes it; features the controls cannot show (not permitted for Arabic, several values) stay as they were.
    An unchanged word keeps its FEATS string as it was; a changed one is written sorted as UD requires."""
    before = parse_feats(word.feats)
    after = dict(before)
    shown = {} if is_new else shown_features(word.feats)
    for feature, (values, _) in arabic_features().items():
        got = [v for v in flat_values(regions.values.get(feature_control(feature), {}).get(region.id))
               if isinstance(v, str)]
        if len(got) > 1:
            ctx.problem(f"word {word.form!r}: several values for {feature}: {', '.join(got)}", region.id)
        elif got and got[0] not in values:
            ctx.problem(f"word {word.form!r}: {feature}={got[0]} is not a value UD permits for Arabic", region.id)
        elif got:
            after[feature] = got[0]
        elif feature in shown:
            after.pop(feature, None)
    if after != before:
        word.feats = sorted_feats("|".join(f"{k}={v}" for k, v in after.items()))[0] if after else "_"


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


def _fill_regionless(ctx: MappingContext, words: list[Word], spans_of: dict[int, Span],
                     pieces: dict[Span, list[Region]], regions: AnnotationRegions, reseg: Resegmentation) -> None:
    """New words without a region of their own (typed or made by an action): the tag, and the lemma, features and
    XPOS the annotator could see, of the predicted word whose place each takes, as that word's region corrected
    them; a piece that takes no word's place gets the tag its form suggests."""
    for i, word in enumerate(words):
        if not reseg.is_new(word) or id(word) in reseg.own_region:
            continue
        hosts = [(old, n) for old, n in reseg.overlaps.get(id(word), []) if reseg.heir[old.id] is word]
        if not hosts:
            word.upos = _guess_upos(word.form, first=i == 0, last=i == len(words) - 1)
            continue
        host = max(hosts, key=lambda x: x[1])[0]
        corrected = copy.copy(host)
        host_regions = pieces.get(spans_of[id(host)], [])
        if host_regions:
            apply_region(ctx, corrected, host_regions[0], regions, is_new=False)
        word.upos = corrected.upos if corrected.upos != "_" else _guess_upos(word.form, i == 0, i == len(words) - 1)
        if "lemma" in ctx.layers:
            word.lemma = corrected.lemma
        if "feats" in ctx.layers:
            word.feats = corrected.feats
        if XPOS in ctx.layers:
            word.xpos = corrected.xpos


def _guess_upos(form: str, first: bool, last: bool) -> str:
    letters = bare(form)
    if last and not first and letters in PRONOUN_SUFFIXES:
        return "PRON"
    if first and letters in CLITIC_UPOS:
        return CLITIC_UPOS[letters]
    return "X"
