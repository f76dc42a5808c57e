"""`mudawwana pull`: corrected annotations from Label Studio -> CoNLL-U."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail
from mudawwana.cli.choices import Clitics, Policy
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
    partial: bool = typer.Option(False, "--partial", help="Write a sentence whose annotation can only partly be "
                                 "mapped back, with the corrections that can be and annotation_status = partial "
                                 "(default: leave it out). Either way it is reported."),
    clitics: Optional[Clitics] = typer.Option(None, "--clitics", help="How re-segmented words are written: mwt "
                                              "(clitics in multi-word tokens, as UD Arabic-PADT) or tokens (glued "
                                              "tokens, as UD Arabic-PUD). Default: as each pushed sentence writes "
                                              "them."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Write the corrected sentences of a Label Studio project as CoNLL-U.

    Sentences come in task order, with annotation_status,
    annotators (pseudonymous ids, never emails) and agreement comments. Unannotated, skipped and unreviewed
    tasks are counted, not written. Every sentence left out because its annotation cannot be mapped back is
    listed, on every pull until its task is corrected.

    Example: mudawwana pull --project "news 2026" -o corrected.conllu --policy majority
    """
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.pull import pull_corpus

    if full and since:
        fail("--full and --since exclude each other")
    client = connect(url, api_key)
    with progress_bar("Pulling", unit="tasks") as advance:
        report = pull_corpus(client, project, output, policy=policy.value, since=since, strict=strict, full=full,
                             partial=partial, clitics=clitics.value if clitics else None, progress=advance)
    print_left_out(report, output)
    unused = [f for f in report.unmappable if not f.used]
    for f in unused[:MAX_LISTED]:
        console.print(f"[yellow]unmappable[/] task {f.task_id} ({f.sent_id}), annotation {f.annotation_id} by "
                      f"{f.annotator} (not used by the policy): {f.reason}", highlight=False)
    for task_id, sent_id, note in report.notes[:MAX_LISTED]:
        console.print(f"[yellow]note[/] task {task_id} ({sent_id}): {note}", highlight=False)
    how = f"changed since {report.since}" if report.incremental else "all"
    if report.full_reason and not report.incremental:
        how += f" ({report.full_reason})"
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items())) or "none"
    left_out = report.left_out
    earlier = sum(1 for f in left_out if f in report.carried)
    console.print(
        f"Pulled {report.fetched} tasks ({how}) from {report.project_title!r}: {report.written} sentences "
        f"written ({statuses}); not written: {report.unannotated} unannotated, {report.skipped} skipped, "
        + (f"{report.unreviewed} unreviewed, " if policy is Policy.reviewed else "")
        + f"{len(left_out)} left out (unmappable" + (f", {earlier} from earlier pulls" if earlier else "") + ")"
        + (f"; {report.cancelled_annotations} cancelled annotations ignored" if report.cancelled_annotations else "")
        + (f"; {report.removed} sentences removed" if report.removed else "")
        + f". {output}: {report.total_written} sentences"
        + (f", {len(report.partial_sentences)} of them partial" if report.partial_sentences else "") + ".",
        highlight=False)


def print_left_out(report, output: Path) -> None:
    """Every sentence left out of the output (and every partial one), this pull's and earlier pulls' alike: the
    first MAX_LISTED with their reasons, then the task ids of the rest (all in the state file)."""
    from mudawwana.annotate.pull import state_path_for

    for what, failures in (("left out", report.left_out), ("partial", report.partial_sentences)):
        for f in failures[:MAX_LISTED]:
            earlier = " (an earlier pull's: the task has not changed since)" if f in report.carried else ""
            console.print(f"[yellow]{what}[/] task {f.task_id} ({f.sent_id}), annotation {f.annotation_id} by "
                          f"{f.annotator}{earlier}: {f.reason}", highlight=False)
        if len(failures) > MAX_LISTED:
            rest = ", ".join(str(f.task_id) for f in failures[MAX_LISTED:])
            console.print(f"[yellow]{what}[/] also tasks {rest} (reasons in {state_path_for(output)})",
                          highlight=False)
    if report.left_out and not report.partial:
        console.print("Fix them in Label Studio and pull again, or pull with --partial to keep their mappable "
                      "corrections.", highlight=False)
