"""Fixtures: a real Label Studio server on 127.0.0.1 (see annotate/server.py).

One server per test session. Set MUDAWWANA_TEST_LS_URL and MUDAWWANA_TEST_LS_API_KEY to test against a server
you run yourself; otherwise one is started in a temp dir from a migrated template (a first start on an empty dir
spends most of a minute on migrations; a copy of the template starts in seconds).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest

from mudawwana.annotate.client import StudioError, connect
from mudawwana.annotate.datadir import DB_FILE
from mudawwana.annotate.server import StudioServer, find_label_studio, label_studio_version, start_label_studio

REPO = Path(__file__).resolve().parents[1]


def studio_template() -> Path:
    """`<repo>/.cache/ls-template-<version>`: a data dir migrated once, with its admin user and token."""
    version = label_studio_version(find_label_studio())
    template = REPO / ".cache" / f"ls-template-{version}"
    template.parent.mkdir(exist_ok=True)
    # Other pytest runs share the checkout: one builds, the others wait for it.
    with open(template.with_name(template.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / DB_FILE).exists():
            building = template.with_name(f"{template.name}.building-{os.getpid()}")
            shutil.rmtree(building, ignore_errors=True)
            try:
                start_label_studio(building, timeout=600).stop()  # migrations, user, token; then a clean stop
                shutil.rmtree(template, ignore_errors=True)
                building.rename(template)
            finally:
                shutil.rmtree(building, ignore_errors=True)
    return template


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """A running StudioServer (only url and api_key are set when it is an external one)."""
    url = os.environ.get("MUDAWWANA_TEST_LS_URL")
    if url:
        api_key = os.environ.get("MUDAWWANA_TEST_LS_API_KEY")
        if not api_key:
            pytest.fail("MUDAWWANA_TEST_LS_URL is set but MUDAWWANA_TEST_LS_API_KEY is not")
        yield StudioServer(url=url.rstrip("/"), api_key=api_key)
        return
    template = studio_template()
    try:
        server = start_label_studio(tmp_path_factory.mktemp("label-studio") / "data", template_dir=template)
    except StudioError as e:
        pytest.fail(f"{e}\n(a broken template? delete {template} to rebuild it)", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ls_client(studio):
    return connect(studio.url, studio.api_key)


@pytest.fixture
def project_title(request, studio):
    """A title no other test uses (3-50 characters, Label Studio's limits). On an external server, projects whose
    title starts with it are deleted afterwards."""
    name = re.sub(r"[^\w-]+", "-", request.node.name)[:40]
    title = f"{name}-{uuid.uuid4().hex[:8]}"
    # Our own temp server is thrown away whole; a shared one must not fill up with test projects.
    client = None if studio.owned else request.getfixturevalue("ls_client")
    yield title
    if client is not None:
        for project in client.projects.list(title=title):
            if (project.title or "").startswith(title):
                client.projects.delete(project.id)
