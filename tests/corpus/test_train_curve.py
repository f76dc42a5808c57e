"""The learning curve: shares of the training data, every step scored on the same dev set, resumable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mudawwana.corpus import train as training
from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.splits import document_key
from mudawwana.corpus.train_curve import _share_order, parse_shares, train_curve

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"
BIN = Path(sys.executable).parent


def test_shares():
    assert parse_shares("25,50,75,100") == (25, 50, 75, 100)
    assert parse_shares([10, 100]) == (10, 100)
    for bad in ("50,25", "0,50", "50,150", "a,b", "", "50,50"):
        with pytest.raises(InputError, match="--steps"):
            parse_shares(bad)


def test_shares_take_whole_documents_in_hash_order():
    sentences = list(read_conllu(SAMPLE))[:200]
    order = _share_order(sentences)
    assert sorted(order) == list(range(200))
    keys = [document_key(sentences[i]) for i in order]
    # a document's sentences are consecutive in the order, so a share cuts at most one document
    seen = []
    for k in keys:
        if not seen or seen[-1] != k:
            assert k not in seen
            seen.append(k)
    assert seen != sorted(seen, key=lambda k: [document_key(s) for s in sentences].index(k))  # not corpus order


@pytest.mark.slow
def test_curve_trains_each_share_and_resumes(tmp_path, monkeypatch):
    sentences = list(read_conllu(SAMPLE))
    write_conllu(sentences[:80], tmp_path / "corpus.conllu")
    write_conllu(sentences[800:820], tmp_path / "dev.conllu")
    out = tmp_path / "curve"
    curve = train_curve(tmp_path / "corpus.conllu", out, dev=tmp_path / "dev.conllu", shares=(50, 100), size="tiny",
                        max_steps=30, threads=1)
    assert [(s["share"], s["sentences"]) for s in curve["steps"]] == [(50, 40), (100, 80)]
    first, second = curve["steps"]
    assert first["change"] == {} and "UPOS" in first["scores"] and "LAS" in second["scores"]
    assert second["change"]["UPOS"] == round(second["scores"]["UPOS"] - first["scores"]["UPOS"], 2)
    assert curve["dev"]["sentences"] == 20 and curve["size"] == "tiny"
    assert json.loads((out / "curve.json").read_text()) == curve
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert not any(p.name.startswith("model") for p in out.iterdir())  # the models are thrown away

    # a rerun trains nothing: every step is in curve.json
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(training, "train", no_training)
    assert train_curve(tmp_path / "corpus.conllu", out, dev=tmp_path / "dev.conllu", shares=(50, 100),
                       size="tiny", max_steps=30, threads=1) == curve
    monkeypatch.undo()

    # the command prints each score with its change since the previous step (from the finished steps)
    shown = subprocess.run([str(BIN / "mudawwana"), "train-curve", str(tmp_path / "corpus.conllu"), "--dev",
                            str(tmp_path / "dev.conllu"), "--steps", "50,100", "--size", "tiny", "--max-steps", "30",
                            "-o", str(out)], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert shown.returncode == 0, shown.stderr
    upos = second["scores"]["UPOS"]
    assert f"{upos:.1f} ({second['change']['UPOS']:+.1f})" in shown.stdout
    assert "100%" in shown.stdout and "50%" in shown.stdout
