"""annotate/server.py and annotate/client.py against a real Label Studio (the session fixture `studio`)."""

from __future__ import annotations

import json
import re
import shlex
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from mudawwana.annotate.client import StudioError, StudioHTTPError, connect, get_json
from mudawwana.annotate.datadir import CREDENTIALS_FILE, LOG_FILE
from mudawwana.annotate.projects import ProjectNotFoundError, find_project, get_project
from mudawwana.annotate.server import find_running, free_port, start_label_studio, stop_studio

WRONG_KEY = "0123456789abcdef" * 2 + "deadbeef"  # the shape of a real token, so the server really checks it


def _own(studio):
    if studio.data_dir is None:
        pytest.skip("an external server (MUDAWWANA_TEST_LS_URL): no data dir or process to inspect")


@pytest.mark.parametrize("path", ["/health", "/health/"])
@pytest.mark.slow
@pytest.mark.labelstudio
def test_health(studio, path):
    with urllib.request.urlopen(studio.url + path, timeout=10) as r:
        assert json.loads(r.read()) == {"status": "UP"}


@pytest.mark.slow
@pytest.mark.labelstudio
def test_connect_with_key_and_from_env(studio, monkeypatch):
    assert connect(studio.url, studio.api_key).users.whoami().id
    monkeypatch.setenv("LABEL_STUDIO_URL", studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio.api_key)
    assert connect().users.whoami().id


@pytest.mark.slow
@pytest.mark.labelstudio
def test_wrong_key_is_one_line_401_without_the_key(studio):
    with pytest.raises(StudioError) as e:
        connect(studio.url, WRONG_KEY)
    assert str(e.value) == (f"Label Studio at {studio.url} rejected the API key (HTTP 401): "
                            "check --api-key / LABEL_STUDIO_API_KEY")
    assert e.value.__cause__ is None and e.value.__suppress_context__  # no SDK exception chained in tracebacks


def test_closed_port_says_not_running():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StudioError) as e:
        connect(url, WRONG_KEY, timeout=5)
    assert str(e.value) == f"Label Studio is not running at {url}: start it with `mudawwana studio` or pass --url"


@pytest.mark.slow
@pytest.mark.labelstudio
def test_not_running_names_the_data_dir_whose_server_holds_the_key(studio, monkeypatch, tmp_path):
    """`mudawwana studio --data-dir X` picks a new port at each start, so the URL a user exported from it goes
    stale; the hint must name X: a plain `mudawwana studio` would start a second server on the default dir."""
    _own(studio)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # an empty default data dir: X is not the default
    stale = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StudioError) as e:
        connect(stale, studio.api_key, timeout=5)
    data_dir = shlex.quote(str(studio.data_dir))
    message = str(e.value)
    assert message.startswith(f"Label Studio is not running at {stale}, but ")
    assert (f"one for --data-dir {data_dir} answers at {studio.url} "
            f'(`eval "$(mudawwana studio --detach --data-dir {data_dir})"` sets LABEL_STUDIO_URL') in message
    assert message.endswith("or pass --url/--api-key") and studio.api_key not in message


@pytest.mark.slow
@pytest.mark.labelstudio
def test_no_key_names_the_data_dir_of_the_server_at_that_url(studio, monkeypatch, tmp_path):
    _own(studio)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(StudioError) as e:
        connect(studio.url)
    command = f'eval "$(mudawwana studio --detach --data-dir {shlex.quote(str(studio.data_dir))})"'
    assert str(e.value) == (f"no API key for Label Studio at {studio.url}: pass --api-key or set "
                            f"LABEL_STUDIO_API_KEY (`{command}` sets it for this server)")


@pytest.mark.slow
@pytest.mark.labelstudio
def test_refusals_and_lost_connections_are_studio_errors_that_say_what_to_do(studio, ls_client):
    with pytest.raises(StudioHTTPError) as e:
        get_json(ls_client, "api/projects/999999999/", {}, what="project 999999999")
    assert e.value.status_code == 404
    assert str(e.value).startswith(f"Label Studio at {studio.url} answered HTTP 404 to project 999999999")
    assert str(e.value).endswith("it may have been deleted in the web UI")

    from label_studio_sdk.client import LabelStudio

    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StudioError, match=rf"^lost the connection to Label Studio at {re.escape(dead)} during the "
                                          r"project list \(ConnectError\): check that it is still running"):
        find_project(LabelStudio(base_url=dead, api_key=WRONG_KEY), "any title")


