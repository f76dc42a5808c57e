"""Line plots as PNG files (matplotlib, headless): the learning curve and the retraining report's figures.

matplotlib is imported on first use (it costs ~0.5 s), with the Agg backend so no display is needed. The PNG
carries no software/date metadata, so the same numbers give the same bytes on the same matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from .files import atomic_writer


def line_plot(path: str | Path, x: Sequence, series: Mapping[str, Sequence[float | None]], *, title: str,
              xlabel: str, ylabel: str, xticklabels: Sequence[str] | None = None) -> Path:
    """One line per series over `x` (None values are gaps), written atomically to `path`."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.add_subplot()
    for name, values in series.items():
        points = [(a, b) for a, b in zip(x, values) if b is not None]
        if points:
            ax.plot([a for a, _ in points], [b for _, b in points], marker="o", label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xticklabels is not None:
        ax.set_xticks(list(x))
        ax.set_xticklabels(list(xticklabels), rotation=15 if max(map(len, xticklabels), default=0) > 8 else 0,
                           fontsize=8)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_writer(path, "wb") as f:
        fig.savefig(f, format="png", metadata={"Software": None})
    return path
