"""The `mudawwana` command: one typer app, one small module per subcommand.

Each subcommand module defines a function and registers it on `app`; the modules stay thin layers over
library functions in corpus/, annotate/ and export/.
"""

from __future__ import annotations

import importlib
import sys

from mudawwana.corpus.errors import MudawwanaError
from mudawwana.cli.app import app, report_error

# Importing a command module registers its subcommand on `app`.
_COMMANDS = ("train", "tag", "studio", "push", "pull", "agreement", "export", "demo")
for _name in _COMMANDS:
    try:
        importlib.import_module(f"mudawwana.cli.{_name}")
    except ModuleNotFoundError as e:  # a command still being written must not break the others
        if e.name != f"mudawwana.cli.{_name}":
            raise


def main() -> None:
    try:
        app()
    except MudawwanaError as e:  # library errors are for users: one line, no traceback
        report_error(str(e))
        sys.exit(1)
    except KeyboardInterrupt:
        report_error("interrupted; rerun the same command to continue where it stopped")
        sys.exit(130)
