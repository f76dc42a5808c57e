"""The `mudawwana` schema: one row per sentence, tokens and syntactic words as lists of structs.

`datasets.List({...})` (datasets >= 4) keeps a list of dicts as a list of structs in Arrow and gives back a
list of dicts; the old `Sequence({...})` turns it into a dict of lists, which loses the row-per-word shape.

CoNLL-U columns stay the strings of the file ("_" when empty) so nothing is lost; only UPOS, the NER
tags and entity labels are ClassLabels. A label outside the class list (only possible with
--allow-invalid) is stored as -1, the datasets convention for "no label".
"""

from __future__ import annotations

from datasets import ClassLabel, Features, List, Value

from mudawwana.corpus.data_model import NER_LABELS, NER_MISC_KEY, UPOS_TAGS, Sentence, parse_misc

from .metadata import annotation_meta

NER_TAGS = ("O",) + tuple(f"{prefix}-{label}" for label in NER_LABELS for prefix in ("B", "I"))

_string = Value("string")
_int = Value("int32")

FEATURES = Features({
    "sent_id": _string,
    "doc_id": _string,
    "text": _string,
    # Character offsets [start, end) into `text`; null where the form could not be aligned with the text.
    "tokens": List({"form": _string, "start": _int, "end": _int}),
    "words": List({
        "id": _int, "form": _string, "lemma": _string, "upos": ClassLabel(names=list(UPOS_TAGS)),
        "xpos": _string, "feats": _string, "head": _int, "deprel": _string, "deps": _string,
        "misc": _string,
        "token": _int,  # index into `tokens` of the surface token holding this word
        "start": _int, "end": _int,
    }),
    # Entities over tokens [start_token, end_token); `ner_tags` is the same information as BIO per token.
    "entities": List({"start_token": _int, "end_token": _int, "label": ClassLabel(names=list(NER_LABELS))}),
    "ner_tags": List(ClassLabel(names=list(NER_TAGS))),
    "annotation_status": _string,
    "annotators": List(_string),
    "num_annotators": _int,
    "model_version": _string,
    "agreement": Value("float64"),
})

_UPOS = {tag: i for i, tag in enumerate(UPOS_TAGS)}
_LABEL = {label: i for i, label in enumerate(NER_LABELS)}
_TAG = {tag: i for i, tag in enumerate(NER_TAGS)}


def ner_tag(token_misc: str) -> str:
    return parse_misc(token_misc).get(NER_MISC_KEY, "O")


def row(sentence: Sentence) -> dict:
    """The encoded example (ClassLabels as ints) for ArrowWriter."""
    meta = annotation_meta(sentence)
    return {
        "sent_id": sentence.sent_id,
        "doc_id": sentence.doc_id,
        "text": sentence.text,
        "tokens": [{"form": t.form, "start": t.start, "end": t.end} for t in sentence.tokens],
        "words": [
            {"id": w.id, "form": w.form, "lemma": w.lemma, "upos": _UPOS.get(w.upos, -1), "xpos": w.xpos,
             "feats": w.feats, "head": w.head, "deprel": w.deprel, "deps": w.deps, "misc": w.misc,
             "token": i, "start": w.start, "end": w.end}
            for i, _, w in sentence.iter_words()
        ],
        "entities": [{"start_token": e.start_token, "end_token": e.end_token, "label": _LABEL.get(e.label, -1)}
                     for e in sentence.entities],
        "ner_tags": [_TAG.get(ner_tag(t.misc), -1) for t in sentence.tokens],
        "annotation_status": meta.status,
        "annotators": list(meta.annotators),
        "num_annotators": len(meta.annotators),
        "model_version": meta.model_version,
        "agreement": meta.agreement,
    }
