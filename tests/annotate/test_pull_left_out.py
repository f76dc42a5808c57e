"""No sentence is dropped silently: --partial keeps a partly mappable annotation's corrections
(annotation_status = partial), every pull and export lists every sentence left out (those of earlier incremental
pulls too), the dataset card counts them; and a project of any layer set, the previous version's included, gives
back the pushed corpus when every prediction is accepted, in both clitic conventions.

The first tests need no server (resolve_task on task JSON as the API returns it, the export command on a pulled
file); the others run against a real Label Studio (the session fixture `studio`).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from mudawwana.annotate.config import build_config
from mudawwana.annotate.policies import normalize_task
from mudawwana.annotate.pull import PullReport, pull_corpus, resolve_task, state_path_for
from mudawwana.annotate.tasks import sentence_to_task
from mudawwana.corpus.clitics import to_multiword_tokens
from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.corpus.data_model import META_STATUS

from fixtures_models import SAMPLE

FEATS_DEPS = ("upos", "lemma", "seg", "feats", "deps", "ner")


def sample(n: int, start: int = 0):
    out = []
    for i, s in enumerate(read_conllu(SAMPLE)):
        if i >= start:
            out.append(s)
        if len(out) == n:
            return out


def raw_task(sentence, result, layers=FEATS_DEPS, task_id=7) -> dict:
    task = sentence_to_task(sentence, layers=layers, model_version="m@1")
    return {"id": task_id, "data": task["data"], "updated_at": "2026-01-01T00:00:00.000000Z",
            "annotations": [{"id": 70, "completed_by": 1, "result": result, "was_cancelled": False}]}


def one_good_one_bad_correction(sentence, layers=FEATS_DEPS):
    """The first word's UPOS corrected to X (mappable), the second given two labels (not mappable)."""
    result = copy.deepcopy(sentence_to_task(sentence, layers=layers, model_version="m@1")["predictions"][0]["result"])
    words = [r for r in result if r.get("from_name") == "upos"]
    words[0]["value"]["labels"] = ["X"]
    words[1]["value"]["labels"] = ["NOUN", "VERB"]
    return result


# --- without a server ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("partial", [False, True])
def test_partial_keeps_the_mappable_corrections(partial):
    [sentence] = sample(1)
    task = normalize_task(raw_task(sentence, one_good_one_bad_correction(sentence)))
    report = PullReport(1, "p", "latest", FEATS_DEPS, "out.conllu", partial=partial)
    outcome = resolve_task(task, policy="latest", layers=FEATS_DEPS, project_id=1, report=report)
    [failure] = report.unmappable
    assert "two labels on one word" in failure.reason and failure.used
    if not partial:
        assert outcome.kind == "unmappable" and outcome.sentence is None
        assert report.left_out == [failure] and report.partial_sentences == []
        return
    assert outcome.kind == "written" and outcome.status == "partial" and failure.partial
    assert report.left_out == [] and report.partial_sentences == [failure]
    got = outcome.sentence
    assert got.get_meta(META_STATUS) == "partial"
    assert got.words[0].upos == "X"  # the correction that could be mapped
    assert got.words[1].upos == sentence.words[1].upos  # the one that could not keeps its predicted value


def test_export_of_a_pulled_file_lists_and_counts_what_was_left_out(tmp_path):
    """`mudawwana export FILE` after `mudawwana pull -o FILE`: the pull's state lists the left-out sentences."""
    from typer.testing import CliRunner

    from mudawwana.cli import app

    corpus = tmp_path / "corrected.conllu"
    write_conllu(sample(12), corpus)
    failure = {"task_id": 41, "sent_id": "n99", "annotation_id": 9, "annotator": "a1b2", "reason": "two labels",
               "used": True, "partial": False}
    state_path_for(corpus).write_text(json.dumps({"format": 1, "unmappable": [
        failure, {**failure, "task_id": 42, "partial": True}, {**failure, "task_id": 43, "used": False}]}))
    run = CliRunner().invoke(app, ["export", str(corpus), "-o", str(tmp_path / "out")], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert "left out task 41 (n99)" in " ".join(run.output.split())
    assert "task 42" not in run.output and "task 43" not in run.output  # written (partial); not used by the policy
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "Left out: 1 annotated sentences whose annotations could not be mapped back" in card
    run = CliRunner().invoke(app, ["export", str(corpus), "-o", str(tmp_path / "out2")], catch_exceptions=False)
    assert "left out task 41 (n99)" in " ".join(run.output.split())  # every export, not only the first
    state_path_for(corpus).unlink()
    CliRunner().invoke(app, ["export", str(corpus), "-o", str(tmp_path / "out3")], catch_exceptions=False)
    assert "Left out" not in (tmp_path / "out3" / "README.md").read_text(encoding="utf-8")  # not from a pull


# --- against a real Label Studio ------------------------------------------------------------------------------

def _push_tasks(client, title, sentences, layers, config=None):
    """A project with these sentences as tasks, as push makes them (config: the project's, default ours)."""
    project = client.projects.create(title=title, label_config=config or build_config(layers))
    tasks = [sentence_to_task(s, layers=layers, model_version="m@1") for s in sentences]
    for t, s in zip(tasks, sentences):
        t["meta"] = {"sent_id": s.sent_id}
    client.projects.import_tasks(id=project.id, request=tasks)
    ids = {t.meta["sent_id"]: t.id for t in client.tasks.list(project=project.id)}
    return project.id, ids


def _accept(client, task_id, result=None):
    if result is None:
        result = copy.deepcopy(client.predictions.list(task=task_id)[0].result)
    client.annotations.create(task_id, result=result)


def _without_added_meta(path: Path) -> str:
    return "".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                   if not line.startswith(("# annotation_status =", "# annotators =", "# agreement =")))


