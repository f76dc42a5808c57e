"""corpus.train: the trainers' order and callback (what retrain overlaps with training), and when NER is trained.

Stanza is stubbed as in test_train.py (fast); the real NER training runs in tests/annotate/test_retrain.py.
"""

from __future__ import annotations

import json
import logging

import pytest

import mudawwana.corpus.train as train_mod
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu, read_conllu, write_conllu
from mudawwana.corpus.data_model import Entity
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.train import train
from mudawwana.corpus.train_ner import bio_rows, entity_f1


@pytest.fixture
def stub_stanza(monkeypatch):
    calls = []

    def fake_trainer(model):
        def run(paths, build, size, steps):
            calls.append(model)
            if model == "ner":
                _work, ner_train, ner_dev, _size = paths["NER"]
                calls.append(("ner data", len(ner_train), len(ner_dev)))
            (build / f"{model}.pt").write_bytes(model.encode())
            logging.getLogger("stanza").info("Best dev F1 = 40.00, at iteration = 10")
        return run

    monkeypatch.setattr(train_mod, "_prepare", lambda *a: {})
    monkeypatch.setattr(train_mod, "_TRAINERS", {m: fake_trainer(m) for m in train_mod._TRAINERS})
    monkeypatch.setattr(train_mod, "_evaluate", lambda build, paths: {"UPOS": 50.0})
    return calls


def _with_entities(sentences, every=1):
    out = []
    for i, s in enumerate(sentences):
        s = parse_conllu(format_sentence(s))[0]
        if i % every == 0 and len(s.tokens) > 2:
            s.set_entities([Entity(0, 2, "PER")])
        out.append(s)
    return out


def test_tagger_first_trains_the_tagger_before_the_tokenizer_and_calls_back(stub_stanza, sample_path, tmp_path):
    seen = []

    def on_trained(model, build):
        # each model's file is there when its callback comes; None once all are
        seen.append((model, sorted(p.name for p in build.glob("*.pt"))))

    m = train(sample_path, tmp_path / "out", size="tiny", tagger_first=True, on_trained=on_trained)
    assert stub_stanza == ["pos", "lemma", "depparse", "tokenize"]
    assert [s[0] for s in seen] == ["pos", "lemma", "depparse", "tokenize", None]
    assert seen[0][1] == ["pos.pt"] and seen[-1][1] == ["depparse.pt", "lemma.pt", "pos.pt", "tokenize.pt"]
    assert m["processors"] == ["tokenize", "pos", "lemma", "depparse"]  # pipeline order, whatever the training order
    assert m["ner"]["trained"] is False and "no entities" in m["ner"]["why_not"]


def test_ner_is_trained_when_the_training_data_carries_entities(stub_stanza, sample_path, tmp_path):
    corpus = tmp_path / "ner.conllu"
    write_conllu(_with_entities(list(read_conllu(sample_path))[:100]), corpus)
    m = train(corpus, tmp_path / "out", size="tiny")
    assert stub_stanza[-2:] == ["ner", ("ner data", 90, 10)]
    assert m["processors"][-1] == "ner" and (tmp_path / "out" / "ner.pt").is_file()
    assert m["ner"]["trained"] and m["ner"]["entities"] == 90 and m["ner"]["dev_f1"] == 40.0
    assert m["dev_scores"]["ner"]["metric"] == "entity F1"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["ner"] == m["ner"]

    # ner=False: never; the tagger-first order puts ner with the tagger, before the tokenizer
    stub_stanza.clear()
    m = train(corpus, tmp_path / "out2", size="tiny", ner=False)
    assert "ner" not in stub_stanza and not m["ner"]["trained"] and "not asked" in m["ner"]["why_not"]
    stub_stanza.clear()
    train(corpus, tmp_path / "out3", size="tiny", tagger_first=True)
    assert [c for c in stub_stanza if isinstance(c, str)] == ["pos", "lemma", "depparse", "ner", "tokenize"]


def test_ner_data_are_the_sentences_annotated_for_entities(stub_stanza, sample_path, tmp_path):
    sentences = list(read_conllu(sample_path))[:60]
    write_conllu(sentences, tmp_path / "all.conllu")  # BASE-like: no entities anywhere
    write_conllu(_with_entities(sentences[:20]), tmp_path / "ner-train.conllu")
    write_conllu(_with_entities(sentences[20:25]), tmp_path / "ner-dev.conllu")
    m = train(tmp_path / "all.conllu", tmp_path / "out", size="tiny",
              ner_data=(tmp_path / "ner-train.conllu", tmp_path / "ner-dev.conllu"))
    assert ("ner data", 20, 5) in stub_stanza and m["ner"]["sentences"] == 20 and m["ner"]["trained"]
    with pytest.raises(InputError, match="carry no entities"):
        train(tmp_path / "all.conllu", tmp_path / "out4", size="tiny", ner=True)


def test_bio_rows_and_entity_f1(sample_path):
    [s] = _with_entities(list(read_conllu(sample_path))[:1])
    rows = bio_rows(s)
    assert [r["ner"] for r in rows[:3]] == ["B-PER", "I-PER", "O"] and rows[0]["text"] == s.tokens[0].form
    scores = entity_f1([s, s], [[Entity(0, 2, "PER")], [Entity(0, 2, "LOC"), Entity(3, 4, "PER")]])
    assert scores == {"precision": 33.33, "recall": 50.0, "F1": 40.0, "entities": 2, "predicted": 3}
