"""Annotation metadata of a sentence, read from its comment lines (the keys corpus.model defines)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mudawwana.corpus.data_model import (META_AGREEMENT, META_ANNOTATORS, META_MODEL_VERSION, META_STATUS, META_TEXT_NORM,
                          Sentence)


@dataclass(frozen=True)
class AnnotationMeta:
    status: str | None
    annotators: tuple[str, ...]  # pseudonymous ids, as the annotate stage wrote them
    model_version: str | None
    agreement: float | None
    agreement_raw: str | None  # kept so an unparsable value can be reported, not silently dropped
    normalized: bool  # the tagger saw a normalized text (`# text_norm`) different from `# text`

    @property
    def agreement_invalid(self) -> bool:
        return self.agreement_raw is not None and self.agreement is None


def annotation_meta(sentence: Sentence) -> AnnotationMeta:
    annotators = sentence.get_meta(META_ANNOTATORS) or ""
    raw = sentence.get_meta(META_AGREEMENT)
    if raw is not None and raw.strip() in _ABSENT:
        raw = None
    return AnnotationMeta(
        status=sentence.get_meta(META_STATUS) or None,
        annotators=tuple(a.strip() for a in annotators.split(",") if a.strip()),
        model_version=sentence.get_meta(META_MODEL_VERSION) or None,
        agreement=_float(raw),
        agreement_raw=raw,
        normalized=sentence.get_meta(META_TEXT_NORM) not in (None, "", sentence.text),
    )


_ABSENT = ("", "_", "None")


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
