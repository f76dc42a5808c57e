"""Every ```python block of README.md runs, against a real export (as the `conllu` project tests its README).

The blocks are what a researcher copies: they read a directory "dataset" relative to the working directory,
so the export is made as `TMP/dataset` and the blocks run with TMP as the working directory. They run in
README order in one namespace (doctest's rule for a file: a block may use names an earlier one defined),
in a fresh interpreter with its own Hugging Face cache, offline. A block that raises fails the test, and
the traceback points at README.md's own line numbers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from mudawwana.corpus import SAMPLE_CONLLU
from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.export.export_job import export_corpus

README = Path(__file__).resolve().parents[1] / "README.md"
N_SENTENCES = 40  # enough for all three splits

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)

# Runs in the child: exec each block compiled as README.md with its real line numbers.
_RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for line, code in json.load(open(sys.argv[1], encoding="utf-8")):
    exec(compile("\\n" * (line - 1) + code, "README.md", "exec"), namespace)
"""


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number of the block's first code line, code) for every ```python block, in order."""
    return [(markdown.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(markdown)]


def test_block_extraction():
    text = "intro\n```python\nx = 1\n```\n\n```bash\nls\n```\n```python\ny = x\nz = 2\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (10, "y = x\nz = 2\n")]


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```python block (did the fence change?)"
    assert any('"dataset' in code for _, code in blocks)  # they read the export made below

    monkeypatch.chdir(tmp_path)
    write_conllu(itertools.islice(read_conllu(SAMPLE_CONLLU), N_SENTENCES), "corrected.conllu")
    export_corpus("corrected.conllu", "dataset", name="news")
    (tmp_path / "blocks.json").write_text(json.dumps(blocks), encoding="utf-8")

    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "hf-cache"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", _RUNNER, "blocks.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"a README.md python block raised:\n{done.stderr[-3000:]}"
