"""Export stage: corrected CoNLL-U -> Hugging Face dataset (save_to_disk + Parquet), CoNLL-U splits, card.

Library entry points: `export_corpus` (local export) and `push_export` (upload to the Hub).
"""

from .api import SCHEMAS, ExportResult, conllu_file_name, export_corpus
from .errors import ExportError, HubPushError, InvalidSentencesError
from .hub import push_export
from .splits import DEFAULT_RATIOS, SPLITS

__all__ = ["DEFAULT_RATIOS", "SCHEMAS", "SPLITS", "ExportError", "ExportResult", "HubPushError",
           "InvalidSentencesError", "conllu_file_name", "export_corpus", "push_export"]
