"""Corpus stage: read Arabic text, normalize it (offsets kept), tag it with stanza, read and write CoNLL-U.

The public API, the way `conllu` names its own: the data model (`Document` -> `Sentence` -> `Token` ->
`Word`), CoNLL-U I/O (`read_conllu` streams, `parse_conllu`, `format_sentence`, `write_conllu`),
normalization (`normalize_text`, `NormalizationOptions`), input readers (`read_documents`, `ReaderOptions`),
tagging (`tag_files`, `load_pipeline`; `write_stanza_resources` serves a model set the way stanza's
download code expects), UD validity (`make_valid` makes a model's values valid, `UDValidator`
checks sentences as `udvalidate --lang ar --level 2` does), training (`train_models`) and the bundled sample
(`SAMPLE_CONLLU`).
Names load on first use, so importing the package stays cheap. A function is never exported under its
module's name (`normalize_text`, not `normalize`): importing the submodule would replace it with the module.
"""

from ._lazy import lazy_exports

_EXPORTS = {
    "Document": "data_model", "Sentence": "data_model", "Token": "data_model", "Word": "data_model",
    "Entity": "data_model", "EmptyNode": "data_model", "UPOS_TAGS": "data_model", "NER_LABELS": "data_model",
    "read_conllu": "conllu_io", "parse_conllu": "conllu_io", "format_sentence": "conllu_io",
    "write_conllu": "conllu_io", "ConlluError": "conllu_io",
    "normalize_text": "normalize", "NormalizationOptions": "normalize", "NormalizedText": "normalize",
    "read_documents": "readers", "ReaderOptions": "readers",
    "tag_files": "tag_job", "TagReport": "tag_job",
    "make_valid": "ud_values",
    "UDValidator": "ud_validator", "UDProblem": "ud_validator", "InvalidConlluError": "ud_validator",
    "validate_sentence": "ud_validator", "validate_conllu_text": "ud_validator",
    "load_pipeline": "stanza_models", "ModelInfo": "stanza_models",
    "write_stanza_resources": "stanza_resources",
    "train_models": "train",
    "to_multiword_tokens": "clitics", "to_glued_tokens": "clitics", "convert_clitics": "clitics",
    "CliticsReport": "clitics",
    "SAMPLE_CONLLU": "sample",
    "MudawwanaError": "errors", "InputError": "errors", "ModelNotFoundError": "errors",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

