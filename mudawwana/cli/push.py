"""`mudawwana push`: a CoNLL-U corpus -> Label Studio tasks with pre-annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mudawwana.cli.app import LS_API_KEY_OPTION, LS_URL_OPTION, app, console, fail, must_exist
from mudawwana.cli.progress import progress_bar

MAX_LISTED = 20


def parse_layers(value: Optional[str]) -> Optional[tuple[str, ...]]:
    if value is None:
        return None
    from mudawwana.annotate.config import check_layers

    try:
        return check_layers([x.strip() for x in value.split(",") if x.strip()])
    except ValueError as e:
        fail(f"--layers: {e}")


@app.command()
def push(
    corpus: Path = typer.Argument(..., dir_okay=False, callback=must_exist,
                                  help="CoNLL-U file to push (e.g. written by `mudawwana tag`)."),
    project: str = typer.Option(..., "--project", "-p", help="Label Studio project title (created if missing)."),
    layers: Optional[str] = typer.Option(None, "--layers", help="Correction layers, comma-separated, from "
                                         "upos,lemma,seg,feats,xpos,deps,ner. Default: the project's, or "
                                         "upos,lemma,seg,ner for a new project."),
    batch_size: int = typer.Option(1000, "--batch-size", min=1, help="Tasks per import request."),
    model_version: Optional[str] = typer.Option(None, "--model-version", help="For sentences without a "
                                                "`# model_version` comment (default: file name @ hash)."),
    url: Optional[str] = LS_URL_OPTION,
    api_key: Optional[str] = LS_API_KEY_OPTION,
) -> None:
    """Import a CoNLL-U corpus into Label Studio: one task per sentence, pre-annotation as prediction.

    Creates the project (or reuses the one with this title). Safe to rerun: sentences already in the project are skipped; a sentence whose text
    changed since it was pushed is reported, not duplicated.

    Pushes started at once (cron, colleagues, other machines) end with one project and one task per sentence:
    each removes what the others duplicated while nothing was annotated on it (docs/scaling.md).

    Example: mudawwana push corpus.conllu --project "news 2026" --layers upos,lemma,seg,ner
    """
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.push import push_corpus

    chosen = parse_layers(layers)
    client = connect(url, api_key)
    with progress_bar("Importing", unit="tasks") as advance:
        report = push_corpus(client, corpus, project, layers=chosen, model_version=model_version,
                             batch_size=batch_size, progress=advance)
    for inv in report.invalid[:MAX_LISTED]:
        console.print(f"[yellow]not imported[/] sentence {inv.index} ({inv.sent_id or 'no sent_id'}): "
                      f"{'; '.join(inv.errors[:3])}", highlight=False)
    if len(report.invalid) > MAX_LISTED:
        console.print(f"[yellow]... and {len(report.invalid) - MAX_LISTED} more sentences not imported[/]")
    for ch in report.changed[:MAX_LISTED]:
        console.print(f"[yellow]text changed[/] {ch.sent_id} (task {ch.task_id}), not imported again:\n"
                      f"  in project: {ch.old_text}\n  in file:    {ch.new_text}", highlight=False)
    if len(report.changed) > MAX_LISTED:
        console.print(f"[yellow]... and {len(report.changed) - MAX_LISTED} more changed sentences[/]")
    verb = "created" if report.created else "existing"
    rate = f" ({report.tasks_per_second:.0f} tasks/s)" if report.imported else ""
    console.print(
        f"Project {report.project_title!r} (id {report.project_id}, {verb}; layers {','.join(report.layers)}): "
        f"{report.imported} tasks imported{rate}, {report.already_present} already there, "
        f"{len(report.changed)} changed text, {len(report.invalid)} invalid, of {report.sentences} sentences."
        + (f" {report.not_in_file} tasks in the project are not in this file." if report.not_in_file else "")
        + (f" Project model version: {report.project_model_version}." if report.project_model_version else "")
        + _concurrency_note(report), highlight=False)
    if report.annotated_duplicates:
        console.print(f"[yellow]note[/] {len(report.annotated_duplicates)} sentences have several annotated tasks "
                      f"(left as they are): {', '.join(report.annotated_duplicates[:MAX_LISTED])}", highlight=False)


def _concurrency_note(report) -> str:
    """What reconciling with pushes that ran at the same time did (annotate/push.py, "Concurrent pushes")."""
    done = []
    if report.projects_absorbed:
        done.append(f"removed {len(report.projects_absorbed)} other projects with this title "
                    f"(ids {', '.join(map(str, report.projects_absorbed))})")
    if report.duplicates_removed:
        done.append(f"removed {report.duplicates_removed} duplicate tasks")
    return f" Concurrent pushes: {'; '.join(done)}." if done else ""
