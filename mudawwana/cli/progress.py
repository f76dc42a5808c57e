"""One progress bar style for every long step (on stderr, hidden when not a terminal)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mudawwana.cli.app import console


@contextmanager
def progress_bar(description: str, unit: str = "") -> Iterator[Callable[[int, int | None], None]]:
    """Yield `advance(done, total)`; total may be None (unknown)."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int | None = None) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
