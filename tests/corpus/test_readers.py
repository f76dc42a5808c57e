import json

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
