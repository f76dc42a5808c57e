"""Label Studio on PostgreSQL: `mudawwana studio --database postgresql://...`, then push, annotate, pull and
export on it, and concurrent pushes, as on a shared production server.

One PostgreSQL server (Debian's `postgresql` package, which scripts/bootstrap.sh installs for the tests) and one
Label Studio for the whole module: a throwaway cluster in a temp dir on a free port of 127.0.0.1, run as the
unprivileged `postgres` user when the tests run as root (PostgreSQL refuses root). Host connections need a
password (scram-sha-256), so the URL carries one, which must show up nowhere: output, logs, files, `ps`.
A first start on the empty database runs Label Studio's migrations: about 95 s on two busy cores.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from mudawwana.annotate.client import StudioError, connect
from mudawwana.annotate.datadir import DB_FILE, LOG_FILE, STATE_FILE, read_state
from mudawwana.annotate.projects import list_tasks, titled_projects
from mudawwana.annotate.server import find_running, free_port, start_label_studio, stop_studio
from mudawwana.corpus.conllu_io import read_conllu, write_conllu

pytestmark = [pytest.mark.slow]

BIN = Path(sys.executable).parent
SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"
PASSWORD = f"pg-{uuid.uuid4().hex}"  # unique: found anywhere, it leaked
DB_NAME = "labelstudio"


def pg_bindir() -> Path | None:
    """Debian keeps the server binaries off PATH, one directory per major version: the newest."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


class Postgres:
    def __init__(self, bindir: Path, root: Path, port: int, as_user: list[str]):
        self.bindir, self.root, self.port, self.as_user = bindir, root, port, as_user
        self.process: subprocess.Popen | None = None

    def run(self, tool: str, *args: str, **kw) -> subprocess.CompletedProcess:
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        return subprocess.run([*self.as_user, str(self.bindir / tool), *args], capture_output=True, text=True,
                              env=env, timeout=120, cwd=self.root, **kw)

    def sql(self, query: str) -> str:
        done = self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", DB_NAME,
                        "-At", "-c", query)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def url(self, password: str = PASSWORD) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{DB_NAME}"


