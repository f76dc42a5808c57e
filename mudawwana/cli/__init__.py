"""The `mudawwana` command: one typer app, one small module per subcommand.

Each subcommand module defines a function and registers it on `app`; the modules stay thin layers over
library functions in corpus/, annotate/ and export/. They catch no library errors: app.MudawwanaGroup turns
every MudawwanaError into one `error:` line and exit 1. Closed choices are Enums in cli/choices.py, input
paths are checked while parsing (app.must_exist), long steps use cli/progress.py's bar.
"""

from __future__ import annotations

import importlib

from mudawwana.cli.app import app

# Importing a command module registers its subcommand on `app`.
_COMMANDS = ("train", "tag", "convert", "studio", "push", "pull", "agreement", "export", "demo",
             "train_curve", "retrain", "report", "serve", "connect_backend")
for _name in _COMMANDS:
    try:
        importlib.import_module(f"mudawwana.cli.{_name}")
    except ModuleNotFoundError as e:  # a command still being written must not break the others
        if e.name != f"mudawwana.cli.{_name}":
            raise


def main() -> None:
    # User errors (MudawwanaError -> one `error:` line, exit 1) and Ctrl-C (exit 130) are handled by the
    # command group itself (app.MudawwanaGroup), so CliRunner sees exactly what this entry point does.
    app()
