"""`mudawwana studio`: run (or find) the local Label Studio and tell the user how to reach it."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from mudawwana.annotate.datadir import DB_FILE, LOG_FILE, default_data_dir
from mudawwana.annotate.server import (Database, StudioServer, check_same_database, describe_database, find_running,
                                      log_tail, start_label_studio, stop_studio)
from mudawwana.cli.app import app, command_prefix, console, fail


@app.command()
def studio(
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port on 127.0.0.1 (default: a free one)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", file_okay=False, show_default=False,
                                            help="Label Studio's database, media and our credentials file. "
                                            "Default: ~/.local/share/mudawwana/label-studio ($XDG_DATA_HOME "
                                            "moves it)."),
    detach: bool = typer.Option(False, "--detach/--foreground", help="Leave the server running in the background "
                                "and return, or stay and stop it on Ctrl-C."),
    stop: bool = typer.Option(False, "--stop", help="Stop the server running for --data-dir and exit."),
    database: Optional[str] = typer.Option(None, "--database", envvar="MUDAWWANA_DATABASE", show_default=False,
                                           metavar="URL", help="Run Label Studio on this PostgreSQL database, "
                                           "postgresql://USER@HOST:PORT/NAME (default: SQLite in the data dir). "
                                           "Give the password by PGPASSWORD or ~/.pgpass, or put the URL in "
                                           "$MUDAWWANA_DATABASE: a command line is visible to every user."),
    timeout: float = typer.Option(180, help="Seconds to wait for it to start (the very first start migrates "
                                  "the database: about a minute on SQLite, two on PostgreSQL)."),
) -> None:
    """Start a local Label Studio on 127.0.0.1, or find the one already running for the data dir.

    Prints, on stdout, the URL, the login for the web UI and the environment for the other commands
    (push, pull): eval "$(mudawwana studio --detach)" sets them in your shell. Label Studio runs from its
    own virtualenv (MUDAWWANA_LABEL_STUDIO, `label-studio` on PATH, or one installed on first use under
    ~/.cache/mudawwana; MUDAWWANA_LS_VENV moves it).

    The database is SQLite in the data dir unless --database names a PostgreSQL one (Label Studio's own
    DJANGO_DB and POSTGRE_* settings, set for it): for many annotators, or cron jobs and colleagues pushing
    at once. Without --database, a server already running for the data dir is reused whatever its database.
    The server listens on 127.0.0.1 only; a shared one behind a proxy is yours to run, and mudawwana reaches
    it with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY or --url/--api-key.

    Example: mudawwana studio --detach --port 8080  (then: mudawwana studio --stop)

    Example: PGPASSWORD=... mudawwana studio --detach --database postgresql://ls@db.example.org/labelstudio
    """
    data_dir = (data_dir or default_data_dir()).absolute()
    db = Database.parse(database) if database else None
    if stop:
        pid = stop_studio(data_dir)
        console.print(f"stopped Label Studio (pid {pid})" if pid else f"no Label Studio running for {data_dir}",
                      highlight=False)
        return
    server = find_running(data_dir)
    if server is not None:
        if db is not None:
            check_same_database(server, db)
        if port is not None and not server.url.endswith(f":{port}"):
            console.print(f"[yellow]note:[/] not moving it to port {port}; stop it first to change ports")
        _print_access(server, "already running")
        return
    if db is not None:
        where = f" on {db}; a first start on an empty database creates its tables (about two minutes)"
    else:
        where = "; first start: creating its database takes about a minute" if not (data_dir / DB_FILE).exists() else ""
    console.print(f"starting Label Studio for {data_dir} (log: {data_dir / LOG_FILE}){where}", highlight=False)
    server = start_label_studio(data_dir, port=port, timeout=timeout, database=db)
    _print_access(server, "started")
    if detach:
        console.print(f"running in the background; stop it with: {command_prefix()} studio --stop"
                      + (f" --data-dir {shlex.quote(str(data_dir))}" if data_dir != default_data_dir() else ""),
                      highlight=False, soft_wrap=True)
        return
    # Foreground: the server is in its own session, so Ctrl-C (and a kill of this command) must stop it here.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    console.print("press Ctrl-C to stop", highlight=False)
    try:
        code = server.process.wait()
    except KeyboardInterrupt:
        code = None
    finally:
        server.stop()
    if code is not None:
        fail(f"Label Studio exited with code {code}; last lines of its log:\n{log_tail(data_dir)}")
    console.print("Label Studio stopped", highlight=False)


def _print_access(server: StudioServer, what: str) -> None:
    # Shell syntax on stdout (comments for people), so the output can be eval'ed as it is.
    typer.echo(f"# Label Studio {what} at {server.url} (pid {server.pid}, data: {server.data_dir}, database: "
               f"{describe_database(server.database)})")
    typer.echo(f"# web login: {server.username} / {server.password}")
    typer.echo(f"export LABEL_STUDIO_URL={shlex.quote(server.url)}")
    typer.echo(f"export LABEL_STUDIO_API_KEY={shlex.quote(server.api_key)}")