@pytest.fixture(scope="module")
def postgres():
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: `apt-get install postgresql` (scripts/bootstrap.sh test does)")
    as_user: list[str] = []
    as_root = os.geteuid() == 0
    if as_root:  # PostgreSQL will not run as root: as the user Debian's package creates
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    # As root, in /tmp: a $TMPDIR private to root would keep the postgres user out.
    root = Path(tempfile.mkdtemp(prefix="mudawwana-pg-", dir="/tmp" if as_root and os.path.isdir("/tmp") else None))
    if as_root:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    (root / "pw").write_text(PASSWORD + "\n")
    if as_user:
        os.chown(root / "pw", owner.pw_uid, owner.pw_gid)
    pg = Postgres(bindir, root, free_port(), as_user)
    try:
        init = pg.run("initdb", "-D", str(root / "data"), "-U", "postgres", "--pwfile", str(root / "pw"),
                      "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        assert init.returncode == 0, init.stdout + init.stderr
        log = open(root / "postgres.log", "w")
        # A throwaway cluster: durability off, listening on loopback only, its socket in its own directory.
        pg.process = subprocess.Popen(
            [*as_user, str(bindir / "postgres"), "-D", str(root / "data"), "-p", str(pg.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
        deadline = time.monotonic() + 60
        while pg.run("pg_isready", "-h", "127.0.0.1", "-p", str(pg.port)).returncode != 0:
            assert pg.process.poll() is None and time.monotonic() < deadline, (root / "postgres.log").read_text()
            time.sleep(0.3)
        created = pg.run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", DB_NAME)
        assert created.returncode == 0, created.stderr
        yield pg
    finally:
        if pg.process is not None and pg.process.poll() is None:
            os.killpg(pg.process.pid, signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                pg.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(pg.process.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def mudawwana(*args: str, env: dict, ok: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "mudawwana"), *args], capture_output=True, text=True, env=env, timeout=timeout)
    if ok:
        assert done.returncode == 0, f"mudawwana {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    assert PASSWORD not in done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def pg_studio(postgres, tmp_path_factory):
    """`mudawwana studio --detach --database URL` (the URL, password in it, from $MUDAWWANA_DATABASE)."""
    data_dir = tmp_path_factory.mktemp("pg-studio") / "data"
    env = dict(os.environ, MUDAWWANA_DATABASE=postgres.url())
    start = time.monotonic()
    done = mudawwana("studio", "--detach", "--data-dir", str(data_dir), "--timeout", "900", env=env)
    print(f"\nLabel Studio's first start on an empty PostgreSQL database: {time.monotonic() - start:.0f} s")
    server = find_running(data_dir)
    assert server is not None, done.stderr
    server.cli_output = " ".join((done.stdout + done.stderr).split())  # as rich wrapped it, unwrapped
    yield server
    stop_studio(data_dir)


@pytest.fixture(scope="module")
def pg_client(pg_studio):
    return connect(pg_studio.url, pg_studio.api_key)


@pytest.fixture(scope="module")
def pg_env(pg_studio):
    return dict(os.environ, LABEL_STUDIO_URL=pg_studio.url, LABEL_STUDIO_API_KEY=pg_studio.api_key,
                OMP_NUM_THREADS="1")


def corpus(tmp_path: Path, n: int, offset: int = 0) -> Path:
    path = tmp_path / f"corpus-{n}-{offset}.conllu"
    sentences = list(read_conllu(SAMPLE))[offset:offset + n]
    write_conllu(sentences, path)
    return path


def test_studio_runs_on_postgresql_and_the_password_shows_nowhere(postgres, pg_studio, pg_env):
    shown = f"postgresql://postgres@127.0.0.1:{postgres.port}/{DB_NAME}"
    assert pg_studio.database == shown and read_state(pg_studio.data_dir)["database"] == shown
    assert f"database: {shown}" in pg_studio.cli_output
    assert f"on postgresql://postgres:***@127.0.0.1:{postgres.port}/{DB_NAME}" in pg_studio.cli_output
    assert not (pg_studio.data_dir / DB_FILE).exists()  # no SQLite database beside it
    assert int(postgres.sql("SELECT count(*) FROM htx_user")) == 1  # Label Studio's tables are in PostgreSQL

    leaks = [p for p in pg_studio.data_dir.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert leaks == []
    assert "=== mudawwana:" in (pg_studio.data_dir / LOG_FILE).read_text()
    cmdline = Path(f"/proc/{pg_studio.pid}/cmdline")
    if cmdline.exists():  # what `ps` shows every user of the machine
        assert PASSWORD.encode() not in cmdline.read_bytes()
    assert PASSWORD not in repr(pg_studio)

    # Asked again without --database: the server running for the data dir, whatever its database.
    again = mudawwana("studio", "--detach", "--data-dir", str(pg_studio.data_dir), env=pg_env)
    assert f"already running at {pg_studio.url}" in again.stdout and f"database: {shown}" in again.stdout


def test_a_server_on_another_database_is_not_reused(postgres, pg_studio, pg_env):
    with pytest.raises(StudioError, match=r"already runs for .* on postgresql://postgres@127\.0\.0\.1:\d+/"
                                          r"labelstudio, not on SQLite in the data dir: stop it first"):
        start_label_studio(pg_studio.data_dir)
    other = postgres.url().replace(f"/{DB_NAME}", "/another")
    refused = mudawwana("studio", "--detach", "--data-dir", str(pg_studio.data_dir), "--database", other,
                        env=pg_env, ok=False)
    assert refused.returncode == 1 and "not on postgresql://postgres@127.0.0.1" in refused.stderr


def test_a_wrong_password_is_reported_without_it(postgres, tmp_path):
    wrong = f"wrong-{uuid.uuid4().hex}"
    with pytest.raises(StudioError) as e:
        start_label_studio(tmp_path / "data", database=postgres.url(wrong), timeout=300)
    assert "password authentication failed" in str(e.value) and wrong not in str(e.value)
    leaks = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and wrong.encode() in p.read_bytes()]
    assert leaks == [] and not (tmp_path / "data" / STATE_FILE).exists()


def test_push_annotate_pull_export_on_postgresql(postgres, pg_client, pg_env, tmp_path):
    path = corpus(tmp_path, 20)
    title = f"pg-{uuid.uuid4().hex[:8]}"
    mudawwana("push", str(path), "--project", title, "--layers", "upos,lemma,seg,ner", env=pg_env)
    mudawwana("push", str(path), "--project", title, env=pg_env)  # idempotent here too
    [project] = titled_projects(pg_client, title)
    assert int(postgres.sql(f"SELECT count(*) FROM task WHERE project_id = {project.id}")) == 20

    # annotators: every prediction accepted, one UPOS corrected
    tasks = sorted(list_tasks(pg_client, project.id, include=None, fields="all"), key=lambda t: t["id"])
    corrected = tasks[0]["data"]["sent_id"]
    for i, task in enumerate(tasks):
        result = copy.deepcopy(task["predictions"][0]["result"])
        if i == 0:
            first = next(r for r in result if r.get("from_name") == "upos" and r["id"] == "w1")
            first["value"]["labels"] = ["NOUN" if first["value"]["labels"] != ["NOUN"] else "VERB"]
            new_tag = first["value"]["labels"][0]
        pg_client.annotations.create(task["id"], result=result)

    pulled = tmp_path / "pulled.conllu"
    mudawwana("pull", "--project", title, "-o", str(pulled), env=pg_env)
    sentences = {s.sent_id: s for s in read_conllu(pulled)}
    assert len(sentences) == 20 and sentences[corrected].words[0].upos == new_tag

    out = tmp_path / "dataset"
    mudawwana("export", "--project", title, "-o", str(out), "--name", "pg", "--allow-invalid", env=pg_env)
    assert json.loads((out / "dataset_dict.json").read_text())["splits"]
    exported = [s for f in sorted(out.glob("ar_pg-ud-*.conllu")) for s in read_conllu(f)]
    assert len(exported) == 20 and {s.sent_id: s.words[0].upos for s in exported}[corrected] == new_tag


def test_three_concurrent_pushes_on_postgresql(pg_client, pg_env, tmp_path):
    path = corpus(tmp_path, 300, offset=100)
    title = f"pg-conc-{uuid.uuid4().hex[:8]}"
    cmd = [str(BIN / "mudawwana"), "push", str(path), "--project", title, "--batch-size", "100"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=pg_env)
             for _ in range(3)]
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    [project] = titled_projects(pg_client, title)
    tasks = list_tasks(pg_client, project.id, include=None, fields="all", page_size=500)
    sent_ids = [t["meta"]["sent_id"] for t in tasks]
    assert len(sent_ids) == 300 and set(sent_ids) == {s.sent_id for s in read_conllu(path)}
    # and, unlike on SQLite (docs/label-studio.md), each with its pre-annotation
    assert [len(t["predictions"]) for t in tasks] == [1] * 300
    again = mudawwana("push", str(path), "--project", title, env=pg_env)
    assert "0 tasks imported" in " ".join(again.stderr.split())
