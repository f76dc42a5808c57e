"""Export stage: corrected CoNLL-U -> Hugging Face dataset (save_to_disk + Parquet), CoNLL-U splits, card.

`export_corpus` writes a local export; `push_export` uploads one to the Hub. Names load on first use
(`datasets` is not imported until needed).
"""

from mudawwana.corpus._lazy import lazy_exports

_EXPORTS = {
    "export_corpus": "export_job", "ExportResult": "export_job", "SCHEMAS": "export_job",
    "conllu_file_name": "export_job",
    "push_export": "hub",
    "ExportError": "errors", "HubPushError": "errors", "InvalidSentencesError": "errors",
    "DEFAULT_RATIOS": "splits", "SPLITS": "splits",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
