"""Input paths are checked while the arguments are parsed: a missing one stops the command, naming it, before
any model is loaded or any server is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mudawwana.cli import app


def _must_not_run(*args, **kwargs):
    raise AssertionError("reached a model or a server despite a missing input")


def _one_error_naming(output: str, name: str) -> None:
    errors = [line for line in output.splitlines() if "error:" in line]
    assert len(errors) == 1 and name in errors[0], output
    assert "Traceback" not in output


def test_tag_missing_input_fails_before_loading_a_model(monkeypatch, tmp_path):
    monkeypatch.setattr("mudawwana.cli.tag.tag_files", _must_not_run)
    monkeypatch.setattr("mudawwana.corpus.stanza_models.load_pipeline", _must_not_run)
    result = CliRunner().invoke(app, ["tag", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.conllu")])
    assert result.exit_code == 1
    _one_error_naming(result.output, "missing.txt")
    assert not (tmp_path / "x.conllu").exists()


def test_tag_missing_input_fails_fast_from_the_real_entry_point(tmp_path):
    """The installed entry point, in a fresh interpreter: stanza and torch are never even imported."""
    code = ("import json, sys\nfrom mudawwana.cli import main\n"
            "sys.argv = ['mudawwana', 'tag', 'missing.txt', '-o', 'x.conllu']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print(json.dumps({'code': code, 'loaded': [m for m in ('stanza', 'torch') if m in sys.modules]}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 1, "loaded": []}, done.stderr
    _one_error_naming(done.stderr, "missing.txt")
    assert not (tmp_path / "x.conllu").exists()


def test_tag_missing_model_dir(monkeypatch, tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("نص\n", encoding="utf-8")
    monkeypatch.setattr("mudawwana.cli.tag.tag_files", _must_not_run)
    result = CliRunner().invoke(app, ["tag", str(text), "-o", str(tmp_path / "x.conllu"),
                                      "--model-dir", str(tmp_path / "no-models")])
    assert result.exit_code == 1
    _one_error_naming(result.output, "no-models")


@pytest.mark.parametrize("which", ["corpus", "dev"])
def test_train_missing_corpus_or_dev(monkeypatch, tmp_path, which):
    monkeypatch.setattr("mudawwana.corpus.train.train", _must_not_run)
    corpus = tmp_path / "train.conllu"
    if which == "dev":
        corpus.write_text("", encoding="utf-8")
    args = ["train", str(corpus), "-o", str(tmp_path / "m")]
    if which == "dev":
        args += ["--dev", str(tmp_path / "dev.conllu")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    _one_error_naming(result.output, f"{which if which == 'dev' else 'train'}.conllu")
    assert not (tmp_path / "m").exists()


def test_export_missing_input(tmp_path):
    result = CliRunner().invoke(app, ["export", str(tmp_path / "corrected.conllu"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    _one_error_naming(result.output, "corrected.conllu")
    assert not (tmp_path / "out").exists()


def test_demo_missing_model_dir_fails_before_starting_label_studio(monkeypatch, tmp_path):
    monkeypatch.setattr("mudawwana.annotate.server.start_label_studio", _must_not_run)
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "w"),
                                      "--model-dir", str(tmp_path / "no-models")])
    assert result.exit_code == 1
    _one_error_naming(result.output, "no-models")
    assert not (tmp_path / "w").exists()
