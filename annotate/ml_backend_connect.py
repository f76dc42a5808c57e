"""Connecting `mudawwana serve` to a Label Studio project through Label Studio's API, and starting it.

`connect_backend` registers the backend as the project's ML backend (`POST /api/ml`, or a PATCH of the one
already registered at that URL), makes sure the webhook Label Studio creates for it (`<url>/webhook`, every
action, with payload) exists and carries the basic-auth header when the backend wants one (Label Studio's
own webhook has none), and turns "use predictions to prelabel tasks" on with the backend as the project's live
model (`show_collab_predictions`, `model_version` = the backend's title): Label Studio then asks the backend
for a prediction when an annotator opens a task without one. Facts relied on: docs/ml-backend.md.

Label Studio refuses backends and webhooks on this machine's addresses by default (its SSRF protection: the
backend URL is checked when registered, every request to it and every webhook afterwards). `loopback_env()`
is the environment that lets a Label Studio started by mudawwana reach 127.0.0.1 and ::1 only, keeping every
other banned network (private ranges, link-local cloud metadata) banned.

`start_backend` runs `mudawwana serve` as a background process (its own session; log in a file) and waits
until it answers; secrets go through its environment, never its command line (visible to every user).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from mudawwana.annotate.client import StudioError, StudioHTTPError, get_json, request, sdk_call
from mudawwana.annotate.ml_backend import BACKEND_TITLE, PREDICT_TIMEOUT

log = logging.getLogger(__name__)

# Label Studio's default banned subnets (core/utils/io.py validate_ip, 1.23) minus the loopback ones.
_BANNED_BUT_LOOPBACK = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "233.252.0.0/24", "240.0.0.0/4", "255.255.255.255/32", "::/128", "::ffff:0:0/96",
    "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:0000::/32", "2001:20::/28",
    "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
)
# Environment variables the backend process reads its secrets from (never the command line).
PASSWORD_ENV = "MUDAWWANA_BACKEND_PASSWORD"


def loopback_env() -> dict[str, str]:
    """Label Studio settings under which it may call an ML backend and webhooks on 127.0.0.1 / ::1 only."""
    return {"LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS": "false",
            "LABEL_STUDIO_USER_ADDITIONAL_BANNED_SUBNETS": ",".join(_BANNED_BUT_LOOPBACK)}


@contextmanager
def loopback_backends_allowed() -> Iterator[None]:
    """While inside, a Label Studio started by annotate/server.py gets loopback_env() (it copies os.environ)."""
    saved = {k: os.environ.get(k) for k in loopback_env()}
    os.environ.update(loopback_env())
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Connection:
    project_id: int
    project_title: str
    backend_id: int
    backend_url: str
    created: bool  # False: the registration at this URL was updated
    webhook_id: int | None
    model_version: str | None  # what the backend reported when Label Studio set it up
    state: str | None


def connect_backend(client, project_title: str, backend_url: str, *, title: str = BACKEND_TITLE,
                    basic_auth: tuple[str, str] | None = None, timeout: float = PREDICT_TIMEOUT) -> Connection:
    """Register the backend at `backend_url` with the project; see the module docstring. Rerunnable."""
    from mudawwana.annotate.projects import get_project, project_layers

    backend_url = backend_url.rstrip("/")
    project = get_project(client, project_title)
    project_layers(client, project)  # a project not made by push is refused here, not at the first prediction
    body = {"url": backend_url, "project": project.id, "title": title, "is_interactive": False,
            "timeout": timeout, "auto_update": True, "description": "mudawwana serve: stanza pre-annotations "
            "and retraining rounds (docs/ml-backend.md)"}
    if basic_auth is not None:
        body.update(auth_method="BASIC_AUTH", basic_auth_user=basic_auth[0], basic_auth_pass=basic_auth[1])
    else:
        body.update(auth_method="NONE")
    existing = [b for b in project_backends(client, project.id) if (b.get("url") or "").rstrip("/") == backend_url]
    what = f"the registration of the ML backend {backend_url} with project {project.id}"
    try:
        resp = _create_or_update(client, "api/ml", existing[0]["id"] if existing else None, body, what)
    except StudioHTTPError as e:
        raise _registration_error(client, e, backend_url) from None
    registered = resp.json()
    webhook_id = _ensure_webhook(client, project.id, backend_url, basic_auth)
    with sdk_call(client, f"the prediction settings of project {project.id}"):
        client.projects.update(project.id, show_collab_predictions=True, model_version=title)
    return Connection(project.id, project.title, registered["id"], backend_url, not existing, webhook_id,
                      registered.get("model_version"), registered.get("readable_state"))


def project_backends(client, project_id: int) -> list[dict]:
    """The ML backends registered with the project (Label Studio's `api/ml` listing)."""
    found = get_json(client, "api/ml", {"project": project_id}, what=f"the ML backends of project {project_id}")
    return [b for b in found if isinstance(b, dict)]


def _registration_error(client, e: StudioHTTPError, url: str) -> StudioError:
    text = str(e)
    if e.status_code == 403 and _key_accepted(client):
        # Label Studio answers its SsrfBlockedUrlError with 403 (core/utils/exceptions.py); client.http_error reads
        # a 403 as a refused key, but the key was just accepted: it is the URL that was refused.
        return StudioError(f"Label Studio refuses the ML backend at {url}: its SSRF protection bans this machine's "
                           "addresses by default. Start Label Studio so that it allows loopback backends "
                           "(`mudawwana connect-backend --start-studio ...` does; or set the variables of "
                           "docs/ml-backend.md, \"Connecting\", for your own server), or give the backend an "
                           "address Label Studio may reach")
    if "health check failed" in text or "Can't connect" in text:
        return StudioError(f"Label Studio cannot reach the ML backend at {url} (its health check failed): start "
                           "it (`mudawwana serve --model-dir DIR`) where Label Studio can reach it")
    if "authentication" in text.lower():
        return StudioError(f"the ML backend at {url} refused Label Studio's credentials: give connect-backend the "
                           "backend's --basic-auth-user and its password")
    return e


def _key_accepted(client) -> bool:
    try:
        with sdk_call(client, "a login check"):
            client.users.whoami()
    except StudioError:
        return False
    return True


def _ensure_webhook(client, project_id: int, backend_url: str, basic_auth) -> int | None:
    """The project's webhook to `<backend>/webhook` (Label Studio creates it with the backend, without auth
    headers; it skips the creation silently when its URL check fails): created or updated here."""
    url = backend_url + "/webhook"
    hooks = get_json(client, "api/webhooks/", {"project": project_id}, what=f"the webhooks of project {project_id}")
    mine = [h for h in hooks if isinstance(h, dict) and h.get("url") == url and h.get("project") == project_id]
    headers = {}
    if basic_auth is not None:
        token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
    body = {"url": url, "project": project_id, "send_payload": True, "send_for_all_actions": True,
            "headers": headers, "is_active": True}
    what = f"the webhook {url} of project {project_id}"
    return _create_or_update(client, "api/webhooks/", mine[0]["id"] if mine else None, body, what).json().get("id")


def _create_or_update(client, collection: str, existing_id: int | None, body: dict, what: str):
    """POST `body` to the collection (`api/ml`, `api/webhooks/`), or PATCH the existing item in it."""
    path = collection if existing_id is None else f"{collection.rstrip('/')}/{existing_id}" + \
        ("/" if collection.endswith("/") else "")
    return request(client, "POST" if existing_id is None else "PATCH", path, what=what, timeout=60, retries=0,
                   body=json.dumps(body).encode())


# --- starting the backend process -------------------------------------------------------------------------------

@dataclass
class BackendProcess:
    url: str
    process: subprocess.Popen
    log_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def backend_health(url: str, basic_auth: tuple[str, str] | None = None, timeout: float = 2) -> dict | None:
    """The backend's /health answer, or None when it does not answer UP."""
    req = urllib.request.Request(url.rstrip("/") + "/health")
    if basic_auth is not None:
        token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.loads(r.read())
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) and body.get("status") == "UP" else None


def start_backend(args: list[str], *, port: int, log_file: Path, env: dict[str, str] | None = None,
                  basic_auth: tuple[str, str] | None = None, host: str = "127.0.0.1",
                  timeout: float = 300) -> BackendProcess:
    """Run `mudawwana serve --port PORT ARGS...` in the background and wait until /health answers UP.

    env: extra environment (secrets: LABEL_STUDIO_API_KEY, PASSWORD_ENV). The model loads before the server
    listens, so waiting for /health waits for the model."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mudawwana", "serve", "--host", host, "--port", str(port), *args]
    with open(log_file, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StudioError(f"`mudawwana serve` exited with code {process.returncode} while starting; its log "
                              f"({log_file}) ends:\n{_tail(log_file)}")
        if backend_health(url, basic_auth, timeout=1) is not None:
            return BackendProcess(url, process, log_file)
        time.sleep(0.3)
    process.terminate()
    raise StudioError(f"`mudawwana serve` did not answer at {url} within {timeout:.0f} s; its log ({log_file}) "
                      f"ends:\n{_tail(log_file)}")


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


__all__ = ["connect_backend", "Connection", "loopback_env", "loopback_backends_allowed", "start_backend",
           "BackendProcess", "backend_health", "PASSWORD_ENV"]
