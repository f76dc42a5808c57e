"""The export's train/validation/test assignment: corpus/splits.py's document hash split (shared with
`mudawwana retrain`, whose held-out corrections are exactly the export's test documents), plus the UD file
names of the splits and the export's own error for bad ratios.
"""

from __future__ import annotations

from mudawwana.corpus.errors import InputError
from mudawwana.corpus.splits import (DEFAULT_RATIOS, SPLITS, document_key, split_of, split_sentences,
                                     unit_interval)
from mudawwana.corpus.splits import parse_ratios as _parse_ratios

from .errors import ExportError

# UD file naming uses "dev" where Hugging Face uses "validation".
CONLLU_SPLIT = {"train": "train", "validation": "dev", "test": "test"}


def parse_ratios(value: str | tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """`"0.8,0.1,0.1"` -> (0.8, 0.1, 0.1); three non-negative numbers summing to 1 (else an ExportError)."""
    try:
        return _parse_ratios(value)
    except InputError as e:
        raise ExportError(str(e)) from None


__all__ = ["SPLITS", "CONLLU_SPLIT", "DEFAULT_RATIOS", "parse_ratios", "document_key", "unit_interval",
           "split_of", "split_sentences"]