@pytest.mark.slow
@pytest.mark.labelstudio
@pytest.mark.parametrize("clitics", ["tokens", "mwt"])
def test_accepting_everything_with_feats_and_deps_gives_back_the_pushed_corpus(ls_client, project_title, tmp_path,
                                                                               clitics):
    """PUD writes its clitics as glued tokens; converted, as multi-word tokens: both come back byte for byte."""
    sentences = sample(12)
    if clitics == "mwt":
        sentences = [to_multiword_tokens(s) for s in sentences]
        assert sum(t.is_multiword for s in sentences for t in s.tokens) > 10
    pushed = tmp_path / "pushed.conllu"
    write_conllu(sentences, pushed)
    _, ids = _push_tasks(ls_client, project_title, sentences, FEATS_DEPS)
    for tid in ids.values():
        _accept(ls_client, tid)
    out = tmp_path / "pulled.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert (report.written, report.left_out, report.layers) == (12, [], FEATS_DEPS)
    assert _without_added_meta(out) == pushed.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.labelstudio
def test_a_project_of_the_previous_version_still_pulls(ls_client, project_title, tmp_path):
    """Its config has the seg layer without the word panel's controls (build_config(legacy=True))."""
    sentences = sample(4)
    layers = ("upos", "lemma", "seg", "ner")
    pushed = tmp_path / "pushed.conllu"
    write_conllu(sentences, pushed)
    _, ids = _push_tasks(ls_client, project_title, sentences, layers, config=build_config(layers, legacy=True))
    for tid in ids.values():
        _accept(ls_client, tid)
    out = tmp_path / "pulled.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert report.layers == layers and report.written == 4 and report.left_out == []
    assert _without_added_meta(out) == pushed.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.labelstudio
def test_left_out_sentences_are_listed_by_every_pull_and_partial_keeps_them(ls_client, studio, project_title,
                                                                          tmp_path):
    sentences = sample(3)
    _, ids = _push_tasks(ls_client, project_title, sentences, FEATS_DEPS)
    bad = sentences[1]
    _accept(ls_client, ids[sentences[0].sent_id])
    _accept(ls_client, ids[sentences[2].sent_id])
    _accept(ls_client, ids[bad.sent_id], one_good_one_bad_correction(bad))
    time.sleep(2.2)  # the watermark stops a second short of the server's clock at the start of a pull
    out = tmp_path / "out.conllu"

    first = pull_corpus(ls_client, project_title, out)
    assert [f.task_id for f in first.left_out] == [ids[bad.sent_id]] and first.total_written == 2
    second = pull_corpus(ls_client, project_title, out)  # incremental, nothing changed: still listed
    assert second.incremental and second.fetched == 0
    assert [f.task_id for f in second.left_out] == [ids[bad.sent_id]] and second.carried == second.left_out

    import subprocess
    import sys
    cmd = [sys.executable, "-m", "mudawwana", "pull", "--project", project_title, "-o", str(out),
           "--url", studio.url, "--api-key", studio.api_key]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    said = " ".join((run.stdout + run.stderr).split())
    assert f"left out task {ids[bad.sent_id]} ({bad.sent_id})" in said and "1 left out" in said
    assert "an earlier pull's" in said

    third = pull_corpus(ls_client, project_title, out, partial=True)  # --partial changes the mapping: a full pull
    assert not third.incremental and "--partial" in third.full_reason
    assert third.left_out == [] and [f.task_id for f in third.partial_sentences] == [ids[bad.sent_id]]
    pulled = {s.sent_id: s for s in read_conllu(out)}
    assert len(pulled) == 3 and pulled[bad.sent_id].get_meta(META_STATUS) == "partial"
    assert pulled[bad.sent_id].words[0].upos == "X"
    fourth = pull_corpus(ls_client, project_title, out, partial=True)
    assert fourth.incremental and [f.task_id for f in fourth.partial_sentences] == [ids[bad.sent_id]]
