"""Find or install Label Studio, start it on 127.0.0.1, wait until it answers, stop it.

Label Studio runs as a separate process from its own virtualenv: its pins (Django, pyarrow, ...) must not fight
stanza's or datasets'. Measured behaviour this code relies on: docs/label-studio.md. The files it keeps in a data
dir are annotate/datadir.py's; the requests it makes (is it up, is our key accepted) go through annotate/client.py.

Its database is SQLite in the data dir unless a PostgreSQL URL is given (`Database`): Label Studio's own
settings (DJANGO_DB, POSTGRE_*) then point it there, passed in its environment, never on a command line (which
`ps` shows to every user) nor in a file; only the URL without its password is logged, printed and recorded.
"""

from __future__ import annotations

import fcntl  # POSIX only, like the process-group handling below
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from mudawwana.annotate.client import StudioError, is_healthy, login_status
from mudawwana.annotate.datadir import (CREDENTIALS_FILE, DB_FILE, LOG_FILE, STATE_FILE, is_our_server,
                                        load_credentials, pid_alive, read_state, recorded_server, remove_state,
                                        write_state)
from mudawwana.corpus.errors import InputError

log = logging.getLogger(__name__)

LS_REQUIREMENT = "label-studio==1.23.*"
DEFAULT_USERNAME = "admin@mudawwana.local"
# Ours, not Label Studio's: never copied from a template.
_RUNTIME_FILES = (STATE_FILE, LOG_FILE, ".mudawwana-start.lock")
# Label Studio reads these un-prefixed names too; a stray HOST or PORT in the user's shell would move the server.
_SCRUBBED_ENV = ("HOST", "PORT", "USERNAME", "PASSWORD", "DEBUG")
# Its database settings, each read as LABEL_STUDIO_X, HEARTEX_X or X (core/utils/params.py get_env, in that
# order): a DJANGO_DB=default left in the shell by a production setup would move `mudawwana studio` onto it.
_DB_SETTINGS = ("DJANGO_DB", "DATABASE_NAME", "POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST",
                "POSTGRE_PORT", "MYSQL_NAME", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_HOST", "MYSQL_PORT")
_SETTING_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_", "")


# --- the database ----------------------------------------------------------------------------------------------

# URL query parameters and the libpq environment variable each becomes (Label Studio has no setting for them;
# psycopg's libpq reads these itself).
_LIBPQ_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
              "connect_timeout": "PGCONNECT_TIMEOUT"}


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database for Label Studio, from `postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME[?sslmode=...]`.

    Without a password in the URL, libpq's own PGPASSWORD or ~/.pgpass supplies it (better: a URL on a command
    line is visible to every user of the machine). No host: the local Unix socket (or `?host=/socket/dir`).
    """

    name: str
    user: str = ""  # empty: libpq's default (PGUSER, else the login name)
    host: str = ""  # empty: the Unix socket
    port: int = 5432
    password: str = field(default="", repr=False)
    options: tuple[tuple[str, str], ...] = ()  # (libpq env var, value)

    @classmethod
    def parse(cls, url: str) -> Database:
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError as e:  # a port that is not a number
            raise InputError(f"--database: not a PostgreSQL URL ({e}): use postgresql://USER@HOST:PORT/NAME") from None
        shown = _redact(parts)
        if parts.scheme not in ("postgresql", "postgres"):
            raise InputError(f"--database {shown}: only PostgreSQL is supported, as postgresql://USER@HOST/NAME "
                             "(without --database Label Studio uses SQLite in its data dir)")
        name = urllib.parse.unquote(parts.path.lstrip("/"))
        if not name or "/" in name:
            raise InputError(f"--database {shown}: name the database after the host: postgresql://USER@HOST/NAME")
        host = _raw_host(parts)
        options = []
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            if key == "host":
                host = value
            elif key in _LIBPQ_ENV:
                options.append((_LIBPQ_ENV[key], value))
            else:
                raise InputError(f"--database {shown}: unknown parameter {key!r} (known: host, "
                                 f"{', '.join(_LIBPQ_ENV)})")
        return cls(name=name, user=urllib.parse.unquote(parts.username or ""), host=host, port=port or 5432,
                   password=urllib.parse.unquote(parts.password or ""), options=tuple(options))

    @property
    def url(self) -> str:
        """The URL without the password: what is shown, logged and recorded in the state file."""
        user = urllib.parse.quote(self.user, safe="") + "@" if self.user else ""
        host = "" if self.host.startswith("/") else f"[{self.host}]" if ":" in self.host else urllib.parse.quote(
            self.host, safe="")
        query = {"host": self.host} if self.host.startswith("/") else {}
        query.update((k, v) for k, v in ((_param(e), v) for e, v in self.options))
        qs = "?" + urllib.parse.urlencode(query) if query else ""
        return f"postgresql://{user}{host}:{self.port}/{urllib.parse.quote(self.name, safe='')}{qs}"

    def __str__(self) -> str:
        return self.url.replace("@", ":***@", 1) if self.password and self.user else self.url

    def env(self) -> dict[str, str]:
        """Label Studio's settings for this database (the highest-priority spelling of each, LABEL_STUDIO_X)."""
        env = {"LABEL_STUDIO_DJANGO_DB": "default", "LABEL_STUDIO_POSTGRE_NAME": self.name,
               # Empty values are left out of the connection by Django, so libpq's defaults and files apply.
               "LABEL_STUDIO_POSTGRE_USER": self.user, "LABEL_STUDIO_POSTGRE_PASSWORD": self.password,
               "LABEL_STUDIO_POSTGRE_HOST": self.host, "LABEL_STUDIO_POSTGRE_PORT": str(self.port)}
        env.update(self.options)
        return env


