"""The one progress bar (cli/progress.py): counts, an optional stage description, an unknown total."""

from __future__ import annotations

from mudawwana.cli.progress import progress_bar


def test_stages_rename_the_bar_and_counts_show(capsys):
    with progress_bar("starting", unit="stages") as advance:
        advance(0, 4, "prepare")
        advance(4, 4, "write model dir")
    err = " ".join(capsys.readouterr().err.split())
    assert "write model dir" in err and "4/4 stages" in err


def test_an_unknown_total_ends_full(capsys):
    with progress_bar("Exporting", unit="sentences") as advance:
        advance(100)
        advance(250)
    err = " ".join(capsys.readouterr().err.split())
    assert "Exporting" in err and "250/250 sentences" in err
