"""`mudawwana train`: a stanza model set from a CoNLL-U corpus; a thin layer over corpus.train.train."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from mudawwana.cli.app import app, console, must_exist
from mudawwana.cli.choices import Size
from mudawwana.cli.progress import progress_bar


@app.command()
def train(
    corpus: Path = typer.Argument(..., metavar="CORPUS.conllu", dir_okay=False, callback=must_exist,
                                  help="Training corpus: CoNLL-U with UPOS, LEMMA, HEAD, DEPREL on every word."),
    output: Path = typer.Option(..., "--output", "-o", metavar="MODEL_DIR",
                                help="Model directory to write (an earlier model directory there is replaced)."),
    dev: Optional[Path] = typer.Option(None, "--dev", metavar="DEV.conllu", dir_okay=False, callback=must_exist,
                                       help="Dev set for early stopping and scores (default: CORPUS's last 10%)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1,
                                        help="Cap on the update steps of each model (default: per --size)."),
    size: Size = typer.Option(Size.default, "--size",
                              help="tiny: 16-dimension models in about a minute, for tests (scores meaningless); "
                                   "small: about 3 minutes on 2 cores (UPOS ~87, LAS ~66 on the sample's dev "
                                   "part), what the demo trains; default: stanza's dimensions (hours on a CPU "
                                   "unless --steps caps it)."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name (default: the MODEL_DIR folder name)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (default: torch's; 1 on a busy machine)."),
) -> None:
    """Train tokenize, mwt (if the corpus has multi-word tokens), pos, lemma and depparse models, offline.

    Writes MODEL_DIR: the models, resources.json and manifest.json (data hashes, settings, dev scores).

    Example: mudawwana train corpus/data/ar_pud-sample.conllu -o models/ar-pud --size tiny

    Then tag with: --model-dir models/ar-pud
    """
    from mudawwana.corpus.train import train as train_models  # imports stanza/torch only when training

    with progress_bar("starting", unit="stages") as advance:
        manifest = train_models(corpus, output, dev=dev, steps=steps, size=size.value,
                                progress=lambda description, done, total: advance(done, total, description),
                                name=name, threads=threads)
    _summary(manifest, output)


def _summary(manifest: dict, output: Path) -> None:
    table = Table(title=f"{manifest['model_version']}  ({manifest['training_seconds']['total']:.0f} s)",
                  title_justify="left")
    table.add_column("model")
    table.add_column("dev", justify="right")
    table.add_column("as its trainer scores it")
    for model, score in manifest["dev_scores"].items():
        table.add_row(model, "-" if score["f1"] is None else f"{score['f1']:.2f}", score["metric"])
    console.print(table)
    e2e = manifest["dev_scores_end_to_end"]
    if "error" in e2e:
        console.print(f"end to end on dev: not scored ({e2e['error']})", highlight=False)
    else:
        keys = ("Tokens", "Words", "UPOS", "Lemmas", "UAS", "LAS")
        console.print("end to end on dev (raw text): " + ", ".join(f"{k} {e2e[k]:.1f}" for k in keys if k in e2e),
                      highlight=False)
    data = manifest["data"]
    console.print(f"trained on {data['train']['sentences']} sentences, dev {data['dev']['sentences']}; "
                  f"written to {output}  (use: --model-dir {output})", highlight=False)