def test_server_loads_without_the_sdk_and_the_client_without_the_server():
    """One way: server -> client -> datadir; and `mudawwana studio` does not pay the SDK's import."""
    code = ("import sys\nimport mudawwana.annotate.client\n"
            "server_by_client = 'mudawwana.annotate.server' in sys.modules\n"
            "import mudawwana.annotate.server\n"
            "print(server_by_client, any(m.startswith('label_studio_sdk') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


@pytest.mark.slow
@pytest.mark.labelstudio
def test_find_project(ls_client, project_title):
    assert find_project(ls_client, project_title) is None
    with pytest.raises(ProjectNotFoundError, match=project_title):
        get_project(ls_client, project_title)
    created = ls_client.projects.create(title=project_title)
    ls_client.projects.create(title=project_title + "-2")  # the server's title filter is a substring match
    assert find_project(ls_client, project_title).id == created.id
    with pytest.raises(ProjectNotFoundError) as e:
        get_project(ls_client, project_title + "-missing")
    assert repr(project_title) in str(e.value).split("existing projects:")[1]


@pytest.mark.slow
@pytest.mark.labelstudio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net")
def test_bound_to_loopback_only(studio):
    _own(studio)
    port = int(studio.url.rsplit(":", 1)[1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _remote, state = line.split()[1:4]
            addr, hexport = local.split(":")
            if int(hexport, 16) == port and state == "0A":  # 0A: LISTEN
                listening.add(addr)
    assert listening == {"0100007F"}  # 127.0.0.1, and no 0.0.0.0 or :: socket


@pytest.mark.slow
@pytest.mark.labelstudio
def test_credentials_private_and_not_logged(studio):
    _own(studio)
    path = studio.data_dir / CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creds = json.loads(path.read_text())
    assert creds["api_key"] == studio.api_key
    log = (studio.data_dir / LOG_FILE).read_text()
    assert creds["password"] not in log and creds["api_key"] not in log
    assert studio.api_key not in repr(studio) and studio.password not in repr(studio)


@pytest.mark.slow
@pytest.mark.labelstudio
def test_second_start_reuses_the_running_server(studio):
    _own(studio)
    again = start_label_studio(studio.data_dir, timeout=30)
    assert (again.url, again.pid, again.api_key) == (studio.url, studio.pid, studio.api_key)
    assert not again.owned
    again.stop()  # a reused server is not ours to stop
    assert find_running(studio.data_dir) is not None


def _fake_label_studio(tmp_path, monkeypatch, script: str) -> None:
    exe = tmp_path / "label-studio"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("MUDAWWANA_LABEL_STUDIO", str(exe))


def test_start_reports_a_crash_with_the_log_tail(tmp_path, monkeypatch):
    _fake_label_studio(tmp_path, monkeypatch, "echo 'boom: no such table'; exit 3")
    with pytest.raises(StudioError, match=r"exited with code 3(.|\n)*boom: no such table"):
        start_label_studio(tmp_path / "data", timeout=30)
    assert find_running(tmp_path / "data") is None


def test_start_times_out_and_stops_the_process(tmp_path, monkeypatch):
    _fake_label_studio(tmp_path, monkeypatch, "echo waiting; exec sleep 60")
    with pytest.raises(StudioError, match=r"did not answer .*/health within 2 s(.|\n)*waiting"):
        start_label_studio(tmp_path / "data", timeout=2)
    assert stop_studio(tmp_path / "data") is None  # already stopped, state file cleaned up


def test_label_studio_s_virtualenv_is_found_beside_ours_without_the_variable(monkeypatch, tmp_path):
    """A new shell after scripts/bootstrap.sh has no $MUDAWWANA_LS_VENV: the `.ls-venv` bootstrap made beside
    our virtualenv is used, not a second install under ~/.cache."""
    from mudawwana.annotate import server

    ours = tmp_path / "checkout" / ".venv"
    beside = tmp_path / "checkout" / ".ls-venv"
    monkeypatch.delenv("MUDAWWANA_LS_VENV", raising=False)
    monkeypatch.setattr(server.sys, "prefix", str(ours))
    monkeypatch.setattr(server.sys, "base_prefix", "/usr")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert server.managed_venv() == tmp_path / "home" / ".cache/mudawwana/label-studio-venv"  # none beside
    (beside / "bin").mkdir(parents=True)
    (beside / "bin" / "label-studio").write_text("#!/bin/sh\n")
    assert server.managed_venv() == beside
    monkeypatch.setenv("MUDAWWANA_LS_VENV", str(tmp_path / "mine"))
    assert server.managed_venv() == tmp_path / "mine"  # the variable wins


def test_a_missing_project_lists_the_closest_titles_first():
    from mudawwana.annotate.projects import ProjectNotFoundError

    others = [f"project-{k:02d}" for k in range(30)]
    message = str(ProjectNotFoundError("news-corpus", others + ["news-corpus-2"]))
    assert message.split("existing projects: ")[1].startswith("'news-corpus-2', ") and message.endswith(" ...")
