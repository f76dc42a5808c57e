"""Files that are never half-written: atomic file writes, content hashes, and directories built aside
and swapped into place.

Every stage writes through these, so a crash, Ctrl-C or a full disk leaves either the old result or the new
one, never a mixture. Temporary files and directories are created BESIDE their target (a rename is atomic
only within one filesystem) and named `.NAME.*.tmp`: a hard kill is the only way to leave one behind, and
it is safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

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


# --- files ----------------------------------------------------------------------------------------------------

@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside `path`; on success fsync and rename it over `path`, on error remove it.

    Text mode writes UTF-8 with LF line ends.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
    them `out_dir` is briefly missing, but never half-written.
    """
    out_dir = Path(out_dir)
    if check_replaceable:
        check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        yield stage
        _set_ordinary_modes(stage)
        if check_replaceable:
            check_replaceable(out_dir)  # again: it may have changed while we worked
        _swap(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap(stage: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(stage, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
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
