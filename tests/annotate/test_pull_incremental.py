"""Incremental pulls: the previous output is checked by its sha256 (not parsed again), an unchanged pull leaves the
output (and its state file) untouched, a changed one copies the kept sentences as written; every case writes what a
full pull writes, and reports every left-out task. Against a real Label Studio (the session fixture `studio`).
"""

from __future__ import annotations

import copy
import json
import os
import time

import pytest

from mudawwana.annotate.projects import get_project, get_project_brief, list_tasks
from mudawwana.annotate.pull import pull_corpus, state_path_for
from mudawwana.annotate.push import push_corpus
from mudawwana.corpus.conllu_io import read_conllu, write_conllu

from fixtures_models import SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]
LAYERS = ("upos", "lemma")


def sample(n: int):
    out = []
    for s in read_conllu(SAMPLE):
        out.append(s)
        if len(out) == n:
            return out


@pytest.fixture
def project(ls_client, project_title, tmp_path):
    """8 tasks: 6 accepted, one with an annotation that cannot be mapped (left out), one unannotated."""
    sentences = sample(8)
    path = tmp_path / "pushed.conllu"
    write_conllu(sentences, path)
    report = push_corpus(ls_client, path, project_title, layers=LAYERS)
    tasks = {t["meta"]["sent_id"]: t["id"] for t in list_tasks(ls_client, report.project_id, include="id,meta")}
    ids = [tasks[s.sent_id] for s in sentences]
    for tid in ids[:6]:
        ls_client.annotations.create(tid, result=_prediction(ls_client, tid))
    bad = _prediction(ls_client, ids[6])
    next(r for r in bad if r.get("from_name") == "upos")["value"]["labels"] = ["NOUN", "VERB"]  # two tags: unmappable
    ls_client.annotations.create(ids[6], result=bad)
    time.sleep(2.2)  # the watermark stops a second short of the server's clock at the start of a pull
    return ids


def _prediction(client, task_id) -> list[dict]:
    return copy.deepcopy(client.predictions.list(task=task_id)[0].result)


def _stamp(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_an_unchanged_pull_touches_nothing_and_reports_everything(ls_client, project_title, project, tmp_path):
    out = tmp_path / "out.conllu"
    first = pull_corpus(ls_client, project_title, out)
    assert (first.fetched, first.written, first.unannotated, len(first.unmappable)) == (8, 6, 1, 1)
    state = json.loads(state_path_for(out).read_text())
    assert "output_sha256" in state
    before, state_before = _stamp(out), _stamp(state_path_for(out))

    again = pull_corpus(ls_client, project_title, out)
    assert again.incremental and again.fetched == 0 and again.total_written == 6 and again.written == 0
    assert [f.task_id for f in again.left_out] == [project[6]]  # still listed, from the state
    assert _stamp(out) == before and _stamp(state_path_for(out)) == state_before  # neither rewritten

    full = pull_corpus(ls_client, project_title, tmp_path / "full.conllu", full=True)
    assert (tmp_path / "full.conllu").read_bytes() == out.read_bytes()
    assert [f.task_id for f in full.left_out] == [project[6]]


def test_a_changed_pull_writes_what_a_full_pull_writes(ls_client, project_title, project, tmp_path):
    out = tmp_path / "out.conllu"
    pull_corpus(ls_client, project_title, out)
    corrected = _prediction(ls_client, project[2])
    next(r for r in corrected if r.get("from_name") == "upos")["value"]["labels"] = ["X"]
    ls_client.annotations.create(project[2], result=corrected)  # a correction
    ls_client.annotations.create(project[7], result=_prediction(ls_client, project[7]))  # a first annotation
    time.sleep(2.2)

    again = pull_corpus(ls_client, project_title, out)
    assert again.incremental and again.fetched == 2 and again.written == 2 and again.total_written == 7
    assert [f.task_id for f in again.left_out] == [project[6]]
    pull_corpus(ls_client, project_title, tmp_path / "full.conllu", full=True)
    assert out.read_bytes() == (tmp_path / "full.conllu").read_bytes()
    assert [s.words[0].upos for s in read_conllu(out)][2] == "X"
    state = json.loads(state_path_for(out).read_text())
    assert list(state["written"]) == [str(t) for t in project if t != project[6]]  # task order

    third = pull_corpus(ls_client, project_title, out)  # and nothing since
    assert third.fetched == 0 and out.read_bytes() == (tmp_path / "full.conllu").read_bytes()


def test_an_edited_output_makes_a_full_pull(ls_client, project_title, project, tmp_path):
    out = tmp_path / "out.conllu"
    pull_corpus(ls_client, project_title, out)
    pulled = out.read_bytes()
    out.write_bytes(pulled.replace(b"# text = ", b"# text =  ", 1))  # one character more: same sentences, sent_ids
    again = pull_corpus(ls_client, project_title, out)
    assert not again.incremental and again.fetched == 8 and "changed since" in again.full_reason
    assert out.read_bytes() == pulled


def test_a_state_file_without_a_hash_still_makes_an_incremental_pull(ls_client, project_title, project, tmp_path):
    """State files written before the hash was recorded: the output is parsed and compared as before."""
    out = tmp_path / "out.conllu"
    pull_corpus(ls_client, project_title, out)
    pulled = out.read_bytes()
    state = json.loads(state_path_for(out).read_text())
    del state["output_sha256"]
    state_path_for(out).write_text(json.dumps(state), encoding="utf-8")
    ls_client.annotations.create(project[7], result=_prediction(ls_client, project[7]))
    time.sleep(2.2)
    again = pull_corpus(ls_client, project_title, out)
    assert again.incremental and again.fetched == 1 and again.total_written == 7
    pull_corpus(ls_client, project_title, tmp_path / "full.conllu", full=True)
    assert out.read_bytes() == (tmp_path / "full.conllu").read_bytes() != pulled
    assert "output_sha256" in json.loads(state_path_for(out).read_text())


def test_the_brief_project_is_the_project(ls_client, project_title, project):
    brief, full = get_project_brief(ls_client, project_title), get_project(ls_client, project_title)
    assert (brief.id, brief.title, brief.label_config) == (full.id, full.title, full.label_config)
    assert brief.total_annotations_number == full.total_annotations_number == 7
