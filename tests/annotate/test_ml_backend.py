"""`mudawwana serve` as Label Studio's ML backend: a real backend process and a real Label Studio 1.23.

What the issue asks to see, each through Label Studio's own API (docs/ml-backend.md):
- raw Arabic sentences imported with no predictions get ours when Label Studio is asked to retrieve
  predictions, with the backend's model_version, valid for the project's config; their task data is completed
  so pull treats them like pushed tasks;
- annotations submitted through the API reach the backend's webhook; Start Training (`POST /api/ml/ID/train`)
  runs a round; the backend then reports the new version and new predictions carry it;
- a backend killed mid-training restarts on the last complete model;
- the model is loaded once (not per request), the API key and passwords never reach the log, the backend
  listens on 127.0.0.1 and refuses requests without its basic-auth credentials.

Label Studio bans ML backends and webhooks on this machine's addresses by default (SSRF protection): the
session's server shows that refusal; the main test starts its own from the same template with
annotate/ml_backend_connect.py's loopback_env(), as `connect-backend --start-studio` does.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mudawwana.annotate.client import StudioError, connect, get_json, request
from mudawwana.annotate.config import build_config
from mudawwana.annotate.ml_backend import BACKEND_TITLE, StanzaBackend, TrainingSettings, predict_tasks
from mudawwana.annotate.prediction_sentence import carried_conllu
from mudawwana.annotate.ml_backend_connect import (PASSWORD_ENV, backend_health, connect_backend,
                                                   loopback_backends_allowed, start_backend)
from mudawwana.annotate.projects import import_tasks, list_tasks
from mudawwana.annotate.pull import pull_corpus
from mudawwana.annotate.push import push_corpus
from mudawwana.annotate.retrain import load_rounds
from mudawwana.annotate.server import free_port, start_label_studio
from mudawwana.annotate.tasks import display_words, prediction_result, sentence_to_task, validate_task
from mudawwana.corpus.conllu_io import parse_conllu, read_conllu, write_conllu

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"
LAYERS = ("upos", "lemma", "seg", "deps", "ner")
USER, PASSWORD = "label-studio", "backend-pw-5Jq"


@pytest.fixture(scope="module")
def sample():
    return list(read_conllu(SAMPLE))


# --- in-process: the model and the app, no Label Studio ---------------------------------------------------------

@pytest.mark.slow
def test_predictions_are_push_s_and_the_model_loads_once(tiny_model_dir, sample, caplog):
    from starlette.testclient import TestClient

    from mudawwana.annotate.ml_backend_app import create_app

    backend = StanzaBackend(tiny_model_dir)
    config = build_config(LAYERS)
    pushed = [{"id": k, "data": sentence_to_task(s, layers=LAYERS, model_version="x")["data"]}
              for k, s in enumerate(sample[900:904], 1)]
    raw = [{"id": 10 + k, "data": {"text": s.text, "words": ""}} for k, s in enumerate(sample[950:953])]
    written = []
    backend._clients["configured"] = object()  # a stand-in client: writes are recorded, not sent
    import mudawwana.annotate.ml_backend as module
    original, module.write_task = module.write_task, lambda client, *item: written.append(item)
    caplog.set_level(logging.DEBUG)
    try:
        app = TestClient(create_app(backend, basic_auth=(USER, PASSWORD)))
        assert app.get("/health").status_code == 401  # basic auth on every route
        assert app.get("/health", auth=(USER, "wrong")).status_code == 401
        app.auth = (USER, PASSWORD)
        assert app.post("/setup", json={"project": "3.1700000000", "schema": config, "hostname": "http://x",
                                        "access_token": "TOKEN-never-logged"}).json() == {
            "model_version": backend.model_version}
        for _ in range(3):
            answer = app.post("/predict", json={"tasks": pushed + raw, "project": "3.1700000000",
                                                "label_config": config, "params": {"context": None}}).json()
        bad = app.post("/predict", json={"tasks": pushed[:1], "label_config": "<View><Text name='t' value='$t'/>"
                                         "</View>"})
    finally:
        module.write_task = original
    assert bad.status_code == 400 and "not made by `mudawwana push`" in bad.json()["error"]
    health = app.get("/").json()
    assert health["status"] == "UP" and health["model_class"] and health["loads"] == 1  # once, not per request
    assert health["requests"] == 4 and health["model_version"] == backend.model_version
    assert len(answer["results"]) == 7 and answer["model_version"] == backend.model_version
    for task, item in zip(pushed, answer["results"]):  # a pushed task: its own words, tagged again
        assert item["model_version"] == backend.model_version and item["result"]
        assert not validate_task(config, {"data": task["data"], "predictions": [item]})
        # it carries the new sentence (what the config hides is pulled from it): same words, the backend's version
        [carried] = parse_conllu(carried_conllu(item["result"]))
        [stored] = parse_conllu(task["data"]["conllu"])
        assert [w.form for w in carried.words] == [w.form for w in stored.words]
        assert carried.get_meta("model_version") == backend.model_version
    assert len(written) == 9  # every raw task's data, each request
    for (task_id, data, meta), task, item in zip(written[-3:], raw, answer["results"][4:]):
        assert task_id == task["id"] and meta["sent_id"] == data["sent_id"] == f"ls3-task{task_id}"
        assert data["text"] == task["data"]["text"] and data["conllu"] and data["layers"] == list(LAYERS)
        assert not validate_task(config, {"data": data, "predictions": [item]})  # against the completed data
    assert "TOKEN-never-logged" not in caplog.text and PASSWORD not in caplog.text


def test_predict_tasks_without_text_or_conllu_get_an_empty_prediction():
    from mudawwana.annotate.ml_backend import _Loaded

    loaded = _Loaded(raw=None, words=None, model_version="m@1", loaded_at="")
    results, completions = predict_tasks(loaded, [{"id": 1, "data": {"text": "  ", "words": ""}}], LAYERS,
                                         build_config(LAYERS), 1)
    assert results == [{"result": [], "model_version": "m@1"}] and completions == []


@pytest.mark.slow
@pytest.mark.labelstudio
def test_label_studio_s_default_ssrf_protection_refuses_a_local_backend(ls_client, project_title, sample,
                                                                        tmp_path):
    write_conllu(sample[:2], tmp_path / "two.conllu")
    push_corpus(ls_client, tmp_path / "two.conllu", project_title, layers=LAYERS)
    with pytest.raises(StudioError, match="SSRF protection"):
        connect_backend(ls_client, project_title, f"http://127.0.0.1:{free_port()}")


# --- a real backend process and a real Label Studio -------------------------------------------------------------

@pytest.fixture(scope="module")
def loopback_studio(tmp_path_factory):
    from fixtures_studio import studio_template

    with loopback_backends_allowed():
        server = start_label_studio(tmp_path_factory.mktemp("ls-backend") / "data", template_dir=studio_template())
    yield server
    server.stop()


def _retrieve(client, project_id: int, ids: list[int]) -> dict:
    """Label Studio's "Retrieve predictions" (Data Manager action) for these tasks."""
    body = json.dumps({"selectedItems": {"all": False, "included": ids}}).encode()
    return request(client, "POST", "api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                                             "project": project_id},
                   body=body, what="retrieve predictions", timeout=300).json()


