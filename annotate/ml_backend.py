"""The stanza model behind `mudawwana serve`: predictions for Label Studio's ML backend protocol, and training.

Label Studio's side of the protocol, as the 1.23 server really speaks it, is in docs/ml-backend.md; the HTTP app
around this module is annotate/ml_backend_app.py, the registration with a project annotate/ml_backend_connect.py.

`StanzaBackend` holds one model directory's two stanza pipelines (raw text: tokenize, mwt, pos, lemma,
depparse; given words: pos, lemma, depparse), loaded ONCE when the backend starts and again only when a
training round deployed a new model (`loads` counts them). They are swapped as one object, so a request tags
every task of its batch with one model and reports that model's version.

Predicting (`predict`), for the labeling config Label Studio sends (its layers are read from the config's
controls, annotate/projects.py layers_from_config):
- a task made by `mudawwana push` (or completed earlier by this backend) has the sentence's CoNLL-U: it is
  tagged again from its words (tokens and words kept, as `retrain` re-predicts), and the prediction is built
  by push's own code (annotate/tasks.py sentence_to_task) and checked against the config (validate_task); the
  new sentence travels in the prediction (annotate/prediction_sentence.py), the task's data is not written;
- a task holding only raw text (`text`, imported in Label Studio) is normalized, tokenized and tagged as
  `mudawwana tag` does (corpus/from_stanza.py tag_raw_documents; one task is one sentence: stanza's sentence
  splitter is off), checked by the UD validator, and its task data is COMPLETED to what push would have sent
  (words view, word spans, CoNLL-U, hashes, layers; sent_id and text hash in `meta`), so pull, retrain and
  export treat it like a pushed one. Label Studio keeps only `result`, `score` and `model_version` of a
  prediction (ml/models.py `_get_predictions_from_ml_backend`), so the data is written through the API (one
  PATCH per task: there is no bulk update), before the answer while the request has time, after it (a
  background writer) when it would run past Label Studio's predict timeout.

Training (`start_training`): annotate/retrain.py's `retrain()` round, in a background thread, one at a time (a
request while one runs is remembered and runs after it). MODEL_DIR is swapped in whole by the round only when
complete (retrain's staged install), so a backend killed at any moment restarts on the last complete model,
and the next round continues the killed one from its last finished step.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from mudawwana.corpus.errors import InputError, MudawwanaError

log = logging.getLogger(__name__)

MODEL_CLASS = "MudawwanaStanza"
BACKEND_TITLE = "mudawwana-stanza"  # the ML backend's title in Label Studio (connect-backend registers it so)
# Label Studio's predict timeout (ml/api_connector.py TIMEOUT_PREDICT, env ML_TIMEOUT_PREDICT, default 100 s): one
# /predict request carries EVERY task Label Studio asks about at once (docs/ml-backend.md). Task data is written
# before the answer only while the request is younger than this share of it; the rest goes to the writer.
PREDICT_TIMEOUT = 100.0
SYNC_WRITE_SHARE = 0.6
RAW_TEXT_KEY = "text"  # the config's `$text`: where a task imported in Label Studio holds its sentence


class BackendError(MudawwanaError):
    """The backend cannot serve a request (a labeling config that is not ours, no model, no way to the server)."""


@dataclass(frozen=True)
class TrainingSettings:
    """How `retrain` rounds run (annotate/retrain.py's options). base None: training is off."""

    base: Path | None = None
    size: str = "small"
    min_new: int = 1
    force: bool = False
    policy: str = "latest"
    max_steps: int | None = None
    threads: int | None = None
    every: int = 0  # start a round after this many new annotations (0: only on START_TRAINING)


@dataclass
class _Loaded:
    raw: object  # stanza Pipeline for raw text
    words: object  # stanza Pipeline for given words (pretokenized)
    model_version: str
    loaded_at: str


@dataclass
class _Training:
    running: bool = False
    again: bool = False  # a request came while a round ran: one more round after it
    project_id: int | None = None
    step: str | None = None
    started_at: str | None = None
    last: dict | None = None  # the last round: status, message, model_version, seconds
    rounds_started: int = 0
    thread: threading.Thread | None = field(default=None, repr=False)


class StanzaBackend:
    """One model directory served to Label Studio; see the module docstring."""

    def __init__(self, model_dir: str | Path, *, device: str = "cpu", url: str | None = None,
                 api_key: str | None = None, training: TrainingSettings | None = None,
                 predict_timeout: float = PREDICT_TIMEOUT, client_factory: Callable | None = None):
        self.model_dir = Path(model_dir)
        self.device = device
        self.training = training or TrainingSettings()
        self.predict_timeout = predict_timeout
        self._url, self._api_key = url, api_key
        self._client_factory = client_factory  # tests
        self._clients: dict = {}
        self._servers: dict[int, tuple[str, str]] = {}  # project id -> (hostname, access token) from /setup
        self._predict_lock = threading.Lock()  # one tagging at a time: one worker, one model in memory
        self._state_lock = threading.Lock()
        self._train = _Training()
        self.annotations_since_round = 0
        self.loads = 0
        self.requests = 0
        self.predicted_tasks = 0
        self.tasks_completed = 0
        self._writer: queue.Queue | None = None
        if not (self.model_dir / "manifest.json").is_file() and not self.model_dir.is_dir():
            raise InputError(f"{self.model_dir}: no such model directory; train one with `mudawwana train "
                             f"CORPUS.conllu -o {self.model_dir}`")
        self._loaded = self._load()

    # --- the model ---------------------------------------------------------------------------------------------

    def _load(self) -> _Loaded:
        from mudawwana.corpus.stanza_models import load_pipeline

        started = time.monotonic()
        # One task is one sentence: the annotator's unit. tokenize_no_ssplit keeps a task's text in one sentence.
        raw, info = load_pipeline(self.model_dir, device=self.device, tokenize_no_ssplit=True)
        words, _ = load_pipeline(self.model_dir, device=self.device, pretokenized=True)
        self.loads += 1
        log.info("loaded %s from %s in %.1f s (load %d)", info.model_version, self.model_dir,
                 time.monotonic() - started, self.loads)
        return _Loaded(raw, words, info.model_version, _now())

    def reload(self) -> str:
        """Load MODEL_DIR again (after a round deployed a new model) and swap it in as one object."""
        loaded = self._load()
        self._loaded = loaded  # one assignment: a request holds either the old model or the new one
        return loaded.model_version

    @property
    def model_version(self) -> str:
        return self._loaded.model_version

    # --- protocol endpoints (called by annotate/ml_backend_app.py) ----------------------------------------------

    def health(self) -> dict:
        t = self._train
        return {"status": "UP", "model_class": MODEL_CLASS, "model_version": self.model_version,
                "model_dir": str(self.model_dir), "loaded_at": self._loaded.loaded_at, "loads": self.loads,
                "requests": self.requests, "predicted_tasks": self.predicted_tasks,
                "tasks_completed": self.tasks_completed, "pending_writes": self.pending_writes(),
                "annotations_since_round": self.annotations_since_round,
                "training": {"enabled": self.training.base is not None, "running": t.running,
                             "project": t.project_id, "step": t.step, "started_at": t.started_at,
                             "queued": t.again, "rounds_started": t.rounds_started, "last": t.last,
                             "every": self.training.every}}

    def setup(self, body: dict) -> dict:
        """Remember where the project's server is and its token (Label Studio sends both), answer the version."""
        project_id = _project_id(body.get("project"))
        hostname, token = body.get("hostname"), body.get("access_token")
        if project_id is not None and hostname and token:
            self._servers[project_id] = (str(hostname).rstrip("/"), str(token))
        return {"model_version": self.model_version}

    def predict(self, body: dict) -> dict:
        """The answer to POST /predict: one item per task, in the order of the request."""
        from mudawwana.annotate.projects import layers_from_config

        started = time.monotonic()
        self.requests += 1
        tasks = body.get("tasks") or []
        config = body.get("label_config") or ""
        layers = layers_from_config(config)
        if layers is None:
            raise BackendError("the project's labeling config was not made by `mudawwana push` (its controls are "
                               "not ours): this backend predicts only for mudawwana projects")
        project_id = _project_id(body.get("project"))
        loaded = self._loaded
        with self._predict_lock:
            results, completions = predict_tasks(loaded, tasks, layers, config, project_id)
        self.predicted_tasks += len(tasks)
        if completions:
            self._complete(project_id, completions, deadline=started + self.predict_timeout * SYNC_WRITE_SHARE)
        log.info("predicted %d tasks (%d raw) with %s in %.2f s", len(tasks), len(completions),
                 loaded.model_version, time.monotonic() - started)
        return {"results": results, "model_version": loaded.model_version}

    def webhook(self, body: dict) -> dict:
        """Label Studio's webhooks: annotations are counted, START_TRAINING (and every N new annotations, when
        enabled) starts a round."""
        action = body.get("action")
        project_id = _project_id((body.get("project") or {}).get("id") if isinstance(body.get("project"), dict)
                                 else body.get("project"))
        if project_id is None and isinstance(body.get("task"), dict):
            project_id = _project_id(body["task"].get("project"))
        if action in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"):
            self.annotations_since_round += 1
            every = self.training.every
            if every and self.annotations_since_round >= every and project_id is not None:
                return {"action": action, **self.start_training(project_id, reason=f"{every} new annotations")}
            return {"action": action, "annotations_since_round": self.annotations_since_round}
        if action == "START_TRAINING":
            if project_id is None:
                raise BackendError("START_TRAINING without a project")
            return {"action": action, **self.start_training(project_id, reason="START_TRAINING")}
        return {"action": action, "status": "ignored"}

    # --- completing raw-text tasks -------------------------------------------------------------------------------

    def _complete(self, project_id, completions: list[tuple[int, dict, dict]], deadline: float) -> None:
        """Write the data of tasks that held only raw text: now while the request has time, the rest afterwards."""
        client = self.client_for(project_id)
        for k, (task_id, data, meta) in enumerate(completions):
            if time.monotonic() > deadline:
                rest = completions[k:]
                log.info("%d task data writes left to the background writer (the request is %.0f%% of Label "
                         "Studio's predict timeout old)", len(rest), 100 * SYNC_WRITE_SHARE)
                for item in rest:
                    self._writer_queue().put((client, *item))
                return
            self._write(client, task_id, data, meta)

    def _write(self, client, task_id: int, data: dict, meta: dict) -> None:
        from mudawwana.annotate.client import StudioError

        try:
            write_task(client, task_id, data, meta)
            self.tasks_completed += 1
        except StudioError as e:  # the prediction is stored anyway; a later predict completes it again
            log.warning("task %s: its data could not be completed: %s", task_id, e)

    def _writer_queue(self) -> queue.Queue:
        with self._state_lock:
            if self._writer is None:
                self._writer = queue.Queue()
                threading.Thread(target=self._drain, name="task-writer", daemon=True).start()
        return self._writer

    def _drain(self) -> None:
        while True:
            client, task_id, data, meta = self._writer.get()
            try:
                self._write(client, task_id, data, meta)
            finally:
                self._writer.task_done()

    def pending_writes(self) -> int:
        return 0 if self._writer is None else self._writer.unfinished_tasks

    def wait_for_writes(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while self.pending_writes() and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.pending_writes()

    # --- the way to Label Studio ---------------------------------------------------------------------------------

    def client_for(self, project_id: int | None):
        """A client for the project's server: --url/--api-key (or $LABEL_STUDIO_URL/_API_KEY, or the local
        `mudawwana studio`), else the hostname and token Label Studio sent to /setup."""
        from mudawwana.annotate.client import StudioError, connect

        key = "configured"
        if key not in self._clients:
            try:
                self._clients[key] = (self._client_factory or connect)(self._url, self._api_key)
            except StudioError as e:
                if project_id not in self._servers:
                    raise BackendError(f"no way to write to Label Studio: {e}; or let Label Studio call /setup "
                                       "first (it sends its address and a token)") from None
                self._clients[key] = None
        if self._clients[key] is not None:
            return self._clients[key]
        hostname, token = self._servers[project_id]
        if (hostname, token) not in self._clients:
            self._clients[(hostname, token)] = (self._client_factory or connect)(hostname, token)
        return self._clients[(hostname, token)]

    # --- training ------------------------------------------------------------------------------------------------

    def start_training(self, project_id: int, *, reason: str) -> dict:
        """Start a round in the background unless one runs (then one more runs after it)."""
        if self.training.base is None:
            return {"status": "training is off", "detail": "start `mudawwana serve` with --base BASE.conllu to "
                    "train on the corrections"}
        with self._state_lock:
            t = self._train
            if t.running:
                t.again = True
                return {"status": "queued", "detail": "a round is running; one more runs after it"}
            t.running, t.again, t.project_id = True, False, project_id
            t.step, t.started_at = "starting", _now()
            t.rounds_started += 1
            self.annotations_since_round = 0
            t.thread = threading.Thread(target=self._rounds, args=(project_id, reason), name="retrain",
                                        daemon=True)
            t.thread.start()
        return {"status": "started", "round_reason": reason}

    def _rounds(self, project_id: int, reason: str) -> None:
        while True:
            self._run_round(project_id, reason)
            with self._state_lock:
                t = self._train
                if not t.again:
                    t.running, t.step = False, None
                    return
                t.again, t.step, t.started_at = False, "starting", _now()
                t.rounds_started += 1
                self.annotations_since_round = 0
                reason = "requested while the previous round ran"

    def _run_round(self, project_id: int, reason: str) -> None:
        from mudawwana.annotate.retrain import retrain

        started = time.monotonic()
        settings = self.training
        outcome: dict = {"reason": reason, "project": project_id, "started_at": self._train.started_at}
        try:
            client = self.client_for(project_id)
            title, live = _project_title_and_live_mode(client, project_id)
            log.info("round for project %r started (%s)", title, reason)
            result = retrain(client, title, settings.base, self.model_dir, size=settings.size,
                             min_new=settings.min_new, force=settings.force, policy=settings.policy,
                             max_steps=settings.max_steps, threads=settings.threads, device=self.device,
                             progress=self._progress)
            outcome.update(status=result.status, message=result.message, round=result.round)
            if result.status == "deployed":
                self._train.step = "loading the new model"
                outcome["model_version"] = self.reload()
                if live:  # retrain showed its version's predictions; keep Label Studio asking this backend
                    from mudawwana.annotate.projects import set_model_version
                    set_model_version(client, project_id, live)
            log.info("round for project %r: %s", title, result.message)
        except MudawwanaError as e:
            outcome.update(status="failed", message=str(e))
            log.error("round for project %s failed: %s", project_id, e)
        except Exception as e:  # noqa: BLE001 - a bug must not kill the thread silently: it is reported
            outcome.update(status="failed", message=f"{type(e).__name__}: {e}")
            log.exception("round for project %s failed", project_id)
        outcome["seconds"] = round(time.monotonic() - started, 1)
        outcome["finished_at"] = _now()
        self._train.last = outcome

    def _progress(self, description: str, done: int, total: int) -> None:
        self._train.step = description

    def wait_for_training(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._train.running and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self._train.running


# --- predicting: tasks -> results (no HTTP here) ---------------------------------------------------------------------

def predict_tasks(loaded: _Loaded, tasks: list[dict], layers: tuple[str, ...], config: str,
                  project_id: int | None) -> tuple[list[dict], list[tuple[int, dict, dict]]]:
    """(one result per task in order, the (task id, data, meta) of raw-text tasks to complete)."""
    from mudawwana.annotate.prediction_sentence import with_sentence
    from mudawwana.annotate.tasks import sentence_to_task, validate_task

    version = loaded.model_version
    results: list[dict] = [{"result": [], "model_version": version} for _ in tasks]
    completions: list[tuple[int, dict, dict]] = []
    pushed, raw = [], []
    for i, t in enumerate(tasks):
        data = t.get("data") or {}
        if data.get("conllu"):
            pushed.append(i)
        elif isinstance(data.get(RAW_TEXT_KEY), str) and data[RAW_TEXT_KEY].strip():
            raw.append(i)
        else:
            log.warning("task %s: neither CoNLL-U nor text: no prediction", t.get("id"))
    for i, sentence in zip(pushed, _retag(loaded, [tasks[i]["data"] for i in pushed])):
        data = tasks[i]["data"]
        if sentence is None:
            continue
        task = sentence_to_task(sentence, layers=tuple(data.get("layers") or layers), model_version=version)
        errors = validate_task(config, task)
        if errors or task["data"]["words"] != data.get("words") or task["data"]["text"] != data.get("text"):
            # the words view must stay as it is: the regions are offsets into it
            log.warning("task %s: not predicted (%s)", tasks[i].get("id"), "; ".join(errors[:3]) or
                        "its words view does not match its CoNLL-U")
            continue
        # the new sentence travels in the prediction: what the config hides is pulled from it (prediction_sentence)
        prediction = task["predictions"][0]
        results[i] = {**prediction, "result": with_sentence(prediction["result"], task["data"]["conllu"])}
    for i, sentence in zip(raw, _tag_raw(loaded, [tasks[i] for i in raw], project_id)):
        if sentence is None:
            continue
        task = sentence_to_task(sentence, layers=layers, model_version=version)
        errors = validate_task(config, task)
        if errors:
            log.warning("task %s: not predicted (%s)", tasks[i].get("id"), "; ".join(errors[:3]))
            continue
        results[i] = task["predictions"][0]
        old = {k: v for k, v in (tasks[i].get("data") or {}).items() if k != RAW_TEXT_KEY}
        meta = {**(tasks[i].get("meta") or {}), "sent_id": sentence.sent_id, "text_sha1": task["data"]["text_sha1"]}
        completions.append((tasks[i]["id"], {**old, **task["data"]}, meta))
    return results, completions


def _retag(loaded: _Loaded, datas: list[dict]) -> list:
    """Each task's sentence tagged again from its words (the CoNLL-U path of `tag`), or None when unreadable."""
    from mudawwana.corpus.conllu_io import parse_conllu
    from mudawwana.corpus.from_stanza import tag_tokenized_documents
    from mudawwana.corpus.readers import TokenizedDocument

    sentences: list = []
    for data in datas:
        try:
            parsed = parse_conllu(data["conllu"])
            sentences.append(parsed[0] if len(parsed) == 1 and parsed[0].words else None)
        except Exception:  # noqa: BLE001 - a task not made by push: no prediction, logged by the caller
            sentences.append(None)
    docs = [TokenizedDocument(doc_id=s.doc_id or f"task-{k}", sentences=[s], source=f"task {k}")
            for k, s in enumerate(sentences) if s is not None]
    if docs:
        for _ in tag_tokenized_documents(loaded.words, docs, loaded.model_version):
            pass  # tags the sentences in place
    return sentences


def _tag_raw(loaded: _Loaded, tasks: list[dict], project_id: int | None) -> list:
    """Each raw-text task as one tagged, UD-valid Sentence with push's ids, or None."""
    from mudawwana.corpus.from_stanza import tag_raw_documents
    from mudawwana.corpus.normalize import NormalizationOptions
    from mudawwana.corpus.readers import Paragraph, RawDocument
    from mudawwana.corpus.ud_validator import UDValidator

    docs = []
    for t in tasks:
        doc_id, _ = raw_task_ids(t, project_id)
        # NFC as every reader does (corpus/readers.py); a line break inside would end stanza's paragraph
        text = unicodedata.normalize("NFC", t["data"][RAW_TEXT_KEY]).replace("\r", " ").replace("\n", " ")
        docs.append(RawDocument(doc_id=doc_id, paragraphs=[Paragraph(text, 1)], source=f"task {t.get('id')}"))
    out = []
    validator = UDValidator("<task>")
    for t, document in zip(tasks, tag_raw_documents(loaded.raw, docs, NormalizationOptions(),
                                                    loaded.model_version)):
        if len(document.sentences) != 1:
            log.warning("task %s: its text gave %d sentences, not 1: no prediction", t.get("id"),
                        len(document.sentences))
            out.append(None)
            continue
        sentence = document.sentences[0]
        doc_id, sent_id = raw_task_ids(t, project_id)
        sentence.comments = [f"newdoc id = {doc_id}", f"sent_id = {sent_id}"] + [
            c for c in sentence.comments if not c.startswith(("newdoc id", "newpar id", "sent_id"))]
        problems = validator.check(sentence)
        if problems:
            log.warning("task %s: the tagged sentence is not UD-valid (%s): no prediction", t.get("id"), problems[0])
            out.append(None)
            continue
        out.append(sentence)
    return out


def raw_task_ids(task: dict, project_id: int | None) -> tuple[str, str]:
    """(doc_id, sent_id) of a raw-text task: those its data names, else ones from its task id (unique in the
    server; the project id keeps two projects' corpora apart when they are merged)."""
    data = task.get("data") or {}
    base = f"ls{project_id}-task{task.get('id')}" if project_id is not None else f"task{task.get('id')}"
    doc_id = str(data.get("doc_id") or base)
    sent_id = str(data.get("sent_id") or (f"{doc_id}-task{task.get('id')}" if data.get("doc_id") else base))
    return doc_id, sent_id


def write_task(client, task_id: int, data: dict, meta: dict) -> None:
    """Replace a task's data and meta (its annotations and predictions stay): one PATCH (docs/ml-backend.md)."""
    from mudawwana.annotate.projects import update_task_data

    update_task_data(client, task_id, data, meta=meta)


def _project_title_and_live_mode(client, project_id: int) -> tuple[str, str | None]:
    """The project's title, and its model version when that is the title of one of its ML backends (Label
    Studio then asks the backend for predictions when a task opens: docs/ml-backend.md), else None."""
    from mudawwana.annotate.client import sdk_call
    from mudawwana.annotate.ml_backend_connect import project_backends

    with sdk_call(client, f"project {project_id}"):
        project = client.projects.get(project_id)
    version = getattr(project, "model_version", None) or None
    titles = {b.get("title") for b in project_backends(client, project_id)}
    return project.title, version if version in titles else None


def _project_id(value) -> int | None:
    """Label Studio names the project "ID.CREATED_TIMESTAMP" in /setup and /predict, by its id in webhooks."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).split(".")[0])
    except ValueError:
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["StanzaBackend", "TrainingSettings", "BackendError", "predict_tasks", "raw_task_ids", "write_task",
           "MODEL_CLASS", "BACKEND_TITLE", "PREDICT_TIMEOUT"]
