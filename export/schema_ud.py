"""The `ud` schema: the rows the Hugging Face `universal_dependencies` loader produces, so code written
for `load_dataset("universal_dependencies", "ar_padt")` runs unchanged on our corpus.

Source of the definition: huggingface/datasets, datasets/universal_dependencies/universal_dependencies.py
(`_info()` and `_generate_examples()`, UD 2.7 version). The loader reads each sentence with
`conllu.parse_incr` and makes one list entry per CoNLL-U LINE, not per syntactic word:
- a multi-word token contributes its range line (`1-2 وبانه`, lemma and upos "_", head "None") followed
  by its words; that is why "_" is one of its 18 UPOS names;
- an enhanced empty node (`8.1`) contributes a row too.
Values are what `str()` gives on conllu's parsed fields: FEATS/MISC as Python dict reprs
("{'Case': 'Nom'}"), DEPS as a list of (relation, head) tuples, "_" as "None" for FEATS/HEAD/DEPS/MISC,
XPOS "_" as null. We rebuild these from the CoNLL-U text we write, so the dataset equals what the loader
would make of our .conllu files (tests check it against the conllu package itself).
"""

from __future__ import annotations

import re

from datasets import ClassLabel, Features, List, Value

from mudawwana.corpus.conllu_io import format_sentence
from mudawwana.corpus.data_model import Sentence

# The loader's order (not alphabetical, not corpus.model.UPOS_TAGS' order): class ids must match it.
UD_UPOS_NAMES = ("NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ", "PROPN",
                 "PRON", "X", "_", "ADV", "INTJ", "VERB", "AUX")

_strings = List(Value("string"))
FEATURES = Features({
    "idx": Value("string"),
    "text": Value("string"),
    "tokens": _strings,
    "lemmas": _strings,
    "upos": List(ClassLabel(names=list(UD_UPOS_NAMES))),
    "xpos": _strings,
    "feats": _strings,
    "head": _strings,
    "deprel": _strings,
    "deps": _strings,
    "misc": _strings,
})

_UPOS = {tag: i for i, tag in enumerate(UD_UPOS_NAMES)}

# conllu's patterns (conllu/parser.py) for IDs and the DEPS column.
_ID = r"(?:0|[1-9][0-9]*)|[1-9][0-9]*\-[1-9][0-9]*|[0-9][0-9]*\.[1-9][0-9]*"
_DEP = rf"({_ID})(:[^\d:_\-|][^:|]*)+"
_DEPS = re.compile(rf"{_DEP}(\|{_DEP})*")
_INT = re.compile(r"0|-?[1-9][0-9]*")


def row(sentence: Sentence, fallback_idx: int) -> dict:
    """The loader's example for one sentence; `fallback_idx` is its running number when it has no sent_id."""
    lines = [line.split("\t") for line in format_sentence(sentence).split("\n")
             if line and not line.startswith("#")]
    forms = [cols[1] for cols in lines]
    text = sentence.get_meta("text")
    sent_id = sentence.sent_id
    return {
        "idx": str(sent_id if sent_id is not None else fallback_idx),
        "text": text if text is not None else " ".join(forms),
        "tokens": forms,
        "lemmas": [cols[2] for cols in lines],
        "upos": [_UPOS.get(cols[3], -1) for cols in lines],
        "xpos": [_nullable(cols[4]) for cols in lines],
        "feats": [str(_dict(cols[5])) for cols in lines],
        "head": [str(_head(cols[6])) for cols in lines],
        "deprel": [cols[7] for cols in lines],
        "deps": [str(_deps(cols[8])) for cols in lines],
        "misc": [str(_dict(cols[9])) for cols in lines],
    }


def _nullable(value: str) -> str | None:
    return None if not value or value == "_" else value


def _dict(value: str) -> dict | None:
    # As conllu.parser.parse_dict_value, quirks included (only the text up to a second "=" is kept).
    if _nullable(value) is None:
        return None
    return {part.split("=")[0]: _nullable(part.split("=")[1]) if "=" in part else ""
            for part in value.split("|") if _nullable(part.split("=")[0]) is not None}


def _head(value: str) -> int | str | None:
    if value == "_":
        return None
    return int(value) if _INT.fullmatch(value) else value


def _id(value: str) -> int | tuple:
    if "." in value:
        major, minor = value.split(".")
        return (int(major), ".", int(minor))
    if "-" in value:
        first, last = value.split("-")
        return (int(first), "-", int(last))
    return int(value)


def _deps(value: str) -> list | str | None:
    if _DEPS.fullmatch(value):
        return [(part.split(":", 1)[1], _id(part.split(":")[0])) for part in value.split("|")]
    return _nullable(value)
