"""`mudawwana serve`: the stanza model as a Label Studio ML backend (pre-annotations and training rounds).

A thin layer over annotate/ml_backend.py (the model) and annotate/ml_backend_app.py (the HTTP app)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail, must_exist
from mudawwana.cli.choices import Device, Policy, Size

PASSWORD_ENV = "MUDAWWANA_BACKEND_PASSWORD"  # = annotate/ml_backend_connect.py PASSWORD_ENV (tests check)


@app.command()
def serve(
    model_dir: Path = typer.Option(..., "--model-dir", "-m", file_okay=False, callback=must_exist,
                                   help="The model served, and where training rounds deploy theirs (retrain's -o: "
                                        "MODEL_DIR.rounds.json and MODEL_DIR.retrain/ lie beside it)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (only this machine by default)."),
    port: int = typer.Option(9090, "--port", "-p", help="Port to listen on."),
    base: Optional[Path] = typer.Option(None, "--base", metavar="BASE.conllu", dir_okay=False, callback=must_exist,
                                        help="What every round trains on besides the corrections (see `retrain`); "
                                             "without it Start Training is refused."),
    size: Size = typer.Option(Size.small, "--size", help="Model size of the rounds (see `mudawwana train`)."),
    min_new: int = typer.Option(1, "--min-new", min=0, help="A round trains only when at least this many corrected "
                                "sentences are new or changed since the last one."),
    train_every: int = typer.Option(0, "--train-every", min=0, metavar="N", help="Also start a round after every N "
                                    "new annotations (0: only when Start Training is pressed)."),
    force: bool = typer.Option(False, "--force", help="Deploy every round's model, even one that scores worse."),
    policy: Policy = typer.Option(Policy.latest, "--policy", help="Which annotation makes a corrected sentence."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Cap on each model's update steps."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch CPU threads for training."),
    device: Device = typer.Option(Device.cpu, "--device", help="Where the model runs."),
    basic_auth_user: Optional[str] = typer.Option(None, "--basic-auth-user", envvar="MUDAWWANA_BACKEND_USER",
                                                  help="Require HTTP basic auth with this user (Label Studio's "
                                                       "BASIC_AUTH); the password comes from $" + PASSWORD_ENV + "."),
    basic_auth_password: Optional[str] = typer.Option(None, "--basic-auth-password", envvar=PASSWORD_ENV,
                                                      show_default=False, show_envvar=True,
                                                      help="The basic-auth password (prefer the environment "
                                                           "variable: a command line is visible to every user)."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Serve the model to Label Studio: predictions for its tasks, training rounds on its corrections.

    Label Studio's ML backend protocol: /health, /setup, /predict (tasks pushed by `mudawwana push` are tagged
    again from their words; tasks imported in Label Studio with only a `text` are tokenized and tagged, and
    their data completed through the API so pull and export treat them like pushed ones), /webhook (counts new
    annotations; START_TRAINING runs a `retrain` round in the background, one at a time, and the backend then
    serves the new model). The model is loaded once, at start. The Label Studio URL and API key are used to
    complete tasks and run rounds; without them the address and token Label Studio sends to /setup are used.

    Register it with a project: mudawwana connect-backend --project news --backend-url http://127.0.0.1:9090

    Example: mudawwana serve --model-dir models/news --base base.conllu --train-every 50
    """
    from mudawwana.annotate.ml_backend import StanzaBackend, TrainingSettings
    from mudawwana.annotate.ml_backend_app import run

    if (basic_auth_user is None) != (basic_auth_password is None):
        fail(f"basic auth needs both a user (--basic-auth-user) and a password (${PASSWORD_ENV})")
    for name in ("mudawwana.annotate.ml_backend", "mudawwana.annotate.ml_backend_app", "mudawwana.annotate.retrain"):
        logging.getLogger(name).setLevel(logging.INFO)
    training = TrainingSettings(base=base, size=size.value, min_new=min_new, force=force, policy=policy.value,
                                max_steps=max_steps, threads=threads, every=train_every)
    console.print(f"loading {model_dir} ...", highlight=False)
    backend = StanzaBackend(model_dir, device=device.value, url=url, api_key=api_key, training=training)
    auth = (basic_auth_user, basic_auth_password) if basic_auth_user else None
    console.print(f"serving {backend.model_version} at http://{host}:{port} "
                  f"({'basic auth' if auth else 'no auth'}; training {'on' if base else 'off: no --base'})",
                  highlight=False)
    run(backend, host=host, port=port, basic_auth=auth)
