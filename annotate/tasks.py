"""Sentence -> Label Studio task: the data the two views show plus a prediction with one region per word.

Label Studio is only a view: the task keeps the sentence's full CoNLL-U (`conllu`), the source of truth for what
the interface does not show (enhanced deps, misc, features it cannot show), and annotate/mapping.py rebuilds the
corrected sentence from it and the annotation. Region ids `w<word id>` are the join key (they survive Submit:
docs/label-studio.md); a word's per-region values (lemma, segmentation, features, XPOS) share its region's id.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from label_studio_sdk.label_interface import LabelInterface

from mudawwana.corpus.conllu_io import format_sentence
from mudawwana.corpus.data_model import Sentence

from .config import (DEFAULT_LAYERS, LEMMA, NER, ROOT, ROOT_LABEL, SEG_JOINER, SEG_TEXT, TEXT, WORD_LABEL, WORDS,
                     XPOS, XPOS_SHOWN, arabic_features, check_layers, feature_control, word_control)

MWT_JOINER = "+"      # between the words of one multi-word token: و+ب+أن+ه
TOKEN_GAP = " · "     # between tokens with whitespace between them in the original text
GLUED_GAP = " "       # between tokens written together in the original (SpaceAfter=No: ل أوباما)
ROOT_TEXT = "ROOT"    # pseudo-word w0 (deps layer only): the head of the sentence's root


@dataclass(frozen=True)
class WordSpan:
    """A word's place in the `words` display text (code points). token == -1 for the ROOT pseudo-word."""

    word_id: int
    start: int
    end: int
    token: int


def display_words(sentence: Sentence, *, root: bool = False) -> tuple[str, list[WordSpan]]:
    """The `words` view text and every word's span in it (see the module constants for the separators)."""
    parts: list[str] = []
    spans: list[WordSpan] = []
    pos = 0

    def add(text: str) -> None:
        nonlocal pos
        parts.append(text)
        pos += len(text)

    if root:
        spans.append(WordSpan(0, 0, len(ROOT_TEXT), -1))
        add(ROOT_TEXT)
    for ti, tok in enumerate(sentence.tokens):
        if pos:
            prev = sentence.tokens[ti - 1] if ti else None
            add(GLUED_GAP if prev is not None and not prev.space_after else TOKEN_GAP)
        for wi, word in enumerate(tok.words):
            if wi:
                add(MWT_JOINER)
            spans.append(WordSpan(word.id, pos, pos + len(word.form), ti))
            add(word.form)
    return "".join(parts), spans


def written_word_forms(sentence: Sentence) -> list[str]:
    """Per word, the segmentation of the written word it belongs to (a maximal run of the text without
    whitespace: tokens written together, each with its words) as the `segmentation` box shows it: و+قع."""
    out: list[str] = []
    group: list = []
    for ti, tok in enumerate(sentence.tokens):
        group.extend(tok.words)
        if tok.space_after or ti == len(sentence.tokens) - 1:
            form = SEG_JOINER.join(w.form for w in group)
            out.extend([form] * len(group))
            group = []
    return out


def parse_feats(feats: str) -> dict[str, str]:
    """`Case=Gen|Number=Sing` -> {"Case": "Gen", "Number": "Sing"} (order kept; "_" -> {})."""
    if not feats or feats == "_":
        return {}
    return dict(item.partition("=")[::2] for item in feats.split("|"))


def shown_features(feats: str) -> dict[str, str]:
    """The features of a FEATS value that the feats layer shows (and prefills): those UD permits for Arabic with
    one permitted value. Any other (a multi-value, a feature of another language) is kept as it is."""
    allowed = arabic_features()
    return {k: v for k, v in parse_feats(feats).items() if k in allowed and v in allowed[k][0]}


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --- offsets: Label Studio counts UTF-16 code units, Python code points (identical unless astral characters) --

