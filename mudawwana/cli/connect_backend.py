"""`mudawwana connect-backend`: start `mudawwana serve` and register it with a project (ML backend + webhook).

A thin layer over annotate/ml_backend_connect.py."""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail, must_exist
from mudawwana.cli.choices import Size


@app.command("connect-backend")
def connect_backend(
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", "-m", file_okay=False, callback=must_exist,
                                             help="Start `mudawwana serve --model-dir MODEL_DIR` in the "
                                                  "background and register it."),
    backend_url: Optional[str] = typer.Option(None, "--backend-url", metavar="URL",
                                              help="Register a backend that already runs at URL instead."),
    port: Optional[int] = typer.Option(None, "--port", help="Port of the started backend (default: 9090 if free, "
                                       "else a free one)."),
    base: Optional[Path] = typer.Option(None, "--base", metavar="BASE.conllu", dir_okay=False, callback=must_exist,
                                        help="Training data besides the corrections (serve's --base)."),
    size: Size = typer.Option(Size.small, "--size", help="Model size of the rounds."),
    train_every: int = typer.Option(0, "--train-every", min=0, metavar="N",
                                    help="A round after every N new annotations (0: on Start Training only)."),
    basic_auth_user: Optional[str] = typer.Option(None, "--basic-auth-user", envvar="MUDAWWANA_BACKEND_USER",
                                                  help="HTTP basic auth between Label Studio and the backend; "
                                                       "the password comes from $MUDAWWANA_BACKEND_PASSWORD."),
    start_studio: bool = typer.Option(False, "--start-studio", help="Start the local Label Studio (if it is not "
                                      "running) so that it may call a backend on this machine (docs/ml-backend.md)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", file_okay=False,
                                            help="Data dir of the Label Studio --start-studio starts."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Connect the stanza ML backend to a project: pre-annotations and Start Training in Label Studio's UI.

    Starts `mudawwana serve` in the background (or uses --backend-url), registers it as the project's ML backend
    through Label Studio's API with its webhook (annotation events, Start Training), and turns on "use
    predictions to prelabel tasks" with the backend as the live model. Label Studio refuses backends on this
    machine's addresses unless started to allow them: --start-studio starts the local one that way.

    Example: mudawwana connect-backend --project news --model-dir models/news --base base.conllu --start-studio
    """
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.ml_backend_connect import PASSWORD_ENV, connect_backend as register, start_backend

    if (model_dir is None) == (backend_url is None):
        fail("give either --model-dir (start a backend) or --backend-url (one that runs already)")
    password = os.environ.get(PASSWORD_ENV)
    if basic_auth_user and not password:
        fail(f"--basic-auth-user needs the password in ${PASSWORD_ENV}")
    auth = (basic_auth_user, password) if basic_auth_user else None
    if start_studio:
        from mudawwana.annotate.datadir import default_data_dir
        from mudawwana.annotate.ml_backend_connect import loopback_backends_allowed
        from mudawwana.annotate.server import find_running, start_label_studio

        directory = (data_dir or default_data_dir()).absolute()
        if find_running(directory) is None:
            console.print(f"starting Label Studio for {directory}, allowing ML backends on this machine",
                          highlight=False)
        with loopback_backends_allowed():
            server = start_label_studio(directory)
        url, api_key = server.url, server.api_key
    client = connect(url, api_key)
    from mudawwana.annotate.client import base_url

    studio_url = base_url(client).rstrip("/")
    started = None
    if model_dir is not None:
        chosen = port or (9090 if _free(9090) else _free_port())
        args = ["--model-dir", str(model_dir.absolute()), "--size", size.value, "--train-every", str(train_every)]
        if base is not None:
            args += ["--base", str(base.absolute())]
        if auth:
            args += ["--basic-auth-user", auth[0]]
        env = {"LABEL_STUDIO_URL": studio_url}
        key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
        if key:
            env["LABEL_STUDIO_API_KEY"] = key
        if auth:
            env[PASSWORD_ENV] = auth[1]
        log_file = model_dir.absolute().with_name(model_dir.name + ".backend.log")
        console.print(f"starting `mudawwana serve` for {model_dir} on port {chosen} (log: {log_file})",
                      highlight=False)
        started = start_backend(args, port=chosen, log_file=log_file, env=env, basic_auth=auth)
        backend_url = started.url
    done = register(client, project, backend_url, basic_auth=auth)
    what = "registered" if done.created else "updated the registration of"
    console.print(f"{what} the ML backend {done.backend_url} (id {done.backend_id}, {done.state or 'state ?'}, "
                  f"model {done.model_version}) with project {done.project_title!r} (id {done.project_id}); webhook "
                  f"{done.webhook_id}; predictions prelabel tasks", highlight=False, soft_wrap=True)
    if started is not None:
        console.print(f"the backend runs in the background (pid {started.pid}); stop it with: kill {started.pid}",
                      highlight=False)
        typer.echo(f"export MUDAWWANA_BACKEND_URL={shlex.quote(started.url)}")
        typer.echo(f"export MUDAWWANA_BACKEND_PID={started.pid}")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
