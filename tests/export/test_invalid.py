"""Invalid sentences: refused with their sent_id and the validator's message (nothing written), or with
allow_invalid exported and listed in the card. Failures never leave a half-written OUT_DIR."""

from __future__ import annotations

import datasets
import pytest

from mudawwana.corpus.conllu_io import write_conllu
from mudawwana.corpus.data_model import set_misc
from mudawwana.export.export_job import export_corpus
from mudawwana.export.errors import ExportError, InvalidSentencesError
from mudawwana.export.schema_mudawwana import FEATURES


@pytest.fixture
def bad_input(tmp_path, sample_sentences):
    sentences = sample_sentences(60)
    sentences[5].words[1].upos = "FOO"  # L2 unknown-upos
    sentences[7].words[0].head = 99  # L2 unknown-head
    sentences[9].tokens[0].misc = set_misc(sentences[9].tokens[0].misc, "NER", "B-DATE")  # not our schema
    path = tmp_path / "bad.conllu"
    write_conllu(sentences, path)
    bad = {sentences[5].sent_id: "unknown-upos", sentences[7].sent_id: "unknown-head",
           sentences[9].sent_id: "B-DATE"}
    return path, bad


def test_refused_with_sent_id_and_message_nothing_written(bad_input, tmp_path):
    path, bad = bad_input
    out = tmp_path / "out"
    with pytest.raises(InvalidSentencesError) as caught:
        export_corpus(path, out)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("3 sentence(s) fail validation")
    for sent_id, problem in bad.items():
        assert sent_id in message and problem in message
    assert {item.sent_id for item in caught.value.invalid} == set(bad)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no staging directory left


def test_refusal_leaves_a_previous_export_untouched(bad_input, exported, tmp_path, file_hashes):
    import shutil
    path, _ = bad_input
    out = tmp_path / "previous"
    shutil.copytree(exported[0], out)
    before = file_hashes(out)
    with pytest.raises(InvalidSentencesError):
        export_corpus(path, out)
    assert file_hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.conllu", "previous"]


def test_allowed_and_listed_in_the_card(bad_input, tmp_path):
    path, bad = bad_input
    out = tmp_path / "out"
    result = export_corpus(path, out, allow_invalid=True)
    assert {item.sent_id for item in result.invalid} == set(bad)
    assert result.sentences == 60
    card = (out / "README.md").read_text(encoding="utf-8")
    section = card[card.index("## Validation"):]
    assert "3 sentences were exported despite errors" in section
    for sent_id, problem in bad.items():
        line = next(line for line in section.splitlines() if f"`{sent_id}`" in line)
        assert problem in line
    # labels outside the class lists become -1 ("no label") rather than a wrong class
    rows = [r for split in datasets.load_from_disk(str(out)).values() for r in split]
    foo = next(r for r in rows if r["sent_id"] in bad and bad[r["sent_id"]] == "unknown-upos")
    assert foo["words"][1]["upos"] == -1
    date = next(r for r in rows if r["sent_id"] in bad and bad[r["sent_id"]] == "B-DATE")
    assert date["ner_tags"][0] == -1 and date["entities"][0]["label"] == -1
    assert FEATURES["ner_tags"].feature.names[0] == "O"


def test_refuses_to_replace_a_directory_that_is_not_an_export(exported, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete", encoding="utf-8")
    with pytest.raises(ExportError, match="not a mudawwana export"):
        export_corpus(exported[1].out_dir / "ar_pudtest-ud-train.conllu", out)
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "do not delete"


def test_unreadable_input_is_a_one_line_input_error(tmp_path):
    from mudawwana.corpus.errors import InputError
    path = tmp_path / "broken.conllu"
    path.write_text("# sent_id = x\n1\tonly three\tcolumns\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="broken.conllu:2: expected 10 tab-separated columns"):
        export_corpus(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_failure_half_way_leaves_the_previous_export_intact(exported, sample_sentences, tmp_path, file_hashes):
    import shutil
    from mudawwana.corpus.errors import InputError
    from mudawwana.corpus.conllu_io import format_sentence
    out = tmp_path / "previous"
    shutil.copytree(exported[0], out)
    before = file_hashes(out)
    path = tmp_path / "half.conllu"
    good = "".join(format_sentence(s) for s in sample_sentences(40))
    path.write_text(good + "# sent_id = broken\n1\tnot enough columns\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="half.conllu"):
        export_corpus(path, out)
    assert file_hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["half.conllu", "previous"]
