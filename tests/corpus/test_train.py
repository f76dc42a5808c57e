"""corpus.train and `mudawwana train`: the real tiny training (slow, cached) and the orchestration (fast, stubbed).

Not tested here, because two trainings cost two minutes: tiny trainings are deterministic (measured, see
docs/stanza.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest
from typer.testing import CliRunner

import mudawwana.corpus.train as train_mod
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.data_model import UPOS_TAGS
from mudawwana.corpus.stanza_models import model_hash
from mudawwana.corpus.train import train
from fixtures_models import heads_form_a_tree

RAW = "ذهب الطالب إلى المكتبة صباحا وقرأ كتابا عن تاريخ مصر."


# --- the real thing (slow: the session fixture trains once, then the disk cache is reused) ---------------------

@pytest.mark.slow
def test_tiny_model_dir_layout_and_manifest(tiny_model_dir, sample_path):
    files = {p.name for p in tiny_model_dir.iterdir()}
    assert {"tokenize.pt", "pos.pt", "lemma.pt", "depparse.pt", "resources.json", "manifest.json"} <= files
    assert "mwt.pt" not in files  # the sample has no multi-word-token ranges
    assert json.loads((tiny_model_dir / "resources.json").read_text()) == {}
    m = json.loads((tiny_model_dir / "manifest.json").read_text(encoding="utf-8"))
    import stanza
    assert m["name"] == "tiny-ar-pud"
    assert m["model_version"] == f"tiny-ar-pud@{model_hash(tiny_model_dir)}"
    assert re.fullmatch(r"tiny-ar-pud@[0-9a-f]{12}", m["model_version"])
    assert m["stanza_version"] == stanza.__version__
    assert (m["size"], m["steps"], m["processors"]) == ("tiny", None, ["tokenize", "pos", "lemma", "depparse"])
    assert (m["data"]["train"]["sentences"], m["data"]["dev"]["sentences"]) == (800, 100)
    assert re.fullmatch(r"[0-9a-f]{64}", m["data"]["train"]["sha256"])
    assert m["data"]["train"]["file"].endswith(".conllu")
    for model in m["processors"]:
        assert m["dev_scores"][model]["f1"] is not None and 0 <= m["dev_scores"][model]["f1"] <= 100
    assert {"Tokens", "UPOS", "Lemmas", "UAS", "LAS"} <= set(m["dev_scores_end_to_end"])


@pytest.mark.slow
def test_tiny_model_loads_and_tags_raw_arabic(tiny_pipeline):
    nlp, info = tiny_pipeline
    assert info.name == "tiny-ar-pud" and info.model_version.startswith("tiny-ar-pud@")
    assert info.processors == ("tokenize", "pos", "lemma", "depparse")
    assert not info.has_mwt and not info.has_ner
    doc = nlp(RAW)
    assert doc.sentences
    for sentence in doc.sentences:
        assert all(w.upos in UPOS_TAGS for w in sentence.words)
        assert all(w.lemma for w in sentence.words)
        assert heads_form_a_tree(sentence.words)
    # the tokens are a segmentation of the text (clitics split off, nothing invented)
    assert "".join(t.text for s in doc.sentences for t in s.tokens) == RAW.replace(" ", "")


# --- input errors: fast, they fail before anything is trained ---------------------------------------------------

def test_missing_corpus_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        train(tmp_path / "nope.conllu", tmp_path / "out", size="tiny")


def test_text_that_does_not_match_the_forms_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("# sent_id = s1\n# text = كتب\n1\tقرأ\tقرأ\tVERB\t_\t_\t0\troot\t_\t_\n\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"s1.*# text"):
        train(bad, tmp_path / "out", dev=bad, size="tiny")


def test_words_without_heads_are_an_input_error(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = كتب\n1\tكتب\tكتب\tVERB\t_\t_\t_\t_\t_\t_\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="HEAD"):
        train(bad, tmp_path / "out", dev=bad, size="tiny")


def test_unknown_size_and_bad_steps(sample_path, tmp_path):
    with pytest.raises(InputError, match="size"):
        train(sample_path, tmp_path / "out", size="huge")
    with pytest.raises(InputError, match="steps"):
        train(sample_path, tmp_path / "out", steps=0)


def test_refuses_to_replace_a_folder_that_is_not_a_model_dir(sample_path, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a model directory"):
        train(sample_path, tmp_path / "out", size="tiny")
    assert (tmp_path / "out" / "thesis.tex").read_text() == "precious"


# --- orchestration with stanza stubbed out: split, manifest, atomic replace, progress ----------------------------

@pytest.fixture
def stub_stanza(monkeypatch):
    """Replace data preparation, the trainers and the dev evaluation by stand-ins that write fake models."""
    calls = []

    def fake_trainer(model):
        def run(paths, build, size, steps):
            calls.append((model, steps))
            (build / f"{model}.pt").write_bytes(model.encode())
            logging.getLogger("stanza").info("Best dev F1 = 12.50, at iteration = 10")
        return run

    monkeypatch.setattr(train_mod, "_prepare", lambda *a: {})
    monkeypatch.setattr(train_mod, "_TRAINERS", {m: fake_trainer(m) for m in train_mod._TRAINERS})
    monkeypatch.setattr(train_mod, "_evaluate", lambda build, paths: {"UPOS": 50.0})
    return calls


def test_holds_out_the_last_tenth_and_writes_the_manifest(stub_stanza, sample_path, tmp_path):
    seen = []
    m = train(sample_path, tmp_path / "out", size="tiny", steps=7,
              progress=lambda d, done, total: seen.append((d, done, total)))
    assert m["data"]["train"] == {"file": sample_path.name, "part": "sentences 1-900", "sentences": 900,
                                  "sha256": hashlib.sha256(sample_path.read_bytes()).hexdigest(),
                                  "words": m["data"]["train"]["words"]}
    assert m["data"]["dev"]["part"] == "sentences 901-1000" and m["data"]["dev"]["sentences"] == 100
    assert stub_stanza == [("tokenize", 7), ("pos", 7), ("lemma", 7), ("depparse", 7)]
    assert m["dev_scores"]["pos"] == {"metric": "AllTags F1", "f1": 12.5}
    assert m["model_version"] == f"out@{model_hash(tmp_path / 'out')}"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")) == m
    assert seen[-1][1:] == (seen[-1][2], seen[-1][2]) and any("pos" in d for d, _, _ in seen)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no build leftovers


def test_retraining_replaces_an_earlier_model_dir(stub_stanza, sample_path, tmp_path):
    train(sample_path, tmp_path / "out", size="tiny")
    (tmp_path / "out" / "stale.pt").write_bytes(b"old")
    train(sample_path, tmp_path / "out", size="tiny", name="again")
    assert not (tmp_path / "out" / "stale.pt").exists()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["name"] == "again"


def test_a_failed_training_leaves_no_half_model_dir(stub_stanza, monkeypatch, sample_path, tmp_path):
    def boom(*a):
        raise InputError("trainer failed")
    monkeypatch.setitem(train_mod._TRAINERS, "pos", boom)
    with pytest.raises(InputError):
        train(sample_path, tmp_path / "out", size="tiny")
    assert list(tmp_path.iterdir()) == []


def test_mwt_is_trained_only_when_the_data_has_ranges(stub_stanza, tmp_path):
    text = ("# text = وبه\n1-2\tوبه\t_\t_\t_\t_\t_\t_\t_\t_\n1\tو\tو\tCCONJ\t_\t_\t0\troot\t_\t_\n"
            "2\tبه\tب\tADP\t_\t_\t1\tconj\t_\t_\n\n")
    corpus = tmp_path / "mwt.conllu"
    corpus.write_text(text * 3, encoding="utf-8")
    m = train(corpus, tmp_path / "out", size="tiny")
    assert m["processors"] == ["tokenize", "mwt", "pos", "lemma", "depparse"]
    assert (tmp_path / "out" / "mwt.pt").exists()


# --- the command -----------------------------------------------------------------------------------------------

def test_cli_train_prints_a_summary(stub_stanza, sample_path, tmp_path):
    from mudawwana.cli import app
    result = CliRunner().invoke(app, ["train", str(sample_path), "-o", str(tmp_path / "m"), "--size", "tiny",
                                      "--name", "cli-test"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "cli-test@" in output and "UPOS 50.0" in output and str(tmp_path / "m") in output


def test_cli_train_bad_corpus_is_one_line(tmp_path):
    from mudawwana.cli import app
    result = CliRunner().invoke(app, ["train", str(tmp_path / "nope.conllu"), "-o", str(tmp_path / "m")])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "error:" in output and "no such file" in output and "Traceback" not in output
