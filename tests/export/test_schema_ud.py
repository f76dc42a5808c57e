"""--schema ud gives exactly the Hugging Face `universal_dependencies` loader's features and rows."""

from __future__ import annotations

import conllu
import datasets
import pytest

from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.export.errors import ExportError, InvalidSentencesError
from mudawwana.export.export_job import export_corpus
from mudawwana.export.schema_ud import FEATURES, LoaderCannotRead, row

# Copied from the loader, huggingface/datasets, datasets/universal_dependencies/universal_dependencies.py,
# `UniversalDependencies._info()` (commit aae79170c1e65032d576b8f56a7b398604a76ec8, UD 2.7). Do not
# "fix" the UPOS order: class ids must be the loader's.
LOADER_FEATURES = datasets.Features(
    {
        "idx": datasets.Value("string"),
        "text": datasets.Value("string"),
        "tokens": datasets.Sequence(datasets.Value("string")),
        "lemmas": datasets.Sequence(datasets.Value("string")),
        "upos": datasets.Sequence(
            datasets.features.ClassLabel(
                names=[
                    "NOUN",
                    "PUNCT",
                    "ADP",
                    "NUM",
                    "SYM",
                    "SCONJ",
                    "ADJ",
                    "PART",
                    "DET",
                    "CCONJ",
                    "PROPN",
                    "PRON",
                    "X",
                    "_",
                    "ADV",
                    "INTJ",
                    "VERB",
                    "AUX",
                ]
            )
        ),
        "xpos": datasets.Sequence(datasets.Value("string")),
        "feats": datasets.Sequence(datasets.Value("string")),
        "head": datasets.Sequence(datasets.Value("string")),
        "deprel": datasets.Sequence(datasets.Value("string")),
        "deps": datasets.Sequence(datasets.Value("string")),
        "misc": datasets.Sequence(datasets.Value("string")),
    }
)

MWT_SENTENCE = """# sent_id = mwt-1
# text = وبه كتاب
1-3\tوبه\t_\t_\t_\t_\t_\t_\t_\t_
1\tو\tوَ\tCCONJ\tC---------\t_\t4\tcc\t4:cc\t_
2\tب\tبِ\tADP\tP---------\tAdpType=Prep\t3\tcase\t3:case\t_
3\tه\tهُوَ\tPRON\tSP---3MS2-\tCase=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs\t4\tnmod\t4:nmod\t_
4\tكتاب\tكِتَاب\tNOUN\tN------S1I\tCase=Nom|Definite=Ind|Number=Sing\t0\troot\t0:root\tSpaceAfter=No

"""


def test_features_equal_the_loaders():
    assert FEATURES == LOADER_FEATURES
    assert FEATURES.to_dict() == LOADER_FEATURES.to_dict()


def test_exported_ud_dataset_has_the_loader_features(exported_ud):
    out, _ = exported_ud
    for split in datasets.load_from_disk(str(out)).values():
        assert split.features == LOADER_FEATURES


def _loader_rows(path):
    """What the loader's `_generate_examples` yields for one file (its code, minus the download)."""
    rows = []
    with open(path, encoding="utf-8") as data_file:
        for id, sent in enumerate(conllu.parse_incr(data_file)):
            idx = sent.metadata["sent_id"] if "sent_id" in sent.metadata else id
            tokens = [token["form"] for token in sent]
            txt = sent.metadata["text"] if "text" in sent.metadata else " ".join(tokens)
            rows.append({
                "idx": str(idx), "text": txt, "tokens": tokens,
                "lemmas": [token["lemma"] for token in sent], "upos": [token["upos"] for token in sent],
                "xpos": [token["xpos"] for token in sent], "feats": [str(token["feats"]) for token in sent],
                "head": [str(token["head"]) for token in sent], "deprel": [str(token["deprel"]) for token in sent],
                "deps": [str(token["deps"]) for token in sent], "misc": [str(token["misc"]) for token in sent],
            })
    return rows


