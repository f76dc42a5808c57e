"""Concurrent pushes (cron jobs, colleagues): one project per title and one task per sentence, whatever the
interleaving (annotate/push.py, "Concurrent pushes"). Real `mudawwana push` processes against the real Label
Studio of the session fixture, and the reconciliation rules one by one on states concurrent pushes leave."""

from __future__ import annotations

import copy
import itertools
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from mudawwana.annotate.client import StudioError
from mudawwana.annotate.config import DEFAULT_LAYERS, build_config
from mudawwana.annotate.projects import find_project, import_tasks, list_tasks, project_description, titled_projects
from mudawwana.annotate.pull import pull_corpus
from mudawwana.annotate.push import push_corpus
from mudawwana.corpus.conllu_io import read_conllu, write_conllu

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]

BIN = Path(sys.executable).parent
SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"

# The CLI's own entry point, in a process whose first "is there a project with this title?" waits, once
# answered, until a common instant: every push has then seen none and creates one, the race the issue saw.
RELEASED_AT = """
import sys, time
import mudawwana.annotate.projects as projects
from mudawwana.cli import main
at = float(sys.argv.pop(1))
first = projects.find_project

def find_project(client, title):
    projects.find_project = first
    found = first(client, title)
    print("barrier:", "late" if time.time() > at else "on time", file=sys.stderr, flush=True)
    time.sleep(max(0.0, at - time.time()))
    return found

projects.find_project = find_project
sys.argv[0] = "mudawwana"
sys.exit(main())
"""


def corpus(tmp_path: Path, n: int, offset: int = 0, name: str = "corpus") -> Path:
    path = tmp_path / f"{name}.conllu"
    write_conllu(list(itertools.islice(read_conllu(SAMPLE), offset, offset + n)), path)
    return path


def cli_env(studio) -> dict:
    return dict(os.environ, LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key, OMP_NUM_THREADS="1")


def wait_all(procs: list[subprocess.Popen]) -> list[str]:
    outs = [proc.communicate(timeout=600)[0] for proc in procs]  # every one, before judging any
    assert [proc.returncode for proc in procs] == [0] * len(procs), "\n----\n".join(outs)
    return outs


def sentence_counts(client, project_id) -> Counter:
    return Counter(t["meta"]["sent_id"] for t in list_tasks(client, project_id, include="id,meta"))


def assert_one_project_one_task_each(client, title, path) -> int:
    projects = titled_projects(client, title)
    assert len(projects) == 1, [(p.id, p.task_number) for p in projects]
    counts = sentence_counts(client, projects[0].id)
    expected = {s.sent_id for s in read_conllu(path)}
    assert set(counts) == expected and set(counts.values()) == {1}, counts.most_common(3)
    return projects[0].id


def then_push_and_pull_run_fine(client, title, path, tmp_path, project_id) -> None:
    again = push_corpus(client, path, title)
    n = sum(1 for _ in read_conllu(path))
    assert (again.project_id, again.imported, again.already_present, again.duplicates_removed) == (project_id, 0, n, 0)
    report = pull_corpus(client, title, tmp_path / "pulled.conllu")
    assert (report.fetched, report.unannotated) == (n, n)


def test_three_mudawwana_push_started_at_once_give_one_project_one_task_per_sentence(studio, ls_client,
                                                                                    project_title, tmp_path):
    path = corpus(tmp_path, 300)
    cmd = [str(BIN / "mudawwana"), "push", str(path), "--project", project_title, "--batch-size", "100"]
    start = time.monotonic()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env(studio))
             for _ in range(3)]
    outs = wait_all(procs)
    print(f"3 pushes of 300 sentences at once: {time.monotonic() - start:.1f} s")
    project_id = assert_one_project_one_task_each(ls_client, project_title, path)
    summaries = [" ".join(out.split()) for out in outs]
    print("\n".join(summaries))
    # at most one says it created the project that stayed (none when a create was made twice: the SDK resends a
    # request whose answer it did not get, and the second project is the one its push then saw lose)
    assert sum(", created;" in summary for summary in summaries) <= 1
    then_push_and_pull_run_fine(ls_client, project_title, path, tmp_path, project_id)