def _raw_host(parts: urllib.parse.SplitResult) -> str:
    """The host as written (SplitResult.hostname lowercases it: a socket directory %2Fvar%2FRun would change)."""
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("["):  # [::1]:5432
        return hostport[1:hostport.find("]")]
    return urllib.parse.unquote(hostport.rsplit(":", 1)[0] if parts.port is not None else hostport.rstrip(":"))


def _param(env_name: str) -> str:
    return next(k for k, v in _LIBPQ_ENV.items() if v == env_name)


def _redact(parts: urllib.parse.SplitResult) -> str:
    """A URL as typed, its password (if any) replaced: for error messages about a URL that did not parse."""
    if parts.password is None:
        return urllib.parse.urlunsplit(parts)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hostport}"))


def as_database(database: Database | str | None) -> Database | None:
    return Database.parse(database) if isinstance(database, str) else database


def describe_database(url: str | None) -> str:
    """For messages: a recorded database URL (None: SQLite)."""
    return url or "SQLite in the data dir"


# --- finding the executable -----------------------------------------------------------------------------------

def managed_venv() -> Path:
    """Label Studio's own virtualenv: $MUDAWWANA_LS_VENV; else `.ls-venv` beside the virtualenv we run in, where
    scripts/bootstrap.sh puts it (so a new shell without the variable finds it instead of installing a second
    one); else one under ~/.cache."""
    explicit = os.environ.get("MUDAWWANA_LS_VENV")
    if explicit:
        return Path(explicit)
    beside = Path(sys.prefix).parent / ".ls-venv"
    if sys.prefix != sys.base_prefix and (beside / "bin" / "label-studio").exists():
        return beside
    return Path.home() / ".cache/mudawwana/label-studio-venv"


def find_label_studio(install: bool = True) -> Path:
    """$MUDAWWANA_LABEL_STUDIO, else `label-studio` on PATH, else the managed virtualenv (created if missing)."""
    explicit = os.environ.get("MUDAWWANA_LABEL_STUDIO")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise StudioError(f"MUDAWWANA_LABEL_STUDIO={explicit} is not an executable: point it at `label-studio`")
        return Path(explicit)
    on_path = shutil.which("label-studio")
    if on_path:
        return Path(on_path)
    venv = managed_venv()
    exe = venv / "bin" / "label-studio"
    if exe.exists():
        return exe
    if not install:
        raise StudioError(f"Label Studio is not installed: no `label-studio` on PATH nor in {venv}")
    _install(venv)
    return exe


