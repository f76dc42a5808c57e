"""One progress bar style for every long step (on stderr; rich only animates it on a terminal)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mudawwana.cli.app import console


class Advance(Protocol):
    def __call__(self, done: int, total: int | None = None, description: str | None = None) -> None: ...


@contextmanager
def progress_bar(description: str, unit: str = "") -> Iterator[Advance]:
    """Yield `advance(done, total=None, description=None)`.

    `done` of `total` units so far (total None: unknown, the bar pulses and shows done/?); `description`
    renames the step, for jobs that go through stages (train: "pos 3/8 ...").
    The library callbacks fit as they are: tag/push/pull's progress(done, total) is `advance`; train's
    progress(description, done, total) is `lambda d, n, t: advance(n, t, d)`; export's progress(n) is `advance`.
    """
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int | None = None, description: str | None = None) -> None:
            if description is None:
                progress.update(task, completed=done, total=total)
            else:
                progress.update(task, completed=done, total=total, description=description)

        try:
            yield advance
        except BaseException:
            # The error line that follows must stand alone: a bar frozen at 0/? above it says nothing.
            progress.live.transient = True
            raise
        if progress.tasks[0].total is None:  # finished with an unknown total: the bar ends full, done/done
            progress.update(task, total=progress.tasks[0].completed)
