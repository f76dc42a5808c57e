"""The one error hook (cli/app.py MudawwanaGroup): a user error is one `error:` line and exit 1, Ctrl-C says
how to continue and exits 130, through typer's CliRunner and through the real console script alike."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from mudawwana.cli import app
from mudawwana.cli.app import INTERRUPTED, MudawwanaGroup
from mudawwana.corpus.errors import InputError


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "error:" in line]


@pytest.fixture
def toy_app():
    toy = typer.Typer(cls=MudawwanaGroup, pretty_exceptions_enable=False)

    @toy.command()
    def user_error(message: str = "bad [input] 'x.conllu'") -> None:
        raise InputError(message)

    @toy.command()
    def interrupted() -> None:
        raise KeyboardInterrupt

    @toy.command()
    def bug() -> None:
        raise RuntimeError("a bug")

    return toy


def test_a_library_error_is_one_line_and_exit_1(toy_app):
    result = CliRunner().invoke(toy_app, ["user-error"])
    assert result.exit_code == 1
    # printed as text, never as rich markup: the brackets survive
    assert error_lines(result.output) == ["error: bad [input] 'x.conllu'"]
    assert "Traceback" not in result.output


def test_ctrl_c_says_rerun_and_exits_130(toy_app):
    result = CliRunner().invoke(toy_app, ["interrupted"])
    assert result.exit_code == 130
    assert INTERRUPTED in result.output


def test_a_bug_is_not_swallowed(toy_app):
    result = CliRunner().invoke(toy_app, ["bug"])
    assert isinstance(result.exception, RuntimeError)


def test_a_real_command_reports_a_bad_input_through_clirunner(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tfoo\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["export", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert len(error_lines(result.output)) == 1 and "bad.conllu:1:" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_real_command_interrupted_says_rerun(monkeypatch, tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("نص\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("mudawwana.cli.tag.tag_files", interrupted)
    result = CliRunner().invoke(app, ["tag", str(text), "-o", str(tmp_path / "x.conllu")])
    assert result.exit_code == 130
    assert INTERRUPTED in result.output and "Traceback" not in result.output


def test_the_console_script_reports_a_bad_input_the_same_way(run_cli, tmp_path):
    (tmp_path / "bad.conllu").write_text("1\tfoo\n\n", encoding="utf-8")
    done = run_cli("export", "bad.conllu", "-o", "out")
    assert done.returncode == 1, done.stderr
    assert error_lines(done.stderr) == ["error: bad.conllu:1: expected 10 tab-separated columns, found 2; "
                                        "fix the file and rerun"]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "out").exists()
