"""`mudawwana export` from the command line, including --push-to-hub without a reachable Hub."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from mudawwana.cli import app

TOKEN = "hf_secretTESTTOKEN0123456789abcdef"


def test_cli_export(sample_file, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["export", str(sample_file), "-o", str(out), "--name", "pud",
                                      "--license", "cc-by-sa-3.0", "--schema", "ud"])
    assert result.exit_code == 0, result.output
    assert (out / "ar_pud-ud-train.conllu").is_file() and (out / "dataset_dict.json").is_file()
    assert "validation" in result.output


def test_cli_bad_option_is_one_line(sample_file, tmp_path):
    result = CliRunner().invoke(app, ["export", str(sample_file), "-o", str(tmp_path / "o"),
                                      "--split-ratios", "0.5,0.6,0.1"])
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_push_offline_fails_clearly_keeps_export_and_never_shows_the_token(sample_file, tmp_path):
    out = tmp_path / "out"
    # An endpoint that refuses connections: offline, whatever network the test machine has.
    env = {**os.environ, "HF_TOKEN": TOKEN, "HF_ENDPOINT": "http://127.0.0.1:9", 
           "HF_DATASETS_CACHE": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf-home")}
    done = subprocess.run([sys.executable, "-m", "mudawwana", "-v", "export", str(sample_file), "-o", str(out),
                           "--name", "pud", "--push-to-hub", "someone/arabic-corpus"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    output = done.stdout + done.stderr
    flat = " ".join(output.split())  # rich wraps long lines at the console width
    assert done.returncode != 0
    assert "could not push to the Hub dataset someone/arabic-corpus" in flat
    assert f"the local export in {out} is complete" in flat
    assert "Traceback" not in output
    # the local export is intact and loadable
    assert (out / "dataset_dict.json").is_file() and (out / "README.md").is_file()
    check = subprocess.run([sys.executable, "-c", "import datasets, sys; "
                            "print(datasets.load_from_disk(sys.argv[1]).num_rows)", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr
    # the token appears nowhere: output, export files, anything the run left beside them
    assert TOKEN not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_push_without_token_says_how_to_set_it(sample_file, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_ENDPOINT="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "mudawwana", "export", str(sample_file), "-o",
                           str(tmp_path / "out"), "--push-to-hub", "someone/x"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode != 0
    assert "set HF_TOKEN" in " ".join(done.stderr.split())
    assert (tmp_path / "out" / "dataset_dict.json").is_file()
