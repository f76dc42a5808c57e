"""`mudawwana pull`: corrected annotations from Label Studio -> CoNLL-U."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail
from mudawwana.cli.choices import Policy
from mudawwana.cli.progress import progress_bar

MAX_LISTED = 20


@app.command()
def pull(
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title."),
    output: Path = typer.Option(..., "--output", "-o", help="CoNLL-U file to write (a state file "
                                "<output>.pull-state.json beside it makes the next pull incremental)."),
    policy: Policy = typer.Option(Policy.latest, "--policy", help="Which annotation makes the sentence: "
                                  "latest (most recent submitted), majority (vote per word and column across "
                                  "annotators), reviewed (ground truth / accepted in review only)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only tasks updated after this ISO timestamp "
                                        "(default: since the previous pull to the same output)."),
    full: bool = typer.Option(False, "--full", help="Ignore the previous pull: fetch every task."),
    strict: bool = typer.Option(False, "--strict", help="Fail, writing nothing, if any annotation cannot be "
                                "mapped back (default: leave its sentence out and report it)."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Write the corrected sentences of a Label Studio project as CoNLL-U.

    Sentences come in task order, with annotation_status,
    annotators (pseudonymous ids, never emails) and agreement comments. Unannotated, skipped and unreviewed
    tasks are counted, not written.

    Example: mudawwana pull --project "news 2026" -o corrected.conllu --policy majority
    """
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.pull import pull_corpus, state_path_for

    if full and since:
        fail("--full and --since exclude each other")
    client = connect(url, api_key)
    with progress_bar("Pulling", unit="tasks") as advance:
        report = pull_corpus(client, project, output, policy=policy.value, since=since, strict=strict, full=full,
                             progress=advance)
    for f in report.unmappable[:MAX_LISTED]:
        what = "left out" if f.used else "not used by the policy"
        console.print(f"[yellow]unmappable[/] task {f.task_id} ({f.sent_id}), annotation {f.annotation_id} by "
                      f"{f.annotator} ({what}): {f.reason}", highlight=False)
    if len(report.unmappable) > MAX_LISTED:
        console.print(f"[yellow]... and {len(report.unmappable) - MAX_LISTED} more unmappable annotations "
                      f"(all listed in {state_path_for(output)})[/]", highlight=False)
    for task_id, sent_id, note in report.notes[:MAX_LISTED]:
        console.print(f"[yellow]note[/] task {task_id} ({sent_id}): {note}", highlight=False)
    how = f"changed since {report.since}" if report.incremental else "all"
    if report.full_reason and not report.incremental:
        how += f" ({report.full_reason})"
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items())) or "none"
    console.print(
        f"Pulled {report.fetched} tasks ({how}) from {report.project_title!r}: {report.written} sentences "
        f"written ({statuses}); not written: {report.unannotated} unannotated, {report.skipped} skipped, "
        + (f"{report.unreviewed} unreviewed, " if policy is Policy.reviewed else "")
        + f"{sum(1 for f in report.unmappable if f.used)} unmappable"
        + (f"; {report.cancelled_annotations} cancelled annotations ignored" if report.cancelled_annotations else "")
        + (f"; {report.removed} sentences removed" if report.removed else "")
        + f". {output}: {report.total_written} sentences.", highlight=False)
