"""`mudawwana export`: corrected CoNLL-U -> Hugging Face dataset, CoNLL-U splits and dataset card."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from mudawwana.export.splits import DEFAULT_RATIOS
from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail
from mudawwana.cli.choices import Policy, Schema
from mudawwana.cli.progress import progress_bar

if TYPE_CHECKING:  # `datasets` costs a second at import: every other command would pay it
    from mudawwana.export.export_job import ExportResult


@app.command()
def export(
    corrected: Optional[Path] = typer.Argument(None, dir_okay=False,
                                               help="Corrected CoNLL-U file (e.g. from `mudawwana pull`); "
                                               "with --project, where the pulled corpus is kept."),
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
    project: Optional[str] = typer.Option(None, "--project", "-p", help="Pull this Label Studio project first "
                                          "(incrementally: only tasks changed since the last export), then export."),
    policy: Policy = typer.Option(Policy.latest, "--policy", help="With --project: which annotation makes the "
                                  "sentence (see `mudawwana pull --help`)."),
    partial: bool = typer.Option(False, "--partial", help="With --project: keep a sentence whose annotation can "
                                 "only partly be mapped back, with its mappable corrections (annotation_status = "
                                 "partial), instead of leaving it out (see `mudawwana pull --help`)."),
    training_report: Optional[Path] = typer.Option(None, "--report", metavar="REPORT",
                                                   help="rounds.json of `mudawwana report` (or its folder): its "
                                                        "edit rates and retraining rounds go into the card."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Validate, split by document and export a corrected corpus.

    Example: mudawwana export corrected.conllu -o out/ --name pud --license cc-by-sa-3.0

    Example: mudawwana export --project news -o out/   (pull + export; rerun whenever annotators have worked)
    """
    if project is None and corrected is None:
        fail("give a corrected CoNLL-U file, or --project NAME to pull it from Label Studio first")
    if project is None and not corrected.is_file():
        fail(f"{corrected}: no such file")
    report = _read_report(training_report) if training_report is not None else None  # before any pull
    if project is not None:
        corrected, left_out = _pull(project, corrected or out.with_name(out.name + "-corrected.conllu"),
                                    policy.value, partial, url, api_key)
    else:
        left_out = _left_out_of_previous_pull(corrected)
    result = _export(corrected, out, report, left_out, name=name, schema=schema.value, ratios=split_ratios,
                     allow_invalid=allow_invalid, source_description=source, license=license)
    _summary(result)
    if push_to_hub:
        from mudawwana.export.hub import push_export

        url = push_export(result.out_dir, push_to_hub)
        console.print(f"pushed to {url}", highlight=False)


def _pull(project: str, corrected: Path, policy: str, partial: bool, url: Optional[str],
          api_key: Optional[str]) -> tuple[Path, int]:
    """Pull into `corrected` (its state file makes the next pull, and so the next export, incremental); the number
    of sentences left out, each listed (those of earlier pulls too: a rerun lists them again)."""
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.pull import pull_corpus
    from mudawwana.cli.pull import print_left_out

    client = connect(url, api_key)
    with progress_bar("Pulling", unit="tasks") as advance:
        report = pull_corpus(client, project, corrected, policy=policy, partial=partial, progress=advance)
    console.print(f"pulled {report.fetched} changed tasks from {project!r}: {report.total_written} corrected "
                  f"sentences in {corrected}, {len(report.left_out)} left out", highlight=False)
    print_left_out(report, corrected)
    return corrected, len(report.left_out)


def _left_out_of_previous_pull(corrected: Path) -> Optional[int]:
    """A file written by `mudawwana pull`: the sentences its state file says were left out, each listed; None for a
    file that did not come from a pull."""
    from mudawwana.annotate.pull import MappingFailure, load_state, state_path_for

    state = load_state(state_path_for(corrected))
    if state is None:
        return None
    failures = [MappingFailure.from_state(f) for f in state.get("unmappable", [])]
    left_out = sorted({f.task_id: f for f in failures if f.left_out}.values(), key=lambda f: f.task_id)
    for f in left_out:
        console.print(f"[yellow]left out[/] task {f.task_id} ({f.sent_id}) by the pull that wrote {corrected}: "
                      f"{f.reason}", highlight=False)
    return len(left_out)


def _read_report(path: Path) -> dict:
    """The rounds.json of `mudawwana report` (given as the file or its folder), checked before exporting."""
    import json

    from mudawwana.corpus.errors import InputError

    file = path / "rounds.json" if path.is_dir() else path
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"--report {path}: cannot read {file} ({e}); give the rounds.json `mudawwana report` "
                         "wrote") from None
    if not isinstance(report, dict) or not isinstance(report.get("models"), list):
        raise InputError(f"--report {path}: {file} is not the rounds.json of `mudawwana report`")
    return report


def _export(conllu_path: Path, out: Path, report: Optional[dict], left_out: Optional[int], **options) -> ExportResult:
    from mudawwana.export.card import left_out_sentences, training_report
    from mudawwana.export.export_job import export_corpus

    with progress_bar("Exporting", unit="sentences") as advance, training_report(report), \
            left_out_sentences(left_out):
        return export_corpus(conllu_path, out, progress=advance, **options)


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
