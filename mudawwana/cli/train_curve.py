"""`mudawwana train-curve`: does more annotated data still help? A thin layer over corpus.train_curve."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import app, console, must_exist
from mudawwana.cli.choices import Size
from mudawwana.cli.progress import progress_bar


@app.command("train-curve")
def train_curve(
    corpus: Path = typer.Argument(..., metavar="CORPUS.conllu", dir_okay=False, callback=must_exist,
                                  help="Training corpus: CoNLL-U with UPOS, LEMMA, HEAD, DEPREL on every word."),
    dev: Optional[Path] = typer.Option(None, "--dev", metavar="DEV.conllu", dir_okay=False, callback=must_exist,
                                       help="Dev set every step is scored on (default: CORPUS's last 10%)."),
    steps: str = typer.Option("25,50,75,100", "--steps",
                              help="Shares of the training data to train on, in percent, increasing."),
    size: Size = typer.Option(Size.small, "--size", help="Model size of every step (see `mudawwana train`)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1,
                                            help="Cap on the update steps of each model (train's --steps)."),
    output: Path = typer.Option(Path("train-curve"), "--output", "-o", file_okay=False,
                                help="Where curve.json (every step's scores; a rerun resumes from it) and "
                                     "curve.png go."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (default: torch's; 1 on a busy machine)."),
) -> None:
    """Train on growing shares of CORPUS and print each dev score with its change since the previous step.

    Gains in the last steps mean more annotation still pays. Every step trains a full model set (tokenize,
    mwt, pos, lemma, depparse) with the same recipe as `mudawwana train`; the dev set stays the same.

    Example: mudawwana train-curve corpus/data/ar_pud-sample.conllu --steps 25,50,100 --size tiny
    """
    from rich.console import Console
    from rich.table import Table

    from mudawwana.corpus.train_curve import SHOWN, parse_shares
    from mudawwana.corpus.train_curve import train_curve as run_curve

    shares = parse_shares(steps)  # a bad --steps fails before stanza is imported
    with progress_bar("starting", unit="steps") as advance:
        curve = run_curve(corpus, output, dev=dev, shares=shares, size=size.value, max_steps=max_steps,
                          threads=threads, progress=lambda description, done, total: advance(done, total,
                                                                                              description))
    table = Table(title=f"Learning curve ({curve['size']} models)", title_justify="left",
                  caption=f"End-to-end F1 on dev ({curve['dev']['sentences']} sentences), in brackets the change "
                          "since the previous step.", caption_justify="left")
    table.add_column("share", justify="right")
    table.add_column("sentences", justify="right")
    keys = [k for k in SHOWN if any(k in s["scores"] for s in curve["steps"])]
    for key in keys:
        table.add_column(key, justify="right")
    for s in curve["steps"]:
        cells = []
        for key in keys:
            value, change = s["scores"].get(key), s["change"].get(key)
            if value is None:
                cells.append("-")
            else:
                cells.append(f"{value:.1f}" + ("" if change is None else f" ({change:+.1f})"))
        table.add_row(f"{s['share']}%", f"{s['sentences']:,}", *cells)
    # the curve is this command's data: stdout, unwrapped when it is not a terminal (rich would assume 80 columns)
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    errors = [s for s in curve["steps"] if "error" in s["scores"]]
    for s in errors:
        console.print(f"[yellow]{s['share']}%: not scored ({s['scores']['error']})[/]", highlight=False)
    console.print(f"curve.json and curve.png in {output}", highlight=False)