def test_pushes_that_all_created_the_project_end_with_one(studio, ls_client, project_title, tmp_path):
    path = corpus(tmp_path, 150)
    at = time.time() + 12  # every process has asked by then, even on two busy cores
    procs = [subprocess.Popen([sys.executable, "-c", RELEASED_AT, str(at), "push", str(path), "--project",
                               project_title, "--batch-size", "50"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env(studio))
             for _ in range(3)]
    outs = wait_all(procs)
    summaries = [" ".join(out.split()) for out in outs]
    print("\n".join(summaries))
    on_time = sum("barrier: on time" in out for out in outs)
    assert on_time >= 2, outs  # else the race did not happen: a process took over 12 s to start
    removed = [int(n) for summary in summaries for n in re.findall(r"removed (\d+) other projects", summary)]
    # More when a create was made twice (see above), or when two pushes deleted one project at the same moment
    # (both DELETEs can answer 204): the end state is what counts.
    assert sum(removed) >= on_time - 1 and sum(", created;" in summary for summary in summaries) <= 1
    project_id = assert_one_project_one_task_each(ls_client, project_title, path)
    then_push_and_pull_run_fine(ls_client, project_title, path, tmp_path, project_id)


# --- the rules, one by one, on what concurrent pushes leave ------------------------------------------------------

def new_project(client, title, layers=DEFAULT_LAYERS):
    return client.projects.create(title=title, label_config=build_config(layers),
                                  description=project_description(layers))


def test_an_empty_project_a_losing_push_created_is_removed(ls_client, project_title, tmp_path):
    first = push_corpus(ls_client, corpus(tmp_path, 5), project_title)
    loser = new_project(ls_client, project_title)
    assert find_project(ls_client, project_title).id == first.project_id  # the lowest id, for pulls too
    report = push_corpus(ls_client, corpus(tmp_path, 8), project_title)
    assert report.project_id == first.project_id and report.projects_absorbed == [loser.id]
    assert [p.id for p in titled_projects(ls_client, project_title)] == [first.project_id]
    assert sum(sentence_counts(ls_client, first.project_id).values()) == 8


def test_a_lower_id_committed_late_absorbs_what_a_finished_push_put_elsewhere(ls_client, project_title, tmp_path):
    """PostgreSQL can commit a project with a lower id after a higher one: a push that saw only the higher one
    finished there; the next push finds the lower one wins and moves those sentences into it, predictions too."""
    early = new_project(ls_client, f"early-{uuid.uuid4().hex[:8]}")  # the lower id, not yet under the title
    finished = push_corpus(ls_client, corpus(tmp_path, 20, name="first"), project_title)
    assert finished.project_id > early.id
    ls_client.projects.update(early.id, title=project_title)  # now it is
    report = push_corpus(ls_client, corpus(tmp_path, 10, offset=20, name="other"), project_title)
    assert report.project_id == early.id and report.projects_absorbed == [finished.project_id]
    assert [p.id for p in titled_projects(ls_client, project_title)] == [early.id]
    counts = sentence_counts(ls_client, early.id)
    assert len(counts) == 30 and set(counts.values()) == {1}
    moved = list_tasks(ls_client, early.id, include=None, fields="all")
    versions = Counter(p["model_version"] for t in moved for p in t["predictions"])
    assert versions == {finished.project_model_version: 20, report.project_model_version: 10}


def test_duplicate_tasks_go_but_the_lowest_id_and_annotated_ones_stay(ls_client, project_title, tmp_path):
    path = corpus(tmp_path, 6)
    first = push_corpus(ls_client, path, project_title)
    tasks = sorted(list_tasks(ls_client, first.project_id, include=None, fields="all"), key=lambda t: t["id"])
    # what a second push that saw no task yet imports: the same sentences again
    again = [{"data": t["data"], "meta": t["meta"], "predictions": [{"result": p["result"]} for p in t["predictions"]]}
             for t in tasks]
    assert import_tasks(ls_client, first.project_id, again) == 6
    copies = sorted(list_tasks(ls_client, first.project_id, include="id,meta"), key=lambda t: t["id"])[6:]
    ls_client.annotations.create(copies[0]["id"], result=copy.deepcopy(tasks[0]["predictions"][0]["result"]))

    report = push_corpus(ls_client, path, project_title)
    assert report.duplicates_removed == 5 and report.annotated_duplicates == [tasks[0]["data"]["sent_id"]]
    left = {t["id"] for t in list_tasks(ls_client, first.project_id, include="id")}
    assert left == {t["id"] for t in tasks} | {copies[0]["id"]}


def test_a_second_project_with_annotations_is_never_touched(ls_client, project_title, tmp_path):
    path = corpus(tmp_path, 3)
    first = push_corpus(ls_client, path, project_title)
    other = push_corpus(ls_client, corpus(tmp_path, 1, name="one"), f"other-{uuid.uuid4().hex[:8]}")
    ls_client.projects.update(other.project_id, title=project_title)
    ls_client.annotations.create(list_tasks(ls_client, other.project_id, include="id")[0]["id"], result=[])
    ids = f"{first.project_id}, {other.project_id}; with annotations: {other.project_id}"
    with pytest.raises(StudioError, match=rf"2 Label Studio projects are titled '{project_title}' \(ids {ids}\)"):
        push_corpus(ls_client, path, project_title)
    assert len(titled_projects(ls_client, project_title)) == 2
