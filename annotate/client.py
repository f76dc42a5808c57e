"""Connect to a Label Studio server with the SDK, failing early with one-line errors a user can act on.

The API key never appears in an error or a log line: error messages end up in CI logs and bug reports.
"""

from __future__ import annotations

import os
import urllib.parse

from label_studio_sdk.client import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from mudawwana.annotate.server import StudioError, default_data_dir, find_running, is_healthy

DEFAULT_URL = "http://localhost:8080"  # the SDK's and Label Studio's own default


class ProjectNotFoundError(StudioError):
    def __init__(self, title: str, existing: list[str]):
        self.title, self.existing = title, existing
        listed = ", ".join(repr(t) for t in existing[:20]) + (" ..." if len(existing) > 20 else "")
        super().__init__(f"no Label Studio project titled {title!r}; existing projects: {listed or 'none'}")


def connect(url: str | None = None, api_key: str | None = None, timeout: float = 120) -> LabelStudio:
    """A client for `url` (else $LABEL_STUDIO_URL, else the local `mudawwana studio` server, else localhost:8080)."""
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not api_key:
        # `mudawwana studio --detach` then `mudawwana push` should work without copying exports around.
        local = find_running(default_data_dir())
        if local is not None and (not url or _same_server(url, local.url)):
            url, api_key = url or local.url, api_key or local.api_key
    url = (url or DEFAULT_URL).rstrip("/")
    if not is_healthy(url, timeout=min(timeout, 10)):
        raise StudioError(f"Label Studio is not running at {url}: start it with `mudawwana studio` or pass --url")
    if not api_key:
        raise StudioError(f"no API key for Label Studio at {url}: pass --api-key or set LABEL_STUDIO_API_KEY "
                          "(`mudawwana studio` prints it; in the web UI: Account & Settings)")
    try:
        client = LabelStudio(base_url=url, api_key=api_key, timeout=timeout)
        client.users.whoami()
    except ApiError as e:  # `from None`: the SDK's exception carries request details we do not want printed
        if e.status_code in (401, 403):
            raise StudioError(f"Label Studio at {url} rejected the API key (HTTP {e.status_code}): "
                              "check --api-key / LABEL_STUDIO_API_KEY") from None
        raise StudioError(f"Label Studio at {url} answered HTTP {e.status_code} to a login check") from None
    return client


def _same_server(a: str, b: str) -> bool:
    pa, pb = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)
    local = {"localhost", "127.0.0.1"}
    return pa.port == pb.port and (pa.hostname == pb.hostname or {pa.hostname, pb.hostname} <= local)


def find_project(client: LabelStudio, title: str):
    """The project with exactly this title, or None. Several with the same title is an error: which to write to?"""
    matches = [p for p in client.projects.list(title=title) if p.title == title]  # the filter is a substring one
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise StudioError(f"{len(matches)} Label Studio projects are titled {title!r} (ids {ids}): rename all but one")
    return matches[0] if matches else None


def get_project(client: LabelStudio, title: str):
    """Like find_project, but a missing project is a ProjectNotFoundError listing the titles that exist."""
    project = find_project(client, title)
    if project is None:
        raise ProjectNotFoundError(title, sorted(p.title or "" for p in client.projects.list()))
    return project