_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def to_js(text: str, i: int) -> int:
    """Code-point offset -> UTF-16 offset in `text`."""
    if not _ASTRAL.search(text, 0, i):  # the usual case (Arabic, Latin): both count the same
        return i
    return i + sum(1 for c in text[:i] if ord(c) > 0xFFFF)


def from_js(text: str, j: int) -> int | None:
    """UTF-16 offset -> code-point offset; None when `j` falls inside a surrogate pair or outside the text."""
    if not _ASTRAL.search(text):
        return j if 0 <= j <= len(text) else None
    units = 0
    for i, c in enumerate(text):
        if units == j:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
        if units > j:
            return None
    return len(text) if units == j else None


# --- the task -----------------------------------------------------------------------------------------------

def sentence_to_task(sentence: Sentence, *, layers: Sequence[str] = DEFAULT_LAYERS, model_version: str,
                     score: float | None = None) -> dict:
    """A Label Studio task for one sentence: `{"data": {...}, "predictions": [{...}]}`.

    data: sent_id, doc_id, text (original sentence), words (display text), word_spans ([[word id, start, end,
    token index], ...] in code points into `words`, ROOT first as [0, 0, 4, -1] with deps), conllu, text_sha1,
    model_version, layers. The prediction has one region per word (id `w<id>`) with its UPOS and lemma,
    head -> dependent relations when deps is a layer, and entity spans over `text`.
    """
    layers = check_layers(layers)
    words, spans = display_words(sentence, root="deps" in layers)
    data = {
        "sent_id": sentence.sent_id,
        "doc_id": sentence.doc_id,
        "text": sentence.text,
        "words": words,
        "word_spans": [[s.word_id, s.start, s.end, s.token] for s in spans],
        "conllu": format_sentence(sentence),
        "text_sha1": text_sha1(sentence.text),
        "model_version": model_version,
        "layers": list(layers),
    }
    prediction: dict = {"model_version": model_version}
    if score is not None:
        prediction["score"] = score
    prediction["result"] = prediction_result(sentence, layers, words, spans)
    return {"data": data, "predictions": [prediction]}


def _span_value(text: str, start: int, end: int) -> dict:
    return {"start": to_js(text, start), "end": to_js(text, end), "text": text[start:end]}


def prediction_result(sentence: Sentence, layers: Sequence[str], words: str, spans: list[WordSpan]) -> list[dict]:
    """The prediction's regions and relations, in the JSON Label Studio stores.

    Built as plain dicts, not through the SDK's `control.label()`: that costs ~35 us a region (20 s per 10k
    sentences) and drops start/end from per-region TextArea values. validate_task() checks the result with
    the SDK's LabelInterface instead.
    """
    layers = check_layers(layers)
    control = word_control(layers)
    by_id = {w.id: w for w in sentence.words}
    segmentation = dict(zip((w.id for w in sentence.words), written_word_forms(sentence)))
    result: list[dict] = []
    root_region: dict = {}
    if control:
        for span in spans:
            value = _span_value(words, span.start, span.end)
            if span.word_id == 0:
                root_region = {"id": "w0", "from_name": ROOT, "to_name": WORDS, "type": "labels",
                               "value": {**value, "labels": [ROOT_LABEL]}}
                continue
            word = by_id[span.word_id]
            label = word.upos if control == "upos" else WORD_LABEL
            # A word without a tag still gets its region, with no label (the mapping gives back "_").
            result.append({"id": f"w{word.id}", "from_name": control, "to_name": WORDS, "type": "labels",
                           "value": {**value, "labels": [] if label == "_" else [label]}})
            # Per-region values: same id as the word region; Label Studio stores the span with each.
            at = {"start": value["start"], "end": value["end"]}
            if "lemma" in layers:
                result.append(_per_region(word.id, LEMMA, "textarea", {**at, "text": [word.lemma]}))
            if "seg" in layers:
                result.append(_per_region(word.id, SEG_TEXT, "textarea", {**at, "text": [segmentation[word.id]]}))
            if "xpos" in layers or "feats" in layers:
                name = XPOS if "xpos" in layers else XPOS_SHOWN
                result.append(_per_region(word.id, name, "textarea", {**at, "text": [word.xpos]}))
            if "feats" in layers:
                for feature, v in shown_features(word.feats).items():
                    result.append(_per_region(word.id, feature_control(feature), "choices", {**at, "choices": [v]}))
    if "deps" in layers:
        # ROOT goes last: the editor numbers regions in result order, so word n shows as "n:TAG".
        result.append(root_region)
        for w in sentence.words:
            if w.head is not None:  # head -> dependent; the root hangs from the ROOT pseudo-word w0
                result.append({"type": "relation", "from_id": f"w{w.head}", "to_id": f"w{w.id}",
                               "direction": "right", "labels": [w.deprel]})
    if "ner" in layers:
        tokens, text = sentence.tokens, sentence.text
        for ent in sentence.entities:
            first, last = tokens[ent.start_token], tokens[ent.end_token - 1]
            if first.start is None or last.end is None:
                continue  # tokens not found in the text: not shown, and kept as they are by the mapping
            result.append({"id": f"n{ent.start_token}", "from_name": NER, "to_name": TEXT, "type": "labels",
                           "value": {**_span_value(text, first.start, last.end), "labels": [ent.label]}})
    return result


