"""`mudawwana demo`: from nothing to annotators at work, on the bundled sample."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

import typer

from mudawwana.corpus.demo import DEMO_PROJECT
from mudawwana.cli.app import app, command_prefix, console, must_exist
from mudawwana.cli.progress import progress_bar


@app.command()
def demo(
    workdir: Path = typer.Option(Path("mudawwana-demo"), "--workdir", help="Where the demo writes its text, "
                                 "model, corpus and Label Studio data."),
    documents: int = typer.Option(10, help="How many sample news documents to tag and push."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", file_okay=False, callback=must_exist,
                                             help="Use these models instead of stanza's official ones (or a "
                                             "model trained from the sample)."),
    port: Optional[int] = typer.Option(None, help="Port for Label Studio on 127.0.0.1 (default: a free one)."),
    project: str = typer.Option(DEMO_PROJECT, help="Label Studio project title."),
) -> None:
    """Start Label Studio, tag sample Arabic news, push it for correction, and print where to log in.

    With no stanza model on the machine and no network, it trains a small model from the bundled UD
    Arabic-PUD sample first. Rerunning reuses everything already done (model, corpus, server, tasks).

    Example: mudawwana demo --workdir mudawwana-demo
    """
    # Imported here: the Label Studio SDK alone takes a second to import, and every command imports this module.
    from mudawwana.annotate.client import connect
    from mudawwana.annotate.push import push_corpus
    from mudawwana.annotate.server import start_label_studio
    from mudawwana.corpus.demo import find_model, train_demo_model, write_demo_text
    from mudawwana.corpus.tag_job import tag_files

    workdir = workdir.absolute()
    workdir.mkdir(parents=True, exist_ok=True)

    console.print("[bold]1/4[/] Label Studio (the very first start creates its database: about a minute)",
                  highlight=False)
    server = start_label_studio(workdir / "label-studio", port=port)

    console.print("[bold]2/4[/] model", highlight=False)
    found = find_model(model_dir, workdir / "models")
    if found is None:
        console.print("No stanza Arabic model on this machine and no network to download one: training a small "
                      "model from the bundled sample first (a few minutes).", highlight=False)
        with progress_bar("Training", unit="stages") as advance:
            found = train_demo_model(workdir / "models",
                                     progress=lambda description, done, total: advance(done, total, description))
    model_dir, note = found
    console.print(note, highlight=False)

    console.print("[bold]3/4[/] tagging sample news", highlight=False)
    text = write_demo_text(workdir / "news.jsonl", documents)
    corpus = workdir / "corpus.conllu"
    with progress_bar("Tagging", unit="documents") as advance:
        report = tag_files([text], corpus, model_dir=model_dir, progress=advance)
    console.print(f"tagged {report.documents} documents, {report.sentences} sentences -> {corpus}",
                  highlight=False)

    console.print("[bold]4/4[/] pushing to Label Studio", highlight=False)
    client = connect(server.url, server.api_key)
    with progress_bar("Pushing", unit="tasks") as advance:
        pushed = push_corpus(client, corpus, project, progress=advance)
    console.print(f"{pushed.imported} new tasks, {pushed.already_present} already there", highlight=False)

    typer.echo(follow_up(server, project, report, workdir, project_id=pushed.project_id))


def follow_up(server, project: str, report, workdir: Path, *, project_id: int | None = None) -> str:
    """What to do next, with commands that run as printed (`mudawwana` may not be on PATH: see command_prefix)."""
    me = command_prefix()
    data = shlex.quote(str(server.data_dir))
    # Label Studio's "Label All Tasks" (the label stream): Submit opens the next task; from a task opened in the
    # Data Manager's list, Submit stays on it (docs/labeling-interface.md).
    stream = (f"{server.url}/projects/{project_id}/data?labeling=1" if project_id is not None
              else f'{server.url}, project "{project}", "Label All Tasks"')
    return (f"""
Annotators can start: open {server.url} and log in
  user:     {server.username}
  password: {server.password}
Project "{project}": {report.sentences} sentences pre-annotated by {report.model_version}.
Annotate them one after the other ("Label All Tasks": Submit opens the next one):
  {stream}
Click a word, then a tag or its key; the panel under the words has its lemma and the segmentation of its
written word (j join, f split off the first letter, l split off a pronoun suffix). Features are a layer of
their own: push to a new project with --layers upos,lemma,seg,feats,ner. Guide: docs/labeling-interface.md.

For the other commands (push, pull, agreement, export), set the environment in your shell:
  eval "$({me} studio --detach --data-dir {data})"
After a round of corrections:
  {me} export --project {shlex.quote(project)} -o {shlex.quote(str(workdir / 'dataset'))}
Stop Label Studio: {me} studio --stop --data-dir {data}""")
