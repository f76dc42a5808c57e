"""`mudawwana retrain`: one round of the loop: corrections -> a new tagger -> better pre-annotations, measured.

A thin layer over annotate.retrain.retrain."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, must_exist
from mudawwana.cli.choices import Device, Policy, Size
from mudawwana.cli.progress import progress_bar
from mudawwana.corpus.splits import DEFAULT_RATIOS


@app.command()
def retrain(
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title."),
    base: Path = typer.Option(..., "--base", metavar="BASE.conllu", dir_okay=False, callback=must_exist,
                              help="CoNLL-U every round trains on besides the corrections (e.g. the treebank "
                                   "of the first model); its last 10% is the dev part unless --dev is given."),
    output: Path = typer.Option(..., "--output", "-o", metavar="MODEL_DIR", file_okay=False,
                                help="The deployed model (MODEL_DIR.rounds.json records every round, "
                                     "MODEL_DIR.retrain/ holds the work files)."),
    size: Size = typer.Option(Size.small, "--size", help="Model size (see `mudawwana train`)."),
    min_new: int = typer.Option(50, "--min-new", min=0, help="Do nothing (exit 0) unless at least this many "
                                "corrected sentences are new or changed since the last round: safe from cron."),
    force: bool = typer.Option(False, "--force", help="Deploy the new model even when it scores worse, and run "
                               "even with fewer than --min-new new corrections."),
    policy: Policy = typer.Option(Policy.latest, "--policy", help="Which annotation makes a corrected sentence "
                                  "(see `mudawwana pull --help`)."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", file_okay=False, callback=must_exist,
                                             help="The model that pre-annotated the project, for the first "
                                                  "round (default: the last round's, else MODEL_DIR, else "
                                                  "stanza's official Arabic models)."),
    dev: Optional[Path] = typer.Option(None, "--dev", metavar="DEV.conllu", dir_okay=False, callback=must_exist,
                                       help="Dev data for the trainers instead of BASE's last 10% (the "
                                            "corrections' validation documents are always added)."),
    split_ratios: str = typer.Option(",".join(f"{r:g}" for r in DEFAULT_RATIOS), "--split-ratios",
                                     help="train,validation,test shares of documents: the export's split; the "
                                          "test documents are held out in every round."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1,
                                            help="Cap on the update steps of each model (train's --steps)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (default: torch's; 1 on a busy machine)."),
    device: Device = typer.Option(Device.cpu, "--device", help="Where the re-predicting tagger runs."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Retrain the tagger on the project's corrections and, when it is better, re-predict the unannotated tasks.

    Pulls the corrected sentences, trains tokenize, mwt, pos, lemma and depparse (and NER when the project has the
    ner layer and its corrections carry entities) on BASE plus the corrections' train documents, scores the previous and the new model on the held-out (test) documents, and deploys the
    new one when it is better on LAS or UPOS: MODEL_DIR is replaced and every task nobody has annotated gets
    its prediction (tasks with annotations are never touched). Rerunning a killed round continues it.

    Example: mudawwana retrain --project news --base corpus/data/ar_pud-sample.conllu -o models/news

    Cron: mudawwana retrain --project news --base base.conllu -o models/news --min-new 200
    """
    from rich.table import Table

    from mudawwana.annotate.client import connect
    from mudawwana.annotate.retrain import SCORES
    from mudawwana.annotate.retrain import retrain as run_round

    client = connect(url, api_key)
    with progress_bar("pull", unit="steps") as advance:
        result = run_round(client, project, base, output, size=size.value, min_new=min_new, force=force,
                           policy=policy.value, previous_model=model_dir, dev=dev, ratios=split_ratios,
                           max_steps=max_steps, threads=threads, device=device.value,
                           progress=lambda description, done, total: advance(done, total, description))
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    record = result.record
    if record is not None and record.get("heldout_scores"):
        scores = record["heldout_scores"]
        held = record["data"]["heldout"]
        table = Table(title=f"Round {record['round']}: held-out corrections ({held['sentences']} sentences, "
                            f"{held['documents']} documents), end-to-end F1", title_justify="left",
                      caption=f"previous: {record['previous_model']['model_version']}, new: "
                              f"{record['new_model']['model_version']}", caption_justify="left")
        table.add_column("model")
        for key in SCORES:
            table.add_column(key, justify="right")
        for which in ("previous", "new"):
            s = scores.get(which, {})
            if "error" in s:
                table.add_row(which, f"not scored: {s['error']}", *[""] * (len(SCORES) - 1))
            else:
                table.add_row(which, *[f"{s[k]:.2f}" if k in s else "-" for k in SCORES])
        console.print(table)
        data = record["data"]
        console.print(f"trained on {data['train']['sentences']:,} sentences (BASE "
                      f"{data['base']['train']['sentences']:,} + {data['corrections_train']['sentences']:,} "
                      f"corrected), dev {data['dev']['sentences']:,}; "
                      f"{record['seconds']['total']:.0f} s", highlight=False)
        ner = record.get("ner")
        if isinstance(ner, dict) and not (ner.get("trained") or ner.get("corrected_entities")):
            console.print(f"NER {ner['why']}", highlight=False)  # (otherwise a note above says it)
    console.print(result.message, highlight=False)
