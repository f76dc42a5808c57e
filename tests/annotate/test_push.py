"""`push_corpus` / `mudawwana push` against a real Label Studio (the session fixture `studio`)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mudawwana.annotate.push import batch_sizes, existing_keys, push_corpus
from mudawwana.annotate.projects import find_project, get_project, layers_from_config, list_tasks, project_layers
from mudawwana.annotate.config import LAYERS, build_config
from mudawwana.annotate.server import free_port
from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.data_model import META_MODEL_VERSION

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"

def server_test(fn):
    """Talks to the real Label Studio of the session fixture."""
    return pytest.mark.slow(pytest.mark.labelstudio(fn))


def sample_sentences(n: int, offset: int = 0):
    out = []
    for s in read_conllu(SAMPLE):
        if offset:
            offset -= 1
            continue
        out.append(s)
        if len(out) == n:
            return out
    return out


@pytest.fixture
def corpus20(tmp_path) -> Path:
    path = tmp_path / "sample20.conllu"
    write_conllu(sample_sentences(20), path)
    return path


def task_keys(client, project_id):
    return Counter(t["meta"]["sent_id"] for t in _all_meta(client, project_id))


def _all_meta(client, project_id):
    return list_tasks(client, project_id, include="id,meta")


@server_test
def test_push_twice_gives_one_task_per_sentence(ls_client, project_title, corpus20):
    seen = []
    report = push_corpus(ls_client, corpus20, project_title, layers=("upos", "lemma", "seg", "ner"),
                         batch_size=8, progress=lambda done, total: seen.append((done, total)))
    assert report.created and report.imported == 20 and report.batches == 3 and not report.invalid
    assert seen[0] == (0, 20) and seen[-1] == (20, 20)
    project = get_project(ls_client, project_title)
    assert project_layers(ls_client, project) == ("upos", "lemma", "seg", "ner")
    keys = task_keys(ls_client, report.project_id)
    assert len(keys) == 20 and set(keys.values()) == {1}

    # the predictions carry the file's model version, and the project shows them in the labeling stream
    version = report.project_model_version
    assert version.startswith("sample20@") and report.model_versions == {version: 20}
    assert ls_client.projects.get(report.project_id).model_version == version
    task = ls_client.tasks.get(min(t["id"] for t in _all_meta(ls_client, report.project_id)))
    assert task.data["sent_id"] == "n01001011"
    assert [p.model_version for p in ls_client.predictions.list(task=task.id)] == [version]

    again = push_corpus(ls_client, corpus20, project_title, layers=None)
    assert not again.created and again.imported == 0 and again.already_present == 20 and not again.changed
    assert sum(task_keys(ls_client, report.project_id).values()) == 20


@server_test
def test_changed_text_is_reported_not_duplicated(ls_client, project_title, corpus20, tmp_path):
    push_corpus(ls_client, corpus20, project_title, layers=("upos", "ner"))
    sentences = list(read_conllu(corpus20))
    old_text = sentences[3].text
    sentences[3].text = old_text.replace(" ", "  ", 1)
    changed = tmp_path / "changed.conllu"
    write_conllu(sentences, changed)
    report = push_corpus(ls_client, changed, project_title, layers=None)
    assert report.imported == 0 and report.already_present == 19
    assert [(c.sent_id, c.old_text, c.new_text) for c in report.changed] == [
        (sentences[3].sent_id, old_text, sentences[3].text)]
    assert sum(task_keys(ls_client, report.project_id).values()) == 20


@server_test
def test_sentence_model_version_comment_wins(ls_client, project_title, tmp_path):
    sentences = sample_sentences(3)
    for s in sentences:
        s.set_meta(META_MODEL_VERSION, "ar-tiny@abc123")
    path = tmp_path / "versioned.conllu"
    write_conllu(sentences, path)
    report = push_corpus(ls_client, path, project_title)
    assert report.model_versions == {"ar-tiny@abc123": 3}
    assert ls_client.projects.get(report.project_id).model_version == "ar-tiny@abc123"


@server_test
def test_invalid_prediction_is_reported_with_its_sent_id(ls_client, project_title, tmp_path):
    sentences = sample_sentences(5)
    sentences[2].words[1].upos = "NOUNISH"  # not a UPOS tag: the prediction's label is not in the config
    sentences[4].set_meta("sent_id", None)  # no key: cannot be pushed idempotently
    path = tmp_path / "bad.conllu"
    write_conllu(sentences, path)
    report = push_corpus(ls_client, path, project_title)
    assert report.imported == 3
    assert [(i.sent_id, i.index) for i in report.invalid] == [(sentences[2].sent_id, 3), (None, 5)]
    assert any("NOUNISH" in e for e in report.invalid[0].errors), report.invalid[0].errors
    assert sentences[2].sent_id not in task_keys(ls_client, report.project_id)


@server_test
def test_reusing_a_project_with_other_layers_is_refused(ls_client, project_title, corpus20):
    push_corpus(ls_client, corpus20, project_title, layers=("upos",))
    with pytest.raises(InputError, match="has the layers upos"):
        push_corpus(ls_client, corpus20, project_title, layers=("upos", "deps"))


def test_batch_sizes_ramp_up_then_stay():
    assert batch_sizes(5000, 1000) == [125, 250, 500, 1000, 1000, 1000, 1000, 125]
    assert batch_sizes(20, 8) == [8, 8, 4]
    assert batch_sizes(100, 2)[:2] == [2, 2] and sum(batch_sizes(100, 2)) == 100
    assert batch_sizes(0, 1000) == []


def test_layers_are_derived_from_the_config_when_not_recorded():
    assert layers_from_config(build_config(("lemma", "deps", "ner"))) == ("lemma", "deps", "ner")
    assert layers_from_config("<View></View>") is None


def test_layers_are_read_from_the_controls_of_the_config():
    combinations = [c for n in range(1, len(LAYERS) + 1) for c in itertools.combinations(LAYERS, n)]
    for layers in combinations:
        assert layers_from_config(build_config(layers)) == layers
    # edited in the web UI where no control changes (a style): still the project's layers
    restyled = build_config(("upos", "seg", "ner")).replace("font-size: 22px", "font-size: 30px")
    assert restyled != build_config(("upos", "seg", "ner"))
    assert layers_from_config(restyled) == ("upos", "seg", "ner")
    # one control more than ours: a hand-made config, not something push can fill
    extra = build_config(("ner",)).replace("</View>", '<Choices name="topic" toName="text">'
                                           '<Choice value="sport"/></Choices></View>', 1)
    assert layers_from_config(extra) is None
    assert layers_from_config("not xml") is None


def test_a_missing_corpus_fails_before_any_server_is_asked(tmp_path):
    """No server listens at `dead`: had the command asked one, the error would say Label Studio is not running."""
    from label_studio_sdk.client import LabelStudio
    from typer.testing import CliRunner

    from mudawwana.cli import app

    missing, dead = tmp_path / "missing.conllu", f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["push", str(missing), "--project", "missing-file", "--url", dead,
                                      "--api-key", "0123456789abcdef" * 2])
    errors = [line for line in result.output.splitlines() if "error:" in line]
    assert result.exit_code == 1 and len(errors) == 1 and "missing.conllu" in errors[0], result.output
    assert "not running" not in result.output and "Traceback" not in result.output
    with pytest.raises(InputError, match="missing.conllu: no such file"):
        push_corpus(LabelStudio(base_url=dead, api_key="0123456789abcdef" * 2), missing, "missing-file")


@server_test
def test_killed_push_rerun_leaves_one_task_per_sentence(ls_client, studio, project_title, tmp_path):
    n = 120
    path = tmp_path / "many.conllu"
    write_conllu(sample_sentences(n), path)
    # The installed command, run outside the checkout, as users run it.
    cmd = [str(Path(sys.executable).with_name("mudawwana")), "push", str(path), "--project", project_title,
           "--batch-size", "2", "--url", studio.url, "--api-key", studio.api_key]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    count = 0
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            project = _find(ls_client, project_title)
            if project is not None:
                count = sum(task_keys(ls_client, project.id).values())
                if count >= 2:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, f"push ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    project = get_project(ls_client, project_title)
    killed_at = task_keys(ls_client, project.id)
    assert 2 <= sum(killed_at.values()) < n and set(killed_at.values()) == {1}
    assert sum(killed_at.values()) % 2 == 0  # whole batches only

    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    keys = task_keys(ls_client, project.id)
    assert len(keys) == n and set(keys.values()) == {1}
    assert f"{n - sum(killed_at.values())} tasks imported" in rerun.stderr.replace("\n", " ")


def _find(client, title):
    return find_project(client, title)


@server_test
def test_existing_keys_reads_meta_only(ls_client, project_title, corpus20):
    report = push_corpus(ls_client, corpus20, project_title)
    keys = existing_keys(ls_client, report.project_id)
    assert len(keys) == 20
    sha = {s.sent_id: s for s in read_conllu(corpus20)}
    from mudawwana.annotate.tasks import text_sha1
    assert all(keys[sid][1] == text_sha1(s.text) for sid, s in sha.items())