def _install(venv: Path) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    # A lock: two commands started at once must not pip-install into the same virtualenv.
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / "bin" / "label-studio").exists():
            return
        say = lambda msg: print(f"mudawwana: {msg}", file=sys.stderr, flush=True)  # noqa: E731
        say(f"installing {LS_REQUIREMENT} into its own virtualenv {venv} (one time, a few minutes)")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            # pip's progress goes to our stderr: stdout is for data.
            subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--progress-bar", "off",
                            LS_REQUIREMENT], check=True, stdout=sys.stderr)
        except (OSError, subprocess.CalledProcessError) as e:
            raise StudioError(f"could not install Label Studio into {venv} ({e}); install it yourself "
                              f"(`pip install {LS_REQUIREMENT}` in any virtualenv) and set "
                              "MUDAWWANA_LABEL_STUDIO to its `label-studio`") from None
        say("Label Studio installed")


def label_studio_version(exe: Path) -> str:
    """Asked of the package metadata: `label-studio --version` would start a server, `version` dials PyPI."""
    first = Path(exe).read_bytes()[:300].split(b"\n", 1)[0]
    python = first[2:].decode().strip() if first.startswith(b"#!") else ""
    if "python" not in python:  # a wrapper script: try the virtualenv's python next to it
        python = str(Path(exe).parent / "python")
    code = "import importlib.metadata as m; print(m.version('label-studio'))"
    try:
        out = subprocess.run([*python.split(), "-c", code], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise StudioError(f"cannot tell the version of {exe}: {e}") from None
    return out.stdout.strip()


# --- credentials and environment ---------------------------------------------------------------------------------

def _ensure_credentials(data_dir: Path, username: str | None, password: str | None, api_key: str | None) -> dict:
    """Label Studio creates the user only on first start, so the first credentials are kept and reused."""
    stored = load_credentials(data_dir) or {}
    creds = {
        "username": username or stored.get("username") or DEFAULT_USERNAME,
        "password": password or stored.get("password") or secrets.token_urlsafe(18),
        # 40 hex characters: the size of Label Studio's token column; shell-safe like the password.
        "api_key": api_key or stored.get("api_key") or secrets.token_hex(20),
    }
    if not stored:
        path = data_dir / CREDENTIALS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(creds, f, indent=1)
        os.chmod(path, 0o600)  # O_CREAT's mode is masked by umask
    return creds


def studio_env(data_dir: Path, creds: dict, database: Database | None = None) -> dict:
    scrubbed = {*_SCRUBBED_ENV, *(p + name for p in _SETTING_PREFIXES for name in _DB_SETTINGS)}
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env.update(database.env() if database is not None else {"LABEL_STUDIO_DJANGO_DB": "sqlite"})
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),  # --data-dir alone still writes ~/.local/share/label-studio
        "XDG_CONFIG_HOME": str(data_dir / "xdg"),  # else a telemetry id lands in ~/.config
        "LABEL_STUDIO_USERNAME": creds["username"],
        "LABEL_STUDIO_PASSWORD": creds["password"],
        "LABEL_STUDIO_USER_TOKEN": creds["api_key"],
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # else our plain token is refused with 401
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        # Offline and quiet: with the defaults the server tries ~140 outbound connections.
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false", "LATEST_VERSION_CHECK": "false",
        "PYTHONUNBUFFERED": "1",  # the "Starting development server at" line must reach the log at once
    })
    return env


# --- the server ----------------------------------------------------------------------------------------------