def _tasks(client, project_id: int) -> dict[int, dict]:
    return {t["id"]: t for t in list_tasks(client, project_id, include=None, fields="all")}


def _wait(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.labelstudio
def test_predictions_and_training_from_inside_label_studio(loopback_studio, tiny_model_dir, sample, tmp_path):
    studio = loopback_studio
    client = connect(studio.url, studio.api_key)
    title = "ml-backend-loop"
    model_dir = tmp_path / "models" / "news"
    model_dir.parent.mkdir()
    shutil.copytree(tiny_model_dir, model_dir)  # rounds deploy into it: never into the cached fixture
    base = tmp_path / "base.conllu"
    write_conllu(sample[:120], base)
    gold = sample[880:900]
    write_conllu(gold, tmp_path / "pushed.conllu")
    pushed = push_corpus(client, tmp_path / "pushed.conllu", title, layers=LAYERS)
    project_id = pushed.project_id
    raw_sentences = sample[950:960]
    # Raw text imported as an annotator's import would be: no predictions, no CoNLL-U. Label Studio requires every
    # key the config names, so `words` is there, empty (docs/ml-backend.md, "Importing raw text").
    assert import_tasks(client, project_id, [{"data": {"text": s.text, "words": ""}} for s in raw_sentences]) == 10

    port = free_port()
    args = ["--model-dir", str(model_dir), "--base", str(base), "--size", "tiny", "--threads", "1", "--force",
            "--basic-auth-user", USER]
    env = {"LABEL_STUDIO_URL": studio.url, "LABEL_STUDIO_API_KEY": studio.api_key, PASSWORD_ENV: PASSWORD}
    log_file = tmp_path / "backend.log"
    auth = (USER, PASSWORD)
    backend = start_backend(args, port=port, log_file=log_file, env=env, basic_auth=auth)
    try:
        assert backend_health(backend.url) is None  # without credentials: 401
        first = backend_health(backend.url, auth)
        v0 = first["model_version"]
        connection = connect_backend(client, title, backend.url, basic_auth=auth)
        assert connection.state == "Connected" and connection.model_version == v0
        project = client.projects.get(project_id)
        assert project.show_collab_predictions and project.model_version == BACKEND_TITLE  # prelabel: live model
        hooks = get_json(client, "api/webhooks/", {"project": project_id}, what="webhooks")
        assert [h["headers"].get("Authorization", "")[:6] for h in hooks if h["url"] == backend.url + "/webhook"] \
            == ["Basic "]

        # 1. Label Studio retrieves predictions for every task: ours, with the backend's version, valid
        tasks = _tasks(client, project_id)
        started = time.monotonic()
        assert _retrieve(client, project_id, sorted(tasks))["processed_items"] == 30
        retrieve_seconds = time.monotonic() - started
        tasks = _tasks(client, project_id)
        config = build_config(LAYERS)
        raw_ids = sorted(t for t, task in tasks.items() if task["data"].get("sent_id", "").startswith("ls"))
        assert len(raw_ids) == 10
        for task_id, task in tasks.items():
            mine = [p for p in task["predictions"] if p["model_version"] == v0]
            assert len(mine) == 1 and mine[0]["result"], task_id
            assert not validate_task(config, {"data": task["data"], "predictions": [mine[0]]}), task_id
        for task_id, s in zip(raw_ids, raw_sentences):  # completed like a pushed task
            data, meta = tasks[task_id]["data"], tasks[task_id]["meta"]
            assert data["text"] == s.text and data["words"] and data["conllu"].count("\n1\t") == 1
            assert meta == {"sent_id": f"ls{project_id}-task{task_id}", "text_sha1": data["text_sha1"]}
        health = backend_health(backend.url, auth)
        assert health["loads"] == 1 and health["predicted_tasks"] == 30 and health["tasks_completed"] == 10

        # 2. annotations through Label Studio's API reach the webhook; pull maps raw tasks like pushed ones
        by_sent = {t["data"]["sent_id"]: i for i, t in tasks.items()}
        for g in gold[:12]:
            words, spans = display_words(g, root=True)
            client.annotations.create(by_sent[g.sent_id], result=prediction_result(g, LAYERS, words, spans))
        for task_id in raw_ids[:3]:  # the annotator accepts our prediction of a raw sentence
            client.annotations.create(task_id, result=[p for p in tasks[task_id]["predictions"]
                                                       if p["model_version"] == v0][0]["result"])
        assert backend_health(backend.url, auth)["annotations_since_round"] == 15
        pulled = list(read_conllu(_pull(client, title, tmp_path / "pulled.conllu")))
        assert {s.sent_id for s in pulled} >= {f"ls{project_id}-task{t}" for t in raw_ids[:3]}
        assert {s.text for s in pulled} >= {s.text for s in raw_sentences[:3]}

        # 3. Start Training through Label Studio's API: a round runs, the backend serves the new model
        [ml] = get_json(client, "api/ml", {"project": project_id}, what="ML backends")
        request(client, "POST", f"api/ml/{ml['id']}/train", what="start training", body=b"{}", timeout=120)
        done = _wait(lambda: _finished_round(backend.url, auth), 600, "the training round")
        assert done["last"]["status"] == "deployed", done["last"]
        health = backend_health(backend.url, auth)
        v1 = health["model_version"]
        assert v1 != v0 and v1 == done["last"]["model_version"] and health["loads"] == 2
        assert json.loads((model_dir / "manifest.json").read_text())["model_version"] == v1
        assert client.projects.get(project_id).model_version == BACKEND_TITLE  # still asking the backend
        new = sample[960:962]
        import_tasks(client, project_id, [{"data": {"text": s.text, "words": ""}} for s in new])
        fresh = sorted(set(_tasks(client, project_id)) - set(tasks))
        _retrieve(client, project_id, fresh)
        for task_id in fresh:
            task = _tasks(client, project_id)[task_id]
            assert [p["model_version"] for p in task["predictions"]] == [v1]
        unannotated = [t for t in tasks if t not in raw_ids[:3] and t not in {by_sent[g.sent_id] for g in gold[:12]}]
        later = _tasks(client, project_id)
        assert all(v1 in {p["model_version"] for p in later[t]["predictions"]} for t in unannotated)

        # 4. killed mid-training: the backend restarts on the last complete model
        for g in gold[12:14]:
            words, spans = display_words(g, root=True)
            client.annotations.create(by_sent[g.sent_id], result=prediction_result(g, LAYERS, words, spans))
        request(client, "POST", f"api/ml/{ml['id']}/train", what="start training", body=b"{}", timeout=120)
        _wait(lambda: ((backend_health(backend.url, auth) or {}).get("training", {}).get("step") or "")
              .startswith("train"), 120, "the second round's training", interval=0.1)
        os.kill(backend.pid, signal.SIGKILL)
        backend.process.wait(30)
        assert load_rounds(model_dir)["in_progress"]["stage"] == "pulled"  # killed inside training
        backend = start_backend(args, port=port, log_file=log_file, env=env, basic_auth=auth)
        health = backend_health(backend.url, auth)
        assert health["model_version"] == v1 and health["loads"] == 1
        import_tasks(client, project_id, [{"data": {"text": sample[962].text, "words": ""}}])
        [last] = sorted(set(_tasks(client, project_id)) - set(later))
        _retrieve(client, project_id, [last])
        assert [p["model_version"] for p in _tasks(client, project_id)[last]["predictions"]] == [v1]
    finally:
        backend.process.kill()
        backend.process.wait(30)
    log_text = log_file.read_text()
    assert "Uvicorn running on http://127.0.0.1:" in log_text  # loopback only
    assert log_text.count("(load 1)") == 2 and "(load 2)" in log_text  # once per start, once per deployed round
    assert studio.api_key not in log_text and PASSWORD not in log_text  # Label Studio's /setup sends its token
    print(f"retrieve predictions for 30 tasks (10 raw, completed): {retrieve_seconds:.1f} s")


def _pull(client, title: str, out: Path) -> Path:
    pull_corpus(client, title, out, policy="latest")
    return out


def _finished_round(url: str, auth) -> dict | None:
    training = (backend_health(url, auth) or {}).get("training") or {}
    return training if training.get("last") and not training.get("running") else None


@pytest.mark.slow
@pytest.mark.labelstudio
def test_connect_backend_starts_serve_and_registers_it(loopback_studio, tiny_model_dir, sample, tmp_path):
    """The command a project lead types: `connect-backend --model-dir` starts `serve` in the background and
    registers it; Label Studio then gets our predictions from it."""
    client = connect(loopback_studio.url, loopback_studio.api_key)
    write_conllu(sample[:3], tmp_path / "three.conllu")
    project_id = push_corpus(client, tmp_path / "three.conllu", "ml-backend-cli", layers=LAYERS).project_id
    model_dir = tmp_path / "news"
    shutil.copytree(tiny_model_dir, model_dir)
    port = free_port()
    script = Path(sys.executable).parent / "mudawwana"  # the console script users run
    done = subprocess.run([str(script), "connect-backend", "--project", "ml-backend-cli", "--model-dir",
                           str(model_dir), "--port", str(port), "--url", loopback_studio.url, "--api-key",
                           loopback_studio.api_key], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1"})
    pid = next((int(line.split("=")[1]) for line in done.stdout.splitlines()
                if line.startswith("export MUDAWWANA_BACKEND_PID=")), None)
    try:
        assert done.returncode == 0, done.stderr
        # messages on stderr; stdout holds only the `export` lines, for `eval "$(mudawwana connect-backend ...)"`
        assert "registered the ML backend" in done.stderr and f"127.0.0.1:{port}" in done.stderr
        assert done.stdout.splitlines() == [f"export MUDAWWANA_BACKEND_URL=http://127.0.0.1:{port}",
                                            f"export MUDAWWANA_BACKEND_PID={pid}"]
        [ml] = get_json(client, "api/ml", {"project": project_id}, what="ML backends")
        assert ml["url"] == f"http://127.0.0.1:{port}" and ml["state"] == "CO"  # Connected
        version = backend_health(ml["url"])["model_version"]
        tasks = sorted(_tasks(client, project_id))
        assert _retrieve(client, project_id, tasks)["processed_items"] == 3
        assert all(version in {p["model_version"] for p in task["predictions"]}
                   for task in _tasks(client, project_id).values())
        assert loopback_studio.api_key not in done.stdout + done.stderr
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
    log_text = (tmp_path / "news.backend.log").read_text()
    assert loopback_studio.api_key not in log_text
