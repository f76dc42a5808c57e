"""`mudawwana agreement`: inter-annotator agreement on a Label Studio project."""

from __future__ import annotations

from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console

COLUMN_NAMES = {"upos": "UPOS", "lemma": "lemma", "head": "head", "deprel": "deprel", "ner": "NER"}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


@app.command()
def agreement(
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title."),
    top: int = typer.Option(10, "--top", "-k", min=0, help="List the K sentences that disagree most."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (on stdout)."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Inter-annotator agreement per column, and the sentences that disagree most.

    Counts tasks with two or more annotations; sentences that annotators segmented differently are counted apart.

    Per column: observed agreement; for UPOS, deprel and NER also a chance-corrected one (--json: kappa, kappa_kind):
    - Cohen's kappa (cohen): the same two annotators did every sentence;
    - Fleiss' kappa (fleiss): every sentence has the same number of annotators;
    - Krippendorff's alpha, nominal (krippendorff): the number of annotators varies.

    Example: mudawwana agreement --project "news 2026" --top 5
    """
    import dataclasses
    import json

    from rich.console import Console
    from rich.table import Table

    from mudawwana.annotate.agreement import STATISTICS
    from mudawwana.annotate.agreement import agreement as compute
    from mudawwana.annotate.client import connect

    client = connect(url, api_key)
    report = compute(client, project, top_k=top)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=1))
        return
    out = Console()  # the report is this command's data: stdout (the summary line goes to stderr)
    console.print(f"Project {report.project_title!r}: {report.multi_annotated} of {report.tasks} tasks have two "
                  f"or more annotators ({len(report.annotators)} annotators in all); {report.compared} compared "
                  f"word by word, {len(report.segmentation_differs)} segmented differently"
                  + (f", {len(report.unmappable)} annotations could not be mapped" if report.unmappable else "")
                  + ".", highlight=False)
    if not report.compared:
        return
    table = Table(title="Agreement per column")
    for name in ("column", "items", "observed", "chance-corrected", "statistic"):
        table.add_column(name, justify="left" if name in ("column", "statistic") else "right")
    for c in report.columns.values():
        table.add_row(COLUMN_NAMES.get(c.column, c.column), str(c.items), _fmt(c.observed), _fmt(c.kappa),
                      STATISTICS.get(c.kappa_kind, "(observed only)"))
    out.print(table)
    if report.top:
        t = Table(title=f"Sentences that disagree most (top {len(report.top)})")
        for name in ("task", "sent_id", "annotators", "disagreeing cells", "share", "columns"):
            t.add_column(name)
        for d in report.top:
            t.add_row(str(d.task_id), d.sent_id or "-", str(d.annotators), f"{d.disagreeing}/{d.cells}",
                      f"{d.score:.2f}", ", ".join(f"{COLUMN_NAMES.get(k, k)} {v}" for k, v in d.columns.items()))
        out.print(t)
    for task_id, sent_id in report.segmentation_differs[:top]:
        out.print(f"segmented differently: task {task_id} ({sent_id})", highlight=False)
