"""Fixtures for the CLI tests: the installed `mudawwana` script, and a way to run it as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mudawwana_script() -> Path:
    """The console script a user runs: .venv/bin/mudawwana (what scripts/bootstrap.sh installs)."""
    for script in (ROOT / ".venv" / "bin" / "mudawwana", Path(sys.executable).parent / "mudawwana"):
        if script.is_file():
            return script
    pytest.skip("no installed mudawwana console script")


@pytest.fixture
def run_cli(mudawwana_script, tmp_path):
    """run_cli(*args) -> CompletedProcess of the real script, in tmp_path, offline, no colours."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "NO_COLOR": "1",
               "HF_HOME": str(tmp_path / "hf-home"), "HF_DATASETS_CACHE": str(tmp_path / "hf-cache")}
        return subprocess.run([str(mudawwana_script), *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=timeout)

    return run