def _per_region(word_id: int, control: str, kind: str, value: dict) -> dict:
    return {"id": f"w{word_id}", "from_name": control, "to_name": WORDS, "type": kind, "value": value}


@lru_cache(maxsize=16)
def _interface(config: str) -> tuple[LabelInterface, frozenset[str]]:
    # The SDK skips <Relations> (it has no name): read the relation labels ourselves.
    relations = ET.fromstring(config).iter("Relation")
    return LabelInterface(config), frozenset(r.get("value") for r in relations)


def validate_task(config: str, task: dict) -> list[str]:
    """Client-side check of a task against a config (the server only logs invalid predictions): the SDK's
    prediction validation plus what it does not check (data keys, offsets, relation labels, the sentence a
    prediction carries)."""
    from .prediction_sentence import base_task_data, carried_conllu, strip

    li, relation_labels = _interface(config)
    errors: list[str] = []
    data = task.get("data", {})
    for obj in li.objects:
        if obj.value_is_variable and not isinstance(data.get(obj.value_name), str):
            errors.append(f"data has no text for ${obj.value_name}")
    for p, prediction in enumerate(task.get("predictions", [])):
        carried = carried_conllu(prediction.get("result"))
        if carried is not None:  # the sentence it was tagged as (annotate/prediction_sentence.py): not a control's
            prediction = {**prediction, "result": strip(prediction["result"])}
            if carried != data.get("conllu") and base_task_data(data, carried) is data:
                errors.append(f"prediction {p}: the sentence it carries is not one of the task's words view")
        for err in li.validate_prediction(prediction, return_errors=True):
            # the SDK appends a relation's error list as one item
            errors.extend(f"prediction {p}: {e}" for e in (err if isinstance(err, list) else [err]))
        for i, item in enumerate(prediction.get("result", [])):
            if item.get("type") == "relation":
                bad = [x for x in item.get("labels", []) if x not in relation_labels]
                if bad:
                    errors.append(f"prediction {p}: relation {i}: labels {bad} not in the config")
                continue
            value, obj = item.get("value", {}), data.get(item.get("to_name"))
            if isinstance(obj, str) and "start" in value and isinstance(value.get("text"), str):
                start, end = from_js(obj, value["start"]), from_js(obj, value["end"])
                if start is None or end is None or obj[start:end] != value["text"]:
                    errors.append(f"prediction {p}: region {item.get('id')}: offsets {value['start']}-"
                                  f"{value['end']} do not select {value['text']!r} in ${item.get('to_name')}")
    return errors
