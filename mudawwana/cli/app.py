"""The typer app, shared console helpers and the one-line error convention."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn, Optional

import typer
from rich.console import Console

from mudawwana import __version__

app = typer.Typer(
    name="mudawwana",
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
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop a command with one line on stderr (inside a command; library errors reach main() instead)."""
    report_error(message)
    raise typer.Exit(code)


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
