"""Build the export in a temporary directory beside OUT_DIR and swap it into place only when complete.

Beside, not in /tmp: a rename is atomic only within one filesystem. A failure (invalid sentences, disk
full, Ctrl-C) removes the temporary directory and leaves an existing OUT_DIR exactly as it was. Only a
hard kill leaves a `.NAME.*.tmp` directory behind, which is safe to delete.

The swap is two renames (old export aside, new one in); the old one is deleted afterwards. Between the
renames OUT_DIR is briefly missing, but never half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ExportError

# A directory holding this file is one of our exports and may be replaced.
MARKER = "dataset_dict.json"


def check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a directory that is not a previous export: it may hold someone's files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory; choose another -o")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise ExportError(f"{out_dir} is not empty and is not a mudawwana export (no {MARKER}); "
                          "refusing to replace it: choose an empty or new directory with -o")


@contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """Yield an empty directory to fill; on success it becomes `out_dir`, on any error it is removed."""
    out_dir = Path(out_dir)
    check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        yield stage
        _set_modes(stage)
        _swap(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap(stage: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(stage, out_dir)
        return
    check_replaceable(out_dir)  # again: it may have changed while we were exporting
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    os.rmdir(old)  # we only wanted a unique name
    os.rename(out_dir, old)
    try:
        os.rename(stage, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _set_modes(stage: Path) -> None:
    # mkdtemp/mkstemp (ours and conllu_io's atomic writer) create 0700/0600; an export is meant to be
    # shared, so give everything the permissions a plain mkdir/open would.
    umask = _umask()
    os.chmod(stage, 0o777 & ~umask)
    for path in stage.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def _umask() -> int:
    try:  # Linux shows it without changing it (os.umask would, process-wide, for a moment)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask
