"""The `ud` schema: the rows the Hugging Face `universal_dependencies` loader produces, so code written
for `load_dataset("universal_dependencies", "ar_padt")` runs unchanged on our corpus.

Source of the definition: huggingface/datasets, datasets/universal_dependencies/universal_dependencies.py
(`_info()` and `_generate_examples()`, UD 2.7 version). The loader reads each file with
`conllu.parse_incr` and makes one list entry per CoNLL-U LINE, not per syntactic word:
- a multi-word token contributes its range line (`1-2 وبانه`, lemma and upos "_", head "None") followed
  by its words; that is why "_" is one of its 18 UPOS names;
- an enhanced empty node (`8.1`) contributes a row too.
Values are `str()` of conllu's parsed fields: FEATS/MISC as Python dict reprs ("{'Case': 'Nom'}"), DEPS
as a list of (relation, head) tuples, "_" as "None" for FEATS/HEAD/DEPS/MISC, XPOS "_" as null.

We do the same: each sentence's CoNLL-U text, exactly as it is written to the split's file, goes through
`conllu.parse_incr` and the loader's own field mapping (`_loader_example`), so the dataset is what the
loader makes of our .conllu files (tests check it against the files). The one difference: a label outside
the 18 UPOS names (only possible with --allow-invalid) is stored as -1, where the loader would fail. A
sentence conllu cannot parse at all raises LoaderCannotRead (the export reports it as invalid).
"""

from __future__ import annotations

import io

import conllu
from conllu.exceptions import ParseException
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


class LoaderCannotRead(ValueError):
    """conllu, hence the loader, rejects the sentence (e.g. an empty node `8.0`): it has no ud row."""


def row(sentence: Sentence, fallback_idx: int, conllu_text: str | None = None) -> dict:
    """The loader's example for one sentence, UPOS encoded as class ids.

    `fallback_idx` is the sentence's position in its split's file (the loader's idx when there is no
    sent_id); `conllu_text` is the sentence as written to that file, when the caller already has it.
    """
    text = format_sentence(sentence) if conllu_text is None else conllu_text
    try:
        (parsed,) = conllu.parse_incr(io.StringIO(text))
    except ParseException as e:
        raise LoaderCannotRead(f"the universal_dependencies loader cannot read it (conllu: {e})") from None
    example = _loader_example(parsed, fallback_idx)
    example["upos"] = [_UPOS.get(tag, -1) for tag in example["upos"]]
    return example


def _loader_example(sent: conllu.TokenList, id: int) -> dict:
    """The body of the loader's `_generate_examples` loop for one parsed sentence (UPOS still names)."""
    idx = sent.metadata["sent_id"] if "sent_id" in sent.metadata else id
    tokens = [token["form"] for token in sent]
    txt = sent.metadata["text"] if "text" in sent.metadata else " ".join(tokens)
    return {
        "idx": str(idx),
        "text": txt,
        "tokens": tokens,
        "lemmas": [token["lemma"] for token in sent],
        "upos": [token["upos"] for token in sent],
        "xpos": [token["xpos"] for token in sent],
        "feats": [str(token["feats"]) for token in sent],
        "head": [str(token["head"]) for token in sent],
        "deprel": [str(token["deprel"]) for token in sent],
        "deps": [str(token["deps"]) for token in sent],
        "misc": [str(token["misc"]) for token in sent],
    }
