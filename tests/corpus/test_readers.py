import json
from pathlib import Path

import pytest

from mudawwana.corpus.errors import InputError
from mudawwana.corpus.readers import RawDocument, ReaderOptions, TokenizedDocument, read_documents

NEWS = "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد."


def collect(paths, **options):
    skips = []
    docs = list(read_documents(paths, ReaderOptions(**options), skips.append))
    return docs, skips


def test_txt_is_one_document_with_a_paragraph_per_line(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text(f"{NEWS}\r\n\r\n{NEWS} ثانية\n", encoding="utf-8")
    [doc], skips = collect([path])
    assert isinstance(doc, RawDocument) and doc.doc_id == "news"
    assert [(p.line, p.text) for p in doc.paragraphs] == [(1, NEWS), (3, NEWS + " ثانية")]
    assert skips == []


def test_txt_blank_lines_can_separate_documents(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text(f"{NEWS}\n\n{NEWS}\n{NEWS}\n", encoding="utf-8")
    docs, _ = collect([path], txt_docs="blank-line")
    assert [(d.doc_id, len(d.paragraphs)) for d in docs] == [("news-d1", 1), ("news-d2", 2)]


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_is_kept(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(NEWS.encode() + b"\n\xff\xfe broken\nhello world only latin\n" + ("ا" * 100_000).encode()
                     + b"\n" + NEWS.encode() + b"\n")
    [doc], skips = collect([path])
    assert [p.line for p in doc.paragraphs] == [1, 5]
    reasons = {s.line: s.reason for s in skips}
    assert "not UTF-8" in reasons[2] and "no Arabic" in reasons[3] and "100,000 characters" in reasons[4]
    assert str(skips[0]).startswith(f"{path}:2: ")


def test_empty_file_is_skipped_not_fatal(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(NEWS, encoding="utf-8")
    docs, skips = collect([empty, good])
    assert [d.doc_id for d in docs] == ["good"]
    assert [str(s) for s in skips] == [f"{empty}: empty file"]


def test_jsonl_fields_are_configurable_and_bad_records_reported(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [json.dumps({"body": NEWS, "key": "a1"}, ensure_ascii=False), "{not json",
             json.dumps({"other": 1}), json.dumps({"body": NEWS + "\n" + NEWS}, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, skips = collect([path], text_field="body", id_field="key")
    assert [(d.doc_id, len(d.paragraphs)) for d in docs] == [("a1", 1), ("docs-4", 2)]
    assert [s.line for s in skips] == [2, 3]
    assert "--text-field" in skips[1].reason


def test_conllu_is_grouped_by_document(tmp_path):
    from pathlib import Path
    sample = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"
    docs = list(read_documents([sample]))
    assert all(isinstance(d, TokenizedDocument) for d in docs)
    assert sum(len(d.sentences) for d in docs) == 1000
    assert docs[0].doc_id == "n01001" and len({d.doc_id for d in docs}) == len(docs)


def test_local_hugging_face_dataset(tmp_path):
    import datasets
    datasets.Dataset.from_dict({"text": [NEWS, "latin only"], "id": ["x", "y"]}).save_to_disk(tmp_path / "ds")
    docs, skips = collect([tmp_path / "ds"])
    assert [d.doc_id for d in docs] == ["x"] and len(skips) == 1


def test_unknown_type_and_missing_file_raise_clear_errors(tmp_path):
    (tmp_path / "a.pdf").write_text("x")
    with pytest.raises(InputError, match="unknown input type '.pdf'"):
        collect([tmp_path / "a.pdf"])
    with pytest.raises(InputError, match="no such file"):
        collect([tmp_path / "missing.txt"])


# --- Unicode NFC at read time ------------------------------------------------------------------------

SHADDA_KASRA = "\u0628\u0651\u0650"  # ب + SHADDA + KASRA, the order PADT stores; NFC is ب + KASRA + SHADDA
NFC_BIK = "\u0628\u0650\u0651"


def test_raw_text_is_nfc_in_every_format_and_nothing_else_changes(tmp_path):
    import datasets
    line = f"قال {SHADDA_KASRA}ـــه\u200f ﻻ"  # tatweel, RLM and the lam-alef ligature are the normalizer's
    expected = f"قال {NFC_BIK}ـــه\u200f ﻻ"
    (tmp_path / "a.txt").write_text(line + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": line + "\n" + line}) + "\n", encoding="utf-8")
    datasets.Dataset.from_dict({"text": [line]}).save_to_disk(tmp_path / "ds")
    docs, skips = collect([tmp_path / "a.txt", tmp_path / "b.jsonl", tmp_path / "ds"])
    assert skips == []
    assert [[p.text for p in d.paragraphs] for d in docs] == [[expected], [expected, expected], [expected]]


def test_conllu_is_nfc_in_every_column_and_an_nfc_file_is_read_unchanged(tmp_path, sample_path):
    from mudawwana.corpus.conllu_io import format_sentence
    block = (f"# newdoc id = d{SHADDA_KASRA}\n# sent_id = s1\n# text = {SHADDA_KASRA} قال\n"
             f"1\t{SHADDA_KASRA}\t{SHADDA_KASRA}\tADP\t_\t_\t2\tcase\t_\tGloss={SHADDA_KASRA}\n"
             "2\tقال\tقال\tVERB\t_\t_\t0\troot\t_\t_\n\n")
    path = tmp_path / "in.conllu"
    path.write_text(block, encoding="utf-8")
    [doc] = read_documents([path])
    [sentence] = doc.sentences
    assert doc.doc_id == f"d{NFC_BIK}" and format_sentence(sentence) == block.replace(SHADDA_KASRA, NFC_BIK)
    assert [(t.start, t.end) for t in sentence.tokens] == [(0, 3), (4, 7)]
    first = next(iter(read_documents([sample_path])))
    assert "".join(format_sentence(s) for s in first.sentences) == \
        sample_path.read_text(encoding="utf-8")[:len("".join(format_sentence(s) for s in first.sentences))]


def test_a_file_that_yields_nothing_is_reported(tmp_path):
    (tmp_path / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    (tmp_path / "latin.jsonl").write_text(json.dumps({"text": "only latin"}) + "\n", encoding="utf-8")
    (tmp_path / "blank.conllu").write_text("\n\n", encoding="utf-8")
    docs, skips = collect([tmp_path / "blank.jsonl", tmp_path / "latin.jsonl", tmp_path / "blank.conllu"])
    assert docs == []
    assert [(Path(s.source).name, s.line, s.reason) for s in skips] == [
        ("blank.jsonl", None, "no usable text in this file"),
        ("latin.jsonl", 1, "no Arabic letters in this text"), ("latin.jsonl", None, "no usable text in this file"),
        ("blank.conllu", None, "no sentences in this file")]
