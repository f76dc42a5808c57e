"""Build the export in a temporary directory beside OUT_DIR and swap it into place only when complete.

Beside, not in /tmp: a rename is atomic only within one filesystem. A failure (invalid sentences, disk
full, Ctrl-C) removes the temporary directory and leaves an existing OUT_DIR exactly as it was. Only a
hard kill leaves a `.NAME.PID@HOST.*.tmp` directory behind, and the next export to OUT_DIR removes it (an
export running at the same time in another terminal keeps its own).

The mechanics are `mudawwana.corpus.files.staged_directory`'s; this module adds what may be replaced.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mudawwana.corpus import files

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
    with files.staged_directory(out_dir, check_replaceable) as stage:
        yield stage
