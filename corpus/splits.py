"""Deterministic train/validation/test assignment by document: the one split export and retrain share.

A document goes wholly into one split, so no document leaks between train and test. Its split depends only
on its own key: sha256(key) read as a number in [0, 1) is compared against the cumulative ratios. Adding
or removing other documents therefore never moves it, and reruns agree (Python's `hash()` is salted per
process, so it is not used). That is what makes `mudawwana retrain` rounds comparable: a test document of the
dataset export is never trained on, in any round.

The key of a sentence, in order of preference:
1. its document id (`# newdoc id = ...`, carried by the reader to the following sentences);
2. else the prefix of its `sent_id` before the last "-", ":", "#" or "/" (UD habits: `doc-0001`,
   `afp.2000.0075:p1u1`), so sentences of one unmarked document still stay together;
3. else the whole `sent_id` (e.g. `n01001011`);
4. else (no id at all, which the validator rejects anyway) the sentence text.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

from .data_model import Sentence
from .errors import InputError

SPLITS = ("train", "validation", "test")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)

_SENT_ID_SEPARATOR = re.compile(r"^(.+)[-:#/][^-:#/]*$")


def parse_ratios(value: str | tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """`"0.8,0.1,0.1"` -> (0.8, 0.1, 0.1); three non-negative numbers summing to 1 (else an InputError)."""
    if isinstance(value, str):
        try:
            parts = tuple(float(p) for p in value.split(","))
        except ValueError:
            raise InputError(f"--split-ratios {value!r}: give three numbers like 0.8,0.1,0.1") from None
    else:
        parts = tuple(float(p) for p in value)
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise InputError(f"split ratios {value!r}: need three non-negative numbers (train, validation, "
                         "test) that sum to 1, e.g. 0.8,0.1,0.1")
    return parts  # type: ignore[return-value]


def document_key(sentence: Sentence) -> str:
    """The key that decides the sentence's split (see the module docstring for the rule)."""
    if sentence.doc_id:
        return sentence.doc_id
    sent_id = sentence.sent_id
    if sent_id:
        m = _SENT_ID_SEPARATOR.match(sent_id)
        return m.group(1) if m else sent_id
    return sentence.text


def unit_interval(key: str) -> float:
    """sha256 of the key as a float in [0, 1): 64 bits are plenty and every platform agrees."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(key: str, ratios: tuple[float, float, float] = DEFAULT_RATIOS) -> str:
    u = unit_interval(key)
    cumulative = 0.0
    for split, ratio in zip(SPLITS, ratios):
        cumulative += ratio
        if u < cumulative:
            return split
    # Rounding: the sum may end just below 1.0; give the remainder to the last split that takes any.
    return next(s for s, r in zip(reversed(SPLITS), reversed(ratios)) if r > 0)


def split_sentences(sentences: Iterable[Sentence],
                    ratios: tuple[float, float, float] = DEFAULT_RATIOS) -> dict[str, list[Sentence]]:
    """{split: its sentences, in input order} for every split name (empty lists included)."""
    out: dict[str, list[Sentence]] = {s: [] for s in SPLITS}
    for sentence in sentences:
        out[split_of(document_key(sentence), ratios)].append(sentence)
    return out
