"""Split assignment: deterministic, by document, stable when documents are added."""

from __future__ import annotations

import pytest

from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.corpus.data_model import Sentence, Token, Word
from mudawwana.export.export_job import conllu_file_name, export_corpus
from mudawwana.export.errors import ExportError
from mudawwana.export.splits import SPLITS, document_key, parse_ratios, split_of, unit_interval


def _sentence(sent_id: str | None, doc_id: str | None = None) -> Sentence:
    s = Sentence(tokens=[Token("كتاب", [Word(1, "كتاب")])], doc_id=doc_id)
    if sent_id is not None:
        s.sent_id = sent_id
    return s


def test_parse_ratios():
    assert parse_ratios("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_ratios((1, 0, 0)) == (1.0, 0.0, 0.0)
    for bad in ("0.8,0.1", "0.5,0.5,0.5", "a,b,c", "1.2,-0.1,-0.1"):
        with pytest.raises(ExportError, match="split ratios|--split-ratios"):
            parse_ratios(bad)


def test_document_key_rule():
    assert document_key(_sentence("n01001011", doc_id="n01001")) == "n01001"
    assert document_key(_sentence("afp.20000715.0075:p1u1")) == "afp.20000715.0075"
    assert document_key(_sentence("blog-2003-0001")) == "blog-2003"
    assert document_key(_sentence("n01001011")) == "n01001011"
    assert document_key(_sentence(None)) == "كتاب"  # no id at all: the text


def test_split_is_a_pure_function_of_the_key():
    # Fixed expectations: sha256 is the same on every machine and Python version (hash() would not be).
    assert unit_interval("n01001") == pytest.approx(int.from_bytes(
        bytes.fromhex(__import__("hashlib").sha256(b"n01001").hexdigest()[:16]), "big") / 2**64)
    keys = [f"doc{i}" for i in range(5000)]
    splits = [split_of(k, (0.8, 0.1, 0.1)) for k in keys]
    assert splits == [split_of(k, (0.8, 0.1, 0.1)) for k in keys]
    shares = {s: splits.count(s) / len(keys) for s in SPLITS}
    assert shares["train"] == pytest.approx(0.8, abs=0.03)
    assert shares["validation"] == pytest.approx(0.1, abs=0.02)
    assert all(split_of(k, (1, 0, 0)) == "train" for k in keys[:200])
    assert all(split_of(k, (0.5, 0.5, 0)) != "test" for k in keys)


def _split_members(out_dir, name="grow") -> dict[str, str]:
    members = {}
    for split in SPLITS:
        path = out_dir / conllu_file_name(name, split)
        if path.exists():
            members.update({s.sent_id: split for s in read_conllu(path)})
    return members


def test_adding_documents_never_moves_existing_ones(tmp_path, sample_sentences):
    sentences = sample_sentences(150)
    small, large = tmp_path / "small.conllu", tmp_path / "large.conllu"
    write_conllu(sentences[:90], small)
    write_conllu(sentences, large)
    export_corpus(small, tmp_path / "a", name="grow")
    export_corpus(large, tmp_path / "b", name="grow")
    before, after = _split_members(tmp_path / "a"), _split_members(tmp_path / "b")
    assert len(before) == 90 and len(after) == 150
    assert {sid: after[sid] for sid in before} == before
    # and documents are never split across train/validation/test
    docs: dict[str, set] = {}
    for s in sentences:
        docs.setdefault(s.doc_id, set()).add(after[s.sent_id])
    assert all(len(v) == 1 for v in docs.values())
