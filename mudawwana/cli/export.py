"""`mudawwana export`: corrected CoNLL-U -> Hugging Face dataset, CoNLL-U splits and dataset card."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from corpus.errors import MudawwanaError
# Submodules, not the package: an editable install made before export/__init__.py existed maps `export`
# as a namespace package, whose __init__ never runs.
from export.api import ExportResult, export_corpus
from export.hub import push_export
from export.splits import DEFAULT_RATIOS
from mudawwana.cli.app import app, console, fail


class Schema(str, Enum):
    mudawwana = "mudawwana"
    ud = "ud"


@app.command()
def export(
    corrected: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                     help="Corrected CoNLL-U file (e.g. from `mudawwana pull`)."),
    out: Path = typer.Option(..., "--out", "-o", file_okay=False,
                             help="Output directory; replaced as a whole only when the export succeeds."),
    name: str = typer.Option("mudawwana", help="Corpus name: files become ar_<name>-ud-{train,dev,test}.conllu."),
    schema: Schema = typer.Option(Schema.mudawwana, help="Dataset features: mudawwana (tokens, words, "
                                  "entities, metadata) or ud (the Hugging Face universal_dependencies loader's)."),
    split_ratios: str = typer.Option(",".join(f"{r:g}" for r in DEFAULT_RATIOS), "--split-ratios",
                                     help="train,validation,test shares of documents."),
    allow_invalid: bool = typer.Option(False, "--allow-invalid", help="Export sentences that fail UD "
                                       "validation, and list them in the card, instead of refusing."),
    push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", metavar="REPO",
                                              help="Also upload to this Hub dataset repo (token from HF_TOKEN)."),
    license: str = typer.Option("unknown", "--license",
                                help="License of the text, for the card (e.g. cc-by-sa-3.0 for UD Arabic-PUD)."),
    source: Optional[str] = typer.Option(None, "--source", help="Where the text comes from, for the card."),
) -> None:
    """Validate, split by document and export a corrected corpus.

    Example: mudawwana export corrected.conllu -o out/ --name pud --license cc-by-sa-3.0
    """
    try:
        result = _export(corrected, out, name=name, schema=schema.value, ratios=split_ratios,
                         allow_invalid=allow_invalid, source_description=source, license=license)
        _summary(result)
        if push_to_hub:
            url = push_export(result.out_dir, push_to_hub)
            console.print(f"pushed to {url}", highlight=False)
    except MudawwanaError as e:  # also when called through CliRunner, which bypasses cli.main()
        fail(str(e))


def _export(conllu_path: Path, out: Path, **options) -> ExportResult:
    with Progress(SpinnerColumn(), TextColumn("exporting: {task.completed:,} sentences"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("export", total=None)
        return export_corpus(conllu_path, out, progress=lambda n: progress.update(task, completed=n), **options)


def _summary(result: ExportResult) -> None:
    table = Table(title=f"{result.out_dir} ({result.schema} schema)")
    for column in ("split", "documents", "sentences", "tokens", "words"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, c in result.splits.items():
        table.add_row(split, f"{c.documents:,}", f"{c.sentences:,}", f"{c.tokens:,}", f"{c.words:,}")
    console.print(table)
    if result.invalid:
        console.print(f"[yellow]warning:[/] {len(result.invalid)} invalid sentence(s) exported "
                      "(--allow-invalid); they are listed in README.md", highlight=False)
