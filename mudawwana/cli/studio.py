"""`mudawwana studio`: run (or find) the local Label Studio and tell the user how to reach it."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from mudawwana.annotate.datadir import DB_FILE, LOG_FILE, default_data_dir
from mudawwana.annotate.server import StudioServer, find_running, log_tail, start_label_studio, stop_studio
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
    timeout: float = typer.Option(180, help="Seconds to wait for it to start (the very first start migrates "
                                  "the database: about a minute)."),
) -> None:
    """Start a local Label Studio on 127.0.0.1, or find the one already running for the data dir.

    Prints, on stdout, the URL, the login for the web UI and the environment for the other commands
    (push, pull): eval "$(mudawwana studio --detach)" sets them in your shell. Label Studio runs from its
    own virtualenv (MUDAWWANA_LABEL_STUDIO, `label-studio` on PATH, or one installed on first use under
    ~/.cache/mudawwana; MUDAWWANA_LS_VENV moves it).

    This local server uses SQLite and suits one machine. For a shared production server run Label Studio
    yourself on PostgreSQL (its own settings: DJANGO_DB=default, POSTGRE_NAME, POSTGRE_USER,
    POSTGRE_PASSWORD, POSTGRE_HOST, POSTGRE_PORT) and point mudawwana at it with LABEL_STUDIO_URL and
    LABEL_STUDIO_API_KEY or --url/--api-key.

    Example: mudawwana studio --detach --port 8080  (then: mudawwana studio --stop)
    """
    data_dir = (data_dir or default_data_dir()).absolute()
    if stop:
        pid = stop_studio(data_dir)
        console.print(f"stopped Label Studio (pid {pid})" if pid else f"no Label Studio running for {data_dir}",
                      highlight=False)
        return
    server = find_running(data_dir)
    if server is not None:
        if port is not None and not server.url.endswith(f":{port}"):
            console.print(f"[yellow]note:[/] not moving it to port {port}; stop it first to change ports")
        _print_access(server, "already running")
        return
    first = "; first start: creating its database takes about a minute" if not (data_dir / DB_FILE).exists() else ""
    console.print(f"starting Label Studio for {data_dir} (log: {data_dir / LOG_FILE}){first}", highlight=False)
    server = start_label_studio(data_dir, port=port, timeout=timeout)
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
    typer.echo(f"# Label Studio {what} at {server.url} (pid {server.pid}, data: {server.data_dir})")
    typer.echo(f"# web login: {server.username} / {server.password}")
    typer.echo(f"export LABEL_STUDIO_URL={shlex.quote(server.url)}")
    typer.echo(f"export LABEL_STUDIO_API_KEY={shlex.quote(server.api_key)}")