@dataclass
class StudioServer:
    url: str
    api_key: str
    username: str | None = None
    password: str | None = None
    data_dir: Path | None = None
    process: subprocess.Popen | None = None  # set only when this Python process started it
    pid: int | None = None
    database: str | None = None  # None: SQLite in the data dir; else its PostgreSQL URL without the password

    @property
    def owned(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 20) -> None:
        """Stops the server if this process started it; a reused server is left to its owner (see stop_studio)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            _kill_group(self.process.pid, timeout, self.process)
        if self.data_dir is not None:
            remove_state(self.data_dir, self.process.pid)

    def __enter__(self) -> StudioServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:  # keeps the password and the key out of logs and test reports
        return (f"StudioServer(url={self.url!r}, pid={self.pid}, data_dir={str(self.data_dir)!r}, "
                f"database={self.database!r}, owned={self.owned})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_busy(port: int) -> bool:
    # Same test as Label Studio's own (a connect to localhost), so we see what makes it move to P+1.
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("localhost", port)) == 0


def log_tail(data_dir: Path, lines: int = 15) -> str:
    try:
        text = (Path(data_dir) / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(pid: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    # The server runs in its own session (start_new_session), so its pid is its process group.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None:
                if process.poll() is not None:
                    return
            elif not pid_alive(pid):
                return
            time.sleep(0.2)
        log.warning("Label Studio (pid %d) ignored %s", pid, sig.name)


def find_running(data_dir: Path) -> StudioServer | None:
    """The server already running on this data dir (state file, live pid, healthy), else None."""
    found = recorded_server(data_dir)
    if found is None or not is_healthy(found.url):
        return None
    return StudioServer(url=found.url, api_key=found.api_key, username=found.username, password=found.password,
                        data_dir=found.data_dir, pid=found.pid, database=found.database)


def stop_studio(data_dir: Path, timeout: float = 20) -> int | None:
    """Stops the server running on this data dir, whoever started it; returns its pid, or None if none ran."""
    data_dir = Path(data_dir).absolute()
    state = read_state(data_dir)
    if state is None:
        return None
    pid = state["pid"]
    if not (pid_alive(pid) and is_our_server(pid, data_dir)):
        remove_state(data_dir, pid)  # stale: the server died or the machine rebooted
        return None
    _kill_group(pid, timeout)
    remove_state(data_dir, pid)
    return pid


def _copy_template(template_dir: Path, data_dir: Path) -> None:
    if (data_dir / DB_FILE).exists():
        return  # never overwrite a real database
    if not (Path(template_dir) / DB_FILE).exists():
        raise StudioError(f"{template_dir} is not a Label Studio data dir (no {DB_FILE})")
    shutil.copytree(template_dir, data_dir, dirs_exist_ok=True, ignore=lambda d, names: [
        n for n in names if Path(d) == Path(template_dir) and n in _RUNTIME_FILES])


def start_label_studio(data_dir: Path, port: int | None = None, username: str | None = None,
                       password: str | None = None, api_key: str | None = None, timeout: float = 180,
                       template_dir: Path | None = None, database: Database | str | None = None) -> StudioServer:
    """Starts Label Studio on 127.0.0.1 for `data_dir`, or returns the one already running there.

    `database`: None for SQLite in the data dir, else a PostgreSQL URL (or Database); a server already running
    for the data dir on another database is a StudioError (stop it first). The data dir keeps the rest (media,
    secret key, our credentials and log) either way. A first start on an empty database migrates it.
    `template_dir`: a data dir migrated by an earlier start, copied in when `data_dir` has no database yet (a first
    start spends ~75 s on migrations, a copy starts in ~8 s); its credentials file comes along with it. SQLite only.
    Explicit credentials override the stored ones but Label Studio only applies them when it creates the user.
    """
    database = as_database(database)
    if database is not None and template_dir is not None:
        raise ValueError("a template data dir holds a SQLite database: it cannot seed a PostgreSQL one")
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Two `mudawwana studio` at once: the second waits for the first's start, then reuses its server.
    with open(data_dir / ".mudawwana-start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_locked(data_dir, port, username, password, api_key, timeout, template_dir, database)


def _start_locked(data_dir, port, username, password, api_key, timeout, template_dir, database) -> StudioServer:
    running = find_running(data_dir)
    if running is not None:
        check_same_database(running, database)
        if port is not None and not running.url.endswith(f":{port}"):
            log.warning("Label Studio already runs for %s at %s; not starting another on port %d",
                        data_dir, running.url, port)
        return running
    if template_dir is not None:
        _copy_template(Path(template_dir), data_dir)
    creds = _ensure_credentials(data_dir, username, password, api_key)
    exe = find_label_studio()
    # A picked port can be taken before Label Studio binds it; it then moves to P+1, so pick again.
    for attempt in range(3):
        chosen = port if port is not None else free_port()
        if port is not None and _port_busy(port):
            raise StudioError(f"port {port} on this machine is busy: choose another with --port")
        server = _launch(exe, data_dir, chosen, creds, database)
        try:
            if _wait_ready(server, chosen, timeout):
                return server
        except BaseException:
            server.stop()
            raise
        server.stop()
        if port is not None:
            break
    raise StudioError(f"port {chosen} was taken while Label Studio started: rerun, or choose one with --port")


def check_same_database(running: StudioServer, database: Database | None) -> None:
    """A server already running for the data dir serves `database` (None: SQLite), or a StudioError says so."""
    wanted = database.url if database is not None else None
    if running.database != wanted:
        raise StudioError(f"Label Studio already runs for {running.data_dir} (pid {running.pid}, {running.url}) on "
                          f"{describe_database(running.database)}, not on {describe_database(wanted)}: stop it "
                          "first (`mudawwana studio --stop`, with the same --data-dir) or use another --data-dir")


def _launch(exe: Path, data_dir: Path, port: int, creds: dict, database: Database | None = None) -> StudioServer:
    log_path = data_dir / LOG_FILE
    with open(log_path, "a") as logf:
        logf.write(f"\n=== mudawwana: {exe} start on 127.0.0.1:{port}, database {database or 'SQLite'}, "
                   f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        logf.flush()
        cmd = [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(data_dir)]
        # Own session: Ctrl-C in the terminal is ours to handle, and a detached server outlives us. The database
        # password travels in the environment (readable by this user only), never in `cmd`.
        process = subprocess.Popen(cmd, env=studio_env(data_dir, creds, database), cwd=data_dir,
                                   stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    recorded = database.url if database is not None else None
    write_state(data_dir, process.pid, url, exe, recorded)
    log.info("started Label Studio pid %d at %s on %s, log %s", process.pid, url, database or "SQLite", log_path)
    return StudioServer(url=url, api_key=creds["api_key"], username=creds["username"], password=creds["password"],
                        data_dir=data_dir, process=process, pid=process.pid, database=recorded)


_STARTED = re.compile(r"Starting development server at http://[^:/]+:(\d+)/")


def _wait_ready(server: StudioServer, port: int, timeout: float) -> bool:
    """True when up on `port`; False when it moved to another port; StudioError when it died or timed out."""
    data_dir = server.data_dir
    log_path = data_dir / LOG_FILE
    offset = log_path.stat().st_size  # only this start's lines count
    deadline = time.monotonic() + timeout
    bound = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise StudioError(f"Label Studio exited with code {server.process.returncode} while starting; "
                              f"last lines of {log_path}:\n{log_tail(data_dir)}")
        if bound is None:
            with open(log_path, errors="replace") as f:
                f.seek(offset)
                m = _STARTED.search(f.read())
            bound = m and int(m.group(1))
            if bound is not None and bound != port:
                log.warning("Label Studio moved from busy port %d to %d; retrying", port, bound)
                return False
        # Health alone could be another server's answer on a busy port: require our own start line first.
        if bound == port and is_healthy(server.url, timeout=2):
            _check_login(server)
            return True
        time.sleep(0.5)
    raise StudioError(f"Label Studio did not answer {server.url}/health within {timeout:.0f} s; "
                      f"last lines of {log_path}:\n{log_tail(data_dir)}")


def _check_login(server: StudioServer) -> None:
    """The token only takes effect when the user is created: a data dir from elsewhere can have other users."""
    status = login_status(server.url, server.api_key)
    if status != 200 and server.database is not None:
        raise StudioError(f"Label Studio started on {server.database}, but that database does not accept the "
                          f"API key in {server.data_dir / CREDENTIALS_FILE} (HTTP {status}): its user "
                          f"{server.username} was made with other credentials, by another data dir; copy that data "
                          f"dir's {CREDENTIALS_FILE} here (or pass that user's credentials), or use another database")
    if status != 200:
        raise StudioError(f"Label Studio started on {server.data_dir}, but its database does not accept the "
                          f"API key in {server.data_dir / CREDENTIALS_FILE} (HTTP {status}): the data dir was "
                          "created with other credentials; use a new --data-dir or pass that user's credentials")
