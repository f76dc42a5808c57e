"""The typer app, shared console helpers and the one-line error convention."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from mudawwana import __version__
from mudawwana.corpus.errors import InputError, MudawwanaError

INTERRUPTED = "interrupted; rerun the same command to continue where it stopped"


class MudawwanaGroup(TyperGroup):
    """The command group: every subcommand runs inside its invoke(), the one place user errors are reported.

    A MudawwanaError (a library error a user can fix) becomes one red `error: ...` line on stderr and exit 1;
    Ctrl-C says how to continue and exits 130. Because this is the group itself and not a wrapper around
    `app()`, it holds for `mudawwana ...` (cli.main) and typer's CliRunner alike. Anything else is a bug and
    keeps its traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MudawwanaError as e:
            report_error(str(e))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            report_error(INTERRUPTED)
            raise typer.Exit(130) from None


app = typer.Typer(
    name="mudawwana",
    cls=MudawwanaGroup,
    help="Raw Arabic text -> stanza pre-annotations -> corrections in Label Studio -> a Hugging Face dataset.\n\n"
    "Example: mudawwana demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Options shared by every command that talks to Label Studio (the SDK's environment conventions).
LS_URL_OPTION = typer.Option(None, "--url", help="Label Studio URL (default: $LABEL_STUDIO_URL, else the local "
                             "`mudawwana studio`).")
LS_API_KEY_OPTION = typer.Option(None, "--api-key", show_default=False,
                                 help="Label Studio API token (default: $LABEL_STUDIO_API_KEY).")

# Logs, progress bars and summaries go to stderr; data goes to files or stdout, never mixed.
console = Console(stderr=True)


def report_error(message: str) -> None:
    # Text, not markup: a message may hold brackets (a CoNLL-U field, a list) that rich would eat.
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop a command with one line on stderr, for problems the command itself finds (bad option mixes).

    Library errors need nothing: raise (or let through) a MudawwanaError and MudawwanaGroup reports it.
    """
    report_error(message)
    raise typer.Exit(code)


def must_exist(value: Any) -> Any:
    """Typer callback for input paths (one, a list, or None): stop before anything is loaded or started.

    Runs while the arguments are parsed, so a typo never costs a model load or a server start; the message
    names the path, on one line, like every other user error (exit 1).
    """
    paths = [] if value is None else value if isinstance(value, (list, tuple)) else [value]
    for path in paths:
        if not Path(path).exists():
            raise InputError(f"{path}: no such file or directory")
    return value


def command_prefix() -> str:
    """How to run this same mudawwana from a shell, for the follow-up commands a command prints.

    `mudawwana` when that name on PATH is this program; otherwise the absolute path of the running script
    (e.g. .venv/bin/mudawwana after `bash scripts/bootstrap.sh demo`, with nothing on PATH) or of this
    interpreter's script (under `python -m mudawwana`), else `python -m mudawwana` with this interpreter.
    Quoted for the shell, so the printed commands work as printed.
    """
    on_path = shutil.which("mudawwana")
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.stem == "mudawwana" and argv0.is_file():
        this = argv0  # the console script (bin/mudawwana, Scripts\mudawwana.exe)
    else:  # python -m mudawwana, or inside another program (tests)
        this = None
        sibling = Path(sys.executable).parent / ("mudawwana.exe" if os.name == "nt" else "mudawwana")
        if sibling.is_file():
            this = sibling  # this interpreter's own console script: runs the same installed mudawwana
    if this is None:
        return f"{shlex.quote(sys.executable)} -m mudawwana"
    if on_path and _same_file(on_path, this):
        return "mudawwana"
    return shlex.quote(str(this.absolute()))


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mudawwana {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages to stderr."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
