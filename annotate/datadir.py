"""What mudawwana keeps in a Label Studio data dir, and which data dirs the servers on this machine run on.

Files and processes only: asking a server anything is annotate/client.py's job, starting and stopping one is
annotate/server.py's. Both read what is here, so this module imports neither (server -> client -> datadir).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

CREDENTIALS_FILE = "mudawwana-credentials.json"  # 0600: password and API token of the local admin
STATE_FILE = "mudawwana-studio.json"  # pid and URL of the server running on this data dir
LOG_FILE = "label-studio.log"
DB_FILE = "label_studio.sqlite3"


def default_data_dir() -> Path:
    """Where `mudawwana studio` keeps its database unless told otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share"
    return Path(base) / "mudawwana" / "label-studio"


def load_credentials(data_dir: Path) -> dict | None:
    path = Path(data_dir) / CREDENTIALS_FILE
    return json.loads(path.read_text()) if path.exists() else None


# --- the state file: which process serves this data dir, at which URL -------------------------------------------

def read_state(data_dir: Path) -> dict | None:
    """{"pid", "url", "exe", "database"} of the last server started on this data dir, or None (no file, or not
    ours). "database": None for SQLite in the data dir, else the PostgreSQL URL WITHOUT its password."""
    try:
        state = json.loads((Path(data_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    ok = (isinstance(state, dict) and isinstance(state.get("pid"), int) and isinstance(state.get("url"), str)
          and isinstance(state.get("database"), (str, type(None))))
    return state if ok else None


def write_state(data_dir: Path, pid: int, url: str, exe: Path, database: str | None = None) -> None:
    """`database`: None (SQLite) or a PostgreSQL URL that must not hold a password: this file is not 0600."""
    (Path(data_dir) / STATE_FILE).write_text(json.dumps({"pid": pid, "url": url, "exe": str(exe),
                                                          "database": database}))


def remove_state(data_dir: Path, pid: int) -> None:
    """Removes the state file if it still names `pid` (a newer start may have replaced it)."""
    path = Path(data_dir) / STATE_FILE
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


# --- processes ------------------------------------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not a server
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_our_server(pid: int, data_dir: Path) -> bool:
    """Guards against a recycled pid: the process must be a label-studio started on this data dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return pid_alive(pid) and not Path("/proc/self").exists()  # no /proc (macOS): trust the pid
    except OSError:
        return False
    return str(data_dir).encode() in cmdline and b"start" in cmdline


@dataclass(frozen=True)
class RecordedServer:
    """A server a data dir's state file names, its process alive (whether it answers is for the client to ask)."""

    data_dir: Path
    pid: int
    url: str
    username: str
    api_key: str = field(repr=False)  # keys and passwords stay out of logs and test reports
    password: str = field(repr=False)
    database: str | None = None  # None: SQLite in the data dir; else a PostgreSQL URL without its password


def recorded_server(data_dir: Path) -> RecordedServer | None:
    data_dir = Path(data_dir).absolute()
    state = read_state(data_dir)
    if state is None:
        return None
    try:
        creds = load_credentials(data_dir)
    except (OSError, ValueError):  # another user's data dir (the file is 0600), or a damaged file
        return None
    if not creds or not is_our_server(state["pid"], data_dir):
        return None
    return RecordedServer(data_dir=data_dir, pid=state["pid"], url=state["url"], username=creds["username"],
                          api_key=creds["api_key"], password=creds["password"], database=state.get("database"))


def data_dirs_in_use() -> list[Path]:
    """The --data-dir of every `label-studio start` process on this machine, read from /proc (Linux; elsewhere
    none): the servers `mudawwana studio --data-dir X` left running, which nothing else records."""
    found: set[Path] = set()
    try:
        entries = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        # argv[0] is the executable, or the interpreter of the `label-studio` script and argv[1] the script.
        if b"start" in argv and b"--data-dir" in argv and any(a.endswith(b"label-studio") for a in argv[:2]):
            i = argv.index(b"--data-dir")
            if i + 1 < len(argv) and argv[i + 1]:
                found.add(Path(os.fsdecode(argv[i + 1])))
    return sorted(found)
