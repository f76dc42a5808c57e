"""`mudawwana report`: what annotators changed per model version, and the retraining rounds' held-out scores."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console


@app.command()
def report(
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title."),
    output: Path = typer.Option(Path("report"), "--output", "-o", file_okay=False,
                                help="Where rounds.json, report.md and the PNG plots go."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", file_okay=False,
                                             help="The MODEL_DIR of `mudawwana retrain -o`: adds its rounds "
                                                  "(MODEL_DIR.rounds.json) and their held-out scores."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Edit rates: the share of predicted words whose UPOS, lemma, feats, head, deprel or segmentation the
    annotators changed, and the entities they added or removed, per model version that pre-annotated.

    Writes rounds.json, report.md (the tables; `mudawwana export --report` puts them in the dataset card) and
    edit_rates.png / heldout_scores.png. The Markdown is also printed on stdout.

    Example: mudawwana report --project news --model-dir models/news -o report/
    """
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.edit_rates import build_report, edit_rates, write_report
    from mudawwana.annotate.retrain import load_rounds, rounds_path_for

    rounds = None
    if model_dir is not None:
        if not rounds_path_for(model_dir).is_file():
            from mudawwana.corpus.errors import InputError
            raise InputError(f"{rounds_path_for(model_dir)}: no such file; give the -o of `mudawwana retrain`")
        rounds = load_rounds(model_dir)
    client = connect(url, api_key)
    edits = edit_rates(client, project)
    data = build_report(edits, rounds)
    written = write_report(data, output)
    typer.echo((output / "report.md").read_text(encoding="utf-8"), nl=False)
    console.print(f"{edits.annotated_tasks} annotated tasks of {edits.tasks}; written: "
                  + ", ".join(str(p) for p in written), highlight=False)
