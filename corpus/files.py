"""Files that are never half-written: atomic file writes, content hashes, and directories built aside
and swapped into place.

Every stage writes through these, so a crash, Ctrl-C or a full disk leaves either the old result or the new
one, never a mixture. Temporary files and directories are created BESIDE their target (a rename is atomic
only within one filesystem) and named `.NAME.PID@HOST.*.tmp` (`.old` for a replaced directory on its way out).

A hard kill (kill -9, a power cut) is the only way to leave one behind, and the next write of the same target
removes what a DEAD run left (remove_stale): an entry whose PID on this HOST no longer runs, and that no
process holds locked. The owner holds an flock on its temporary file or directory while it works, so a pid
recycled by an unrelated process only delays the cleanup, and a live run's temporary, whether in another
terminal or a child process it forked, is never touched. Another host's (a shared network disk) is left alone:
its pids mean nothing here. A directory killed mid-swap, its target renamed to `.old` and not yet replaced, is
renamed back: the old result, complete.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

try:
    import fcntl
except ImportError:  # not POSIX: the pid alone tells a dead owner
    fcntl = None

_CHUNK = 1 << 20


# --- hashes ---------------------------------------------------------------------------------------------------

def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    _update_with_file(digest, Path(path))
    return digest.hexdigest()


def files_sha256(paths: Iterable[str | os.PathLike]) -> str:
    """The sha256 (hex) over several files' names and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        digest.update(path.name.encode() + b"\0")
        _update_with_file(digest, path)
    return digest.hexdigest()


def _update_with_file(digest, path: Path) -> None:
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)


# --- temporaries: named after their owner, removed when it is dead -----------------------------------------------

def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"


def _temp_prefix(target: Path) -> str:
    """`.NAME.PID@HOST.`: mkstemp/mkdtemp add a random part, then `.tmp` or `.old`."""
    return f".{target.name}.{os.getpid()}@{_host()}."


_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_OWNER = re.compile(r"(\d+)@([A-Za-z0-9.-]+)\.[^.]+\.(tmp|old)")


def _owner_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:  # a zombie (exited, not yet reaped) works no more
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _lock(fd: int) -> bool:
    """An exclusive flock on `fd` without waiting; False if another process holds one."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def remove_stale(target: str | os.PathLike) -> list[Path]:
    """Removes the temporaries of `target` that a dead run left beside it (see the module docstring); returns
    what it removed. A `.old` directory whose target is missing is renamed back instead."""
    target = Path(target)
    prefix = f".{target.name}."
    try:
        entries = [e for e in os.scandir(target.parent) if e.name.startswith(prefix)]
    except OSError:  # no parent yet, or unreadable: nothing of ours there
        return []
    removed = []
    for entry in entries:
        m = _OWNER.fullmatch(entry.name[len(prefix):])
        if not m or m.group(2) != _host() or _owner_alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        try:
            fd = os.open(path, os.O_RDONLY | (_O_DIRECTORY if entry.is_dir(follow_symlinks=False) else 0))
        except OSError:  # removed meanwhile by another cleaner
            continue
        try:
            if not _lock(fd):  # a child of the dead run still works in it
                continue
            if m.group(3) == "old" and not target.exists() and not target.is_symlink():
                os.rename(path, target)  # killed between the two renames of a swap: put the old result back
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


# --- files ----------------------------------------------------------------------------------------------------

@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside `path`; on success fsync and rename it over `path`, on error remove it.

    Text mode writes UTF-8 with LF line ends. Temp files a dead run left for `path` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    _lock(fd)  # ours until the rename or our death: remove_stale leaves it alone
    try:
        kwargs = {"encoding": "utf-8", "newline": "\n"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it 0600; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_writer(path) as f:
        f.write(text)


def write_json_atomic(path: str | os.PathLike, data, *, indent: int | None = 1) -> None:
    """Write `data` as UTF-8 JSON (Arabic kept readable) followed by a newline, atomically."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=indent) + "\n")


# --- directories ----------------------------------------------------------------------------------------------

@contextmanager
def staged_directory(out_dir: str | os.PathLike,
                     check_replaceable: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield an empty directory beside `out_dir` to fill; on success it becomes `out_dir`, on any error it is
    removed and an existing `out_dir` is left exactly as it was.

    `check_replaceable(out_dir)` raises when `out_dir` must not be replaced (it may hold someone's files); it
    runs before the work and again just before the swap. The swap is two renames (old aside, new in): between
    them `out_dir` is briefly missing, but never half-written. What a dead run left beside `out_dir` is removed
    first (a live one's is left alone: two terminals may export at once).
    """
    out_dir = Path(out_dir)
    remove_stale(out_dir)  # first: it may put back an `out_dir` a kill left renamed aside
    if check_replaceable:
        check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=_temp_prefix(out_dir), suffix=".tmp", dir=out_dir.parent))
    fd = os.open(stage, os.O_RDONLY | _O_DIRECTORY)
    try:
        _lock(fd)  # held until the swap is done or we die: remove_stale leaves the stage alone
        yield stage
        _set_ordinary_modes(stage)
        if check_replaceable:
            check_replaceable(out_dir)  # again: it may have changed while we worked
        _swap(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        os.close(fd)


def _swap(stage: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(stage, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=_temp_prefix(out_dir), suffix=".old", dir=out_dir.parent))
    os.rmdir(old)  # only a unique name was wanted
    os.rename(out_dir, old)
    try:
        os.rename(stage, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _set_ordinary_modes(stage: Path) -> None:
    # mkdtemp/mkstemp create 0700/0600; a result is meant to be shared, so give everything the permissions a
    # plain mkdir/open would.
    umask = current_umask()
    os.chmod(stage, 0o777 & ~umask)
    for path in stage.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def current_umask() -> int:
    try:  # Linux shows it without changing it (os.umask would, process-wide, for a moment)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask
