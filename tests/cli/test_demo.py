"""`mudawwana demo` prints follow-up commands that work as printed, with or without `mudawwana` on PATH."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mudawwana.cli.app import command_prefix
from mudawwana.cli.demo import follow_up


def _script(directory: Path, body: str = "#!/bin/sh\necho other\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "mudawwana"
    path.write_text(body, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def venv_script(tmp_path):
    """A console script in a folder with a space, as bootstrap.sh's .venv/bin/mudawwana would be."""
    return _script(tmp_path / "my venv" / "bin", "#!/bin/sh\necho this\n")


def test_bare_name_when_path_finds_this_same_program(monkeypatch, venv_script):
    monkeypatch.setattr(sys, "argv", [str(venv_script), "demo"])
    monkeypatch.setenv("PATH", str(venv_script.parent))
    assert command_prefix() == "mudawwana"


def test_the_script_path_when_mudawwana_is_not_on_path(monkeypatch, venv_script, tmp_path):
    monkeypatch.setattr(sys, "argv", [str(venv_script), "demo"])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    prefix = command_prefix()
    assert prefix == shlex.quote(str(venv_script))
    assert shlex.split(prefix) == [str(venv_script)]


def test_the_script_path_when_path_finds_another_mudawwana(monkeypatch, venv_script, tmp_path):
    other = _script(tmp_path / "elsewhere")
    monkeypatch.setattr(sys, "argv", [str(venv_script), "demo"])
    monkeypatch.setenv("PATH", str(other.parent))
    assert command_prefix() == shlex.quote(str(venv_script))


def test_a_relative_script_path_is_made_absolute(monkeypatch, venv_script, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(venv_script.relative_to(tmp_path)), "demo"])
    monkeypatch.setenv("PATH", "")
    assert shlex.split(command_prefix()) == [str(venv_script)]


def test_python_dash_m_gives_this_interpreter(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "mudawwana" / "__main__.py"), "demo"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "py env" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(_script(tmp_path / "elsewhere").parent))
    assert shlex.split(command_prefix()) == [str(tmp_path / "py env" / "bin" / "python"), "-m", "mudawwana"]


def test_python_dash_m_gives_this_interpreters_script_when_path_lacks_it(monkeypatch, venv_script, tmp_path):
    monkeypatch.setattr(sys, "argv", ["/somewhere/mudawwana/__main__.py", "demo"])
    monkeypatch.setattr(sys, "executable", str(venv_script.parent / "python"))
    monkeypatch.setenv("PATH", str(_script(tmp_path / "elsewhere").parent))
    assert shlex.split(command_prefix()) == [str(venv_script)]


def test_python_dash_m_gives_the_bare_name_when_path_finds_this_interpreters_script(monkeypatch, venv_script):
    monkeypatch.setattr(sys, "argv", ["/somewhere/mudawwana/__main__.py", "demo"])
    monkeypatch.setattr(sys, "executable", str(venv_script.parent / "python"))
    monkeypatch.setenv("PATH", str(venv_script.parent))
    assert command_prefix() == "mudawwana"


def test_the_printed_commands_run_in_a_shell(monkeypatch, tmp_path):
    """The real thing, no PATH: the printed prefix, pasted into a shell, runs this mudawwana."""
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "src" / "mudawwana" / "__main__.py")])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    server = SimpleNamespace(url="http://127.0.0.1:8080", username="a@b.c", password="pw",
                             data_dir=tmp_path / "demo dir" / "label-studio")
    report = SimpleNamespace(sentences=3, model_version="m@1")
    text = follow_up(server, "mudawwana demo", report, tmp_path / "demo dir")
    prefix = command_prefix()
    assert prefix != "mudawwana" and Path(shlex.split(prefix)[0]).is_absolute()
    assert f'eval "$({prefix} studio --detach --data-dir {shlex.quote(str(server.data_dir))})"' in text
    assert f"{prefix} export --project 'mudawwana demo' -o " in text
    stop = next(line for line in text.splitlines() if line.startswith("Stop Label Studio: "))
    command = stop.removeprefix("Stop Label Studio: ").replace(" studio --stop", " studio --help")
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120,
                          env={"PATH": str(tmp_path / "empty"), "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert "--data-dir" in done.stdout


def test_annotators_are_sent_to_the_label_stream(tmp_path):
    """Submit in Label Studio's label stream ("Label All Tasks") opens the next task (tests/annotate/test_editor.py
    measures it): the printed instructions open the project there."""
    server = SimpleNamespace(url="http://127.0.0.1:8080", username="a@b.c", password="pw",
                             data_dir=tmp_path / "label-studio")
    report = SimpleNamespace(sentences=3, model_version="m@1")
    text = follow_up(server, "mudawwana demo", report, tmp_path, project_id=7)
    assert "  http://127.0.0.1:8080/projects/7/data?labeling=1\n" in text
    assert "Submit opens the next one" in text and "j join" in text
