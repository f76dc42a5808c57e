"""Fixtures for the export tests: a 150-sentence slice of the bundled UD Arabic-PUD sample, exported once
per schema for the tests that only read the result.

Helpers are handed out as fixtures: with pytest's importlib mode and `pythonpath = ["tests"]`, test modules
cannot import a sibling helper module.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.export.export_job import export_corpus

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"
N_SENTENCES = 150
NAME = "pudtest"
LICENSE = "cc-by-sa-3.0"


def _sample_sentences(n: int = N_SENTENCES):
    return list(itertools.islice(read_conllu(SAMPLE), n))


def _file_hashes(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _run_python(code: str, tmp_path: Path, **env: str) -> dict:
    """Run `code` in a fresh interpreter (nothing cached from this process); it prints one JSON object."""
    full_env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "hf-cache"), "HF_HUB_OFFLINE": "1",
                "HF_DATASETS_OFFLINE": "1", **env}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def sample_sentences():
    """sample_sentences(n) -> the first n sentences of the bundled sample (fresh objects to modify)."""
    return _sample_sentences


@pytest.fixture(scope="session")
def file_hashes():
    """file_hashes(dir) -> {relative path: sha256} of every file under dir."""
    return _file_hashes


@pytest.fixture(scope="session")
def run_python():
    """run_python(code, tmp_path, **env) -> the JSON object the code printed last, from a fresh process."""
    return _run_python


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("input") / "corrected.conllu"
    write_conllu(_sample_sentences(), path)
    return path


def _export(tmp_path_factory, sample_file: Path, schema: str):
    out = tmp_path_factory.mktemp(f"export-{schema}") / "out"
    result = export_corpus(sample_file, out, name=NAME, schema=schema, license=LICENSE,
                           source_description="UD Arabic-PUD (first 150 sentences)")
    return out, result


@pytest.fixture(scope="session")
def exported(tmp_path_factory, sample_file):
    """(out_dir, ExportResult) of the sample in the mudawwana schema; read-only for tests."""
    return _export(tmp_path_factory, sample_file, "mudawwana")


@pytest.fixture(scope="session")
def exported_ud(tmp_path_factory, sample_file):
    return _export(tmp_path_factory, sample_file, "ud")
