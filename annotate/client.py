"""The one way to a Label Studio server: connecting, every HTTP request, and errors that say what to do.

Everything mudawwana asks of Label Studio goes through this module or annotate/projects.py (the project and
task operations, built on the requests here): the health checks annotate/server.py makes while it starts a
server, the SDK's typed calls, and plain-HTTP requests on the SDK's own connection. Whatever fails comes out
as a StudioError whose one-line message says what to do; the API key never appears in one (messages end up in
CI logs and bug reports).

The SDK is imported on first use: annotate/server.py imports this module, and `mudawwana studio` must not pay
the SDK's ~2 s import (corpus/_lazy.py).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import shlex
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Iterator

from mudawwana.annotate.datadir import LOG_FILE, RecordedServer, data_dirs_in_use, default_data_dir, recorded_server
from mudawwana.corpus.errors import MudawwanaError

if TYPE_CHECKING:
    import httpx
    from label_studio_sdk.client import LabelStudio

DEFAULT_URL = "http://localhost:8080"  # the SDK's and Label Studio's own default


class StudioError(MudawwanaError):
    """Label Studio cannot be installed, started, reached or used."""


class StudioHTTPError(StudioError):
    """The server answered a request with an HTTP error status."""

    def __init__(self, message: str, status_code: int | None):
        super().__init__(message)
        self.status_code = status_code


# --- connecting ----------------------------------------------------------------------------------------------

def connect(url: str | None = None, api_key: str | None = None, timeout: float = 120) -> LabelStudio:
    """A client for `url` (else $LABEL_STUDIO_URL, else the local `mudawwana studio` server, else localhost:8080),
    its API key checked with one request."""
    url, api_key = _connection_settings(url, api_key)
    if not is_healthy(url, timeout=min(timeout, 10)):
        raise StudioError(_not_running_message(url, api_key))
    if not api_key:
        raise StudioError(_no_key_message(url))
    from label_studio_sdk.client import LabelStudio

    with translated_errors(url, "a login check"):
        client = LabelStudio(base_url=url, api_key=api_key, timeout=timeout)
        client.users.whoami()
    return client


def _connection_settings(url: str | None, api_key: str | None) -> tuple[str, str | None]:
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not api_key:
        # `mudawwana studio --detach` then `mudawwana push` should work without copying exports around.
        local = recorded_server(default_data_dir())
        if local is not None and (not url or _same_server(url, local.url)):
            url, api_key = url or local.url, api_key or local.api_key
    return (url or DEFAULT_URL).rstrip("/"), api_key


def _same_server(a: str, b: str) -> bool:
    pa, pb = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)
    local = {"localhost", "127.0.0.1"}
    return pa.port == pb.port and (pa.hostname == pb.hostname or {pa.hostname, pb.hostname} <= local)


# The hints when connecting fails. `mudawwana studio` picks a free port at each start, and finds a server on a
# data dir other than the default only when given that --data-dir: a URL exported from it goes stale when the
# server restarts, and the plain hint "start it with `mudawwana studio`" would start a second server, on the
# default data dir. What can be known: the data dir of each label-studio process on this machine (its command
# line), whose state and credentials files give its URL and key, hence the server the user's key belongs to.

def _not_running_message(url: str, api_key: str | None) -> str:
    """Names the servers of this machine that answer elsewhere with this key (with no key: any of them)."""
    elsewhere = [s for s in _local_servers() if not _same_server(s.url, url)
                 and (api_key is None or s.api_key == api_key)]
    if not elsewhere:
        return f"Label Studio is not running at {url}: start it with `mudawwana studio` or pass --url"
    found = "; ".join(f"one for {_data_dir_option(s).strip() or 'the default data dir'} answers at {s.url} "
                      f"(`{_settings_command(s)}` sets LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY for it)"
                      for s in elsewhere)
    which = "that" if len(elsewhere) == 1 else "the one you mean"
    return f"Label Studio is not running at {url}, but {found}: run {which}, or pass --url/--api-key"


def _no_key_message(url: str) -> str:
    started_here = [s for s in _local_servers() if _same_server(s.url, url)]
    where = (f"`{_settings_command(started_here[0])}` sets it for this server" if started_here
             else "`mudawwana studio` prints it; in the web UI: Account & Settings")
    return f"no API key for Label Studio at {url}: pass --api-key or set LABEL_STUDIO_API_KEY ({where})"


def _local_servers() -> list[RecordedServer]:
    """The servers `mudawwana studio` runs on this machine (any data dir) that answer."""
    data_dirs = sorted({default_data_dir().absolute(), *data_dirs_in_use()})
    found = [s for s in map(recorded_server, data_dirs) if s is not None]
    return [s for s in found if is_healthy(s.url, timeout=2)]


def _data_dir_option(server: RecordedServer) -> str:
    """` --data-dir DIR` for a server on DIR, nothing for one on the default data dir."""
    if server.data_dir == default_data_dir().absolute():
        return ""
    return f" --data-dir {shlex.quote(str(server.data_dir))}"


def _settings_command(server: RecordedServer) -> str:
    """The command that finds this running server and prints its URL and key as shell exports."""
    return f'eval "$(mudawwana studio --detach{_data_dir_option(server)})"'


# --- requests without the SDK: the health checks annotate/server.py makes while a server starts ----------------

def _get(url: str, api_key: str | None = None, timeout: float = 5) -> tuple[int, object]:
    req = urllib.request.Request(url, headers={"Authorization": f"Token {api_key}"} if api_key else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        return e.code, None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def is_healthy(url: str, timeout: float = 5) -> bool:
    try:
        return _get(f"{url}/health", timeout=timeout) == (200, {"status": "UP"})
    except (OSError, http.client.HTTPException):  # URLError is an OSError; a half-started server can answer garbage
        return False


def login_status(url: str, api_key: str, timeout: float = 5) -> int:
    """The HTTP status of a whoami with this key (200: the key is accepted)."""
    try:
        return _get(f"{url}/api/current-user/whoami", api_key, timeout=timeout)[0]
    except (OSError, http.client.HTTPException) as e:
        raise StudioError(f"Label Studio at {url} stopped answering: {e}") from None


# --- requests through the SDK ----------------------------------------------------------------------------------

def _sdk_connection(client: LabelStudio):
    """The SDK's own connection: base URL, auth headers, token refresh, retries. The one private SDK attribute
    mudawwana touches: import batches posted as ready-made JSON on it are ~25% faster than the SDK's typed
    import, which re-encodes every task through pydantic models (10k tasks in 46.6 s instead of 58.4 s:
    docs/label-studio.md, "Import with predictions"), and exports and task lists are read as plain JSON."""
    return client._client_wrapper


def base_url(client: LabelStudio) -> str:
    return _sdk_connection(client).get_base_url()


@contextmanager
def translated_errors(url: str, what: str) -> Iterator[None]:
    """The SDK's and httpx's errors inside become a StudioError naming `what` (a noun phrase: "the task list of
    project 3"). `from None`: the originals carry request details (headers) that must not be printed."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as e:
        raise http_error(url, e.status_code, e.body, what) from None
    except httpx.TimeoutException:
        raise StudioError(f"Label Studio at {url} did not answer {what} in time: it may be busy; rerun, and if it "
                          f"happens again look at its log ({LOG_FILE} in the data dir of `mudawwana studio`)") from None
    except httpx.TransportError as e:
        raise StudioError(f"lost the connection to Label Studio at {url} during {what} ({type(e).__name__}): "
                          "check that it is still running (`mudawwana studio` starts it), then rerun") from None


@contextmanager
def sdk_call(client: LabelStudio, what: str) -> Iterator[None]:
    """translated_errors for calls of the SDK's typed API (client.projects..., client.tasks...)."""
    with translated_errors(base_url(client), what):
        yield


def http_error(url: str, status: int | None, body: object, what: str) -> StudioHTTPError:
    if status in (401, 403):
        return StudioHTTPError(f"Label Studio at {url} rejected the API key (HTTP {status}): "
                               "check --api-key / LABEL_STUDIO_API_KEY", status)
    detail = " ".join(str(body or "").split())[:300]
    advice = ("; it may have been deleted in the web UI" if status == 404 else
              f"; its log says why ({LOG_FILE} in the data dir of `mudawwana studio`)" if (status or 0) >= 500 else "")
    return StudioHTTPError(f"Label Studio at {url} answered HTTP {status} to {what}"
                           + (f": {detail}" if detail else "") + advice, status)


def request(client: LabelStudio, method: str, path: str, *, what: str, params: dict | None = None,
            body: bytes | None = None, timeout: float, retries: int | None = None) -> httpx.Response:
    """One request on the SDK's connection (JSON `body`, if any); its response if the server answered 2xx.

    retries: how often the SDK resends after a connection error or a 5xx/408/409/429 answer (default its own, 2);
    0 for requests that must not run twice."""
    connection = _sdk_connection(client)
    url = connection.get_base_url()
    options: dict = {"timeout": timeout}
    if retries is not None:
        options["max_retries"] = retries
    headers = {"content-type": "application/json"} if body is not None else None
    with translated_errors(url, what):
        resp = connection.httpx_client.request(path, method=method, params=params, content=body, headers=headers,
                                               request_options=options)
    if not 200 <= resp.status_code < 300:
        raise http_error(url, resp.status_code, resp.text, what)
    return resp


def get_json(client: LabelStudio, path: str, params: dict, *, what: str, timeout: float = 600.0):
    return request(client, "GET", path, what=what, params=params, timeout=timeout).json()


def server_now(client: LabelStudio) -> datetime | None:
    """The server's clock (its HTTP Date header, 1 s resolution), or None when it cannot be read."""
    try:
        date = request(client, "GET", "api/version", what="a version check", timeout=30).headers["date"]
        return email.utils.parsedate_to_datetime(date)
    except (StudioError, KeyError, TypeError, ValueError):
        return None
