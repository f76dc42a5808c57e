"""Packaging: the wheel installs the stages inside `mudawwana` only, with the sample as package data.

Slow: it builds a wheel (`python -m build`, whose isolated environment installs setuptools from the package index)
and installs it into a fresh venv. The build runs on a copy of the files a clean clone has: building in the
checkout would write build/ and *.egg-info into it, and setuptools would reuse whatever a stale build/lib holds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
# the source folders and where pyproject.toml's package-dir mapping installs them
INSTALLED_AS = {"mudawwana": "mudawwana", "corpus": "mudawwana/corpus", "annotate": "mudawwana/annotate",
                "export": "mudawwana/export"}
# what `python -m build` prints for a warning the backend raised (a BuildBackendWarning: build prints only
# "WARNING <message>"), or a warning class named in setuptools' own output
WARNING = re.compile(r"^WARNING\b.*|.*\b[A-Z]\w*Warning\b.*", re.MULTILINE)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "FORCE_COLOR")}
    return {**env, "NO_COLOR": "1", "PYTHONNOUSERSITE": "1", **extra}


def _copy_clean_clone(dest: Path) -> list[str]:
    """Copy the checkout's tracked files and the untracked ones git does not ignore; return their paths."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode("utf-8")
    copied = []
    for rel in filter(None, listed.split("\0")):
        if (REPO / rel).is_file():  # a tracked file deleted in the working tree is still listed
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
            copied.append(rel)
    return copied


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> dict:
    """Build the wheel once: {"wheel": Path, "output": the build's stdout and stderr, "sources": copied paths}."""
    src, dist = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    sources = _copy_clean_clone(src)
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(src)], cwd=src,
                            env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    wheels = list(dist.glob("mudawwana-*.whl"))
    assert len(wheels) == 1, (wheels, result.stdout[-4000:])
    return {"wheel": wheels[0], "output": result.stdout, "sources": sources}


def test_the_build_prints_no_warning(build):
    assert "Successfully built mudawwana-" in build["output"]
    assert WARNING.findall(build["output"]) == []


def test_the_wheel_holds_only_the_mudawwana_package_and_the_sample(build):
    with zipfile.ZipFile(build["wheel"]) as wheel:
        names = wheel.namelist()
    outside = [n for n in names if not n.startswith("mudawwana/") and not re.match(r"mudawwana-[^/]+\.dist-info/", n)]
    assert outside == []  # no top-level corpus/, annotate/, export/
    assert "mudawwana/corpus/data/ar_pud-sample.conllu" in names
    # and nothing is left behind: every module of the source folders lands where the mapping says
    expected = {f"{INSTALLED_AS[rel.split('/', 1)[0]]}/{rel.split('/', 1)[1]}"
                for rel in build["sources"] if rel.endswith(".py") and rel.split("/", 1)[0] in INSTALLED_AS}
    assert expected and expected <= set(names), sorted(expected - set(names))


CHECK = r"""
import importlib, json, sysconfig
from pathlib import Path

import mudawwana.corpus
from mudawwana.corpus import SAMPLE_CONLLU, read_conllu

top_level = {}
for name in ("corpus", "annotate", "export"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        top_level[name] = "ModuleNotFoundError" if e.name == name else f"ModuleNotFoundError for {e.name}"
    else:
        top_level[name] = "imported"
print(json.dumps({
    "package": str(Path(mudawwana.corpus.__file__).resolve()),
    "sample": str(SAMPLE_CONLLU),
    "sentences": len(list(read_conllu(SAMPLE_CONLLU))),
    "site_packages": str(Path(sysconfig.get_paths()["purelib"]).resolve()),
    "top_level": top_level,
}))
"""


def test_a_fresh_venv_imports_mudawwana_and_not_the_source_folders(build, tmp_path):
    assert REPO not in tmp_path.resolve().parents  # run from outside the checkout, as a user would
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=_clean_env(), check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(build["wheel"])],
                   cwd=tmp_path, env=_clean_env(), check=True, timeout=300)
    result = subprocess.run([str(python), "-c", CHECK], cwd=tmp_path, env=_clean_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    site_packages = Path(found["site_packages"])
    assert site_packages.is_relative_to(venv.resolve())
    assert Path(found["package"]).is_relative_to(site_packages)  # not the checkout's editable install
    assert found["top_level"] == {"corpus": "ModuleNotFoundError", "annotate": "ModuleNotFoundError",
                                  "export": "ModuleNotFoundError"}
    assert found["sentences"] == 1000
    assert Path(found["sample"]) == site_packages / "mudawwana" / "corpus" / "data" / "ar_pud-sample.conllu"