def test_rows_equal_what_the_loader_makes_of_the_conllu(exported_ud):
    out, result = exported_ud
    dataset_dict = datasets.load_from_disk(str(out))
    names = LOADER_FEATURES["upos"].feature.names
    for split in result.splits:
        conllu_name = {"train": "train", "validation": "dev", "test": "test"}[split]
        expected = _loader_rows(out / f"ar_{result.name}-ud-{conllu_name}.conllu")
        got = [dict(r, upos=[names[u] for u in r["upos"]]) for r in dataset_dict[split]]
        assert got == expected


def test_multiword_token_is_its_range_line_then_its_words(tmp_path):
    sentence = parse_conllu(MWT_SENTENCE)[0]
    r = row(sentence, 0)
    assert r["tokens"] == ["وبه", "و", "ب", "ه", "كتاب"]
    assert [LOADER_FEATURES["upos"].feature.names[u] for u in r["upos"]] == ["_", "CCONJ", "ADP", "PRON", "NOUN"]
    assert r["head"] == ["None", "4", "3", "4", "0"]
    assert r["deps"][0] == "None" and r["deps"][4] == "[('root', 0)]"
    assert r["misc"] == ["None", "None", "None", "None", "{'SpaceAfter': 'No'}"]
    assert r["xpos"][0] is None
    path = tmp_path / "mwt.conllu"
    path.write_text(MWT_SENTENCE, encoding="utf-8")
    expected = _loader_rows(path)[0]
    assert dict(r, upos=[LOADER_FEATURES["upos"].feature.names[u] for u in r["upos"]]) == expected


# Comments the way conllu reads them, not the way our reader keeps them: a key-less comment is dropped, a
# repeated key keeps its last value, keys and values are stripped, `# text` without a value is dropped.
COMMENT_QUIRKS = """# a free comment without a key
# sent_id = first
# sent_id =   second  
# text
1\tكتاب\tكِتَاب\tNOUN\tN------S1I\tCase=Nom|Definite=Ind|Number=Sing\t0\troot\t0:root\tSpaceAfter=No

"""


def test_comments_are_read_as_the_loader_reads_them(tmp_path):
    r = row(parse_conllu(COMMENT_QUIRKS)[0], 7)
    assert r["idx"] == "second" and r["text"] == "كتاب"
    path = tmp_path / "quirks.conllu"
    path.write_text(COMMENT_QUIRKS, encoding="utf-8")
    assert dict(r, upos=[LOADER_FEATURES["upos"].feature.names[u] for u in r["upos"]]) == _loader_rows(path)[0]


BAD_EMPTY_NODE = """# sent_id = e1
# text = كتب الولد
1\tكتب\tكَتَب\tVERB\t_\t_\t0\troot\t0:root\t_
1.0\tهو\tهُوَ\tPRON\t_\t_\t_\t_\t1:nsubj\t_
2\tالولد\tوَلَد\tNOUN\t_\t_\t1\tnsubj\t1:nsubj\t_

"""


def test_a_sentence_conllu_cannot_parse_has_no_ud_row(tmp_path):
    sentence = parse_conllu(BAD_EMPTY_NODE)[0]  # our reader keeps it; conllu (so the loader) rejects "1.0"
    with pytest.raises(conllu.exceptions.ParseException):
        conllu.parse(BAD_EMPTY_NODE)
    with pytest.raises(LoaderCannotRead, match="1.0"):
        row(sentence, 0)
    path = tmp_path / "bad.conllu"
    path.write_text(BAD_EMPTY_NODE, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InvalidSentencesError):
        export_corpus(path, out, schema="ud", ratios=(1, 0, 0))
    # --allow-invalid cannot help: there is no row the loader would make of it.
    with pytest.raises(ExportError, match="cannot be exported with --schema ud.*conllu: .*'1.0'"):
        export_corpus(path, out, schema="ud", ratios=(1, 0, 0), allow_invalid=True)
    assert not out.exists()
    assert export_corpus(path, out, schema="mudawwana", ratios=(1, 0, 0), allow_invalid=True).sentences == 1
