"""Push a CoNLL-U corpus to Label Studio: one task per sentence, its pre-annotation as a prediction.

Idempotent: tasks carry the sentence id and a hash of its text in the task's `meta` (besides `data`), so the
ids already in the project are listed cheaply (`include=id,meta`: no task data) and only missing sentences are
imported. A sentence whose text changed since it was pushed is reported, not imported again (Label Studio
does not deduplicate: docs/label-studio.md). Each batch is one import request, which the server commits in one transaction,
so a push killed at any point leaves whole batches, and running it again imports the rest. (Two pushes into
one project at the same moment could both import a sentence: run them one after the other.)

Batches are posted as ready-made JSON through the SDK's HTTP client (its base URL, auth and token refresh):
the SDK's typed `projects.import_tasks` re-encodes every task through pydantic models first, which costs
about as much client time as the server spends importing (benchmarks/push.py measures both). While the
server imports one batch the next one is built and validated, so client work overlaps server work; the first
batches ramp up in size so the server does not wait for a whole first batch to be built.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Callable, Sequence

from mudawwana.annotate.config import DEFAULT_LAYERS, LAYERS, build_config, check_layers
from mudawwana.annotate.tasks import sentence_to_task, text_sha1, validate_task
from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.errors import InputError, MudawwanaError
from mudawwana.corpus.data_model import META_MODEL_VERSION

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]

DESCRIPTION_PREFIX = "Corpus correction project created by mudawwana push."
LAYERS_RE = re.compile(r"mudawwana-layers:\s*([a-z,]+)")
IMPORT_TIMEOUT = 900.0  # seconds for one batch: the server needs ~4-6 s per 1,000 tasks on 2 cores


class PushError(MudawwanaError):
    """The push could not finish; rerunning the same command continues where it stopped."""


@dataclass
class ChangedSentence:
    sent_id: str
    task_id: int
    old_text: str | None
    new_text: str


@dataclass
class InvalidSentence:
    sent_id: str | None
    index: int  # 1-based position of the sentence in the file
    errors: list[str]


@dataclass
class PushReport:
    project_id: int
    project_title: str
    created: bool
    layers: tuple[str, ...]
    sentences: int = 0           # sentences read from the file
    imported: int = 0            # tasks created by this push
    already_present: int = 0     # sentences found in the project with the same text
    changed: list[ChangedSentence] = field(default_factory=list)
    invalid: list[InvalidSentence] = field(default_factory=list)
    not_in_file: int = 0         # tasks in the project whose sentence is not in this file
    model_versions: dict[str, int] = field(default_factory=dict)  # of the sentences imported now
    project_model_version: str | None = None
    batches: int = 0
    seconds: float = 0.0

    @property
    def tasks_per_second(self) -> float:
        return self.imported / self.seconds if self.seconds else 0.0


# --- the project: create or reuse, and which layers it has ------------------------------------------------------

def layers_description(layers: Sequence[str]) -> str:
    return f"{DESCRIPTION_PREFIX} mudawwana-layers: {','.join(layers)}"


def layers_from_config(config: str | None) -> tuple[str, ...] | None:
    """The layer set whose build_config() is exactly this config (None for a hand-made config)."""
    if not config:
        return None
    for n in range(len(LAYERS), 0, -1):
        for subset in combinations(LAYERS, n):
            try:
                if build_config(subset) == config:
                    return subset
            except ValueError:
                continue
    return None


def project_layers(client, project) -> tuple[str, ...]:
    """The layers a project was made with: recorded in its description by push, else derived from its config."""
    m = LAYERS_RE.search(getattr(project, "description", None) or "")
    if m:
        try:
            return check_layers([x for x in m.group(1).split(",") if x])
        except ValueError:
            pass
    config = getattr(project, "label_config", None)
    if config is None:
        config = client.projects.get(project.id).label_config
    layers = layers_from_config(config)
    if layers is None:
        raise InputError(f"Label Studio project {project.title!r} was not made by `mudawwana push` (its labeling "
                         "config is not one of ours): push to a new project")
    return layers


def ensure_project(client, title: str, layers: Sequence[str] | None) -> tuple[object, tuple[str, ...], bool]:
    """(project, layers, created). A reused project must have the layers asked for (None: whatever it has)."""
    from mudawwana.annotate.client import find_project

    if len(title.strip()) < 3:
        raise InputError(f"project title {title!r} is too short: Label Studio needs at least 3 characters")
    project = find_project(client, title)
    if project is not None:
        existing = project_layers(client, project)
        if layers is not None and tuple(check_layers(layers)) != existing:
            raise InputError(f"project {title!r} has the layers {','.join(existing)}, not {','.join(layers)}: "
                             f"push with --layers {','.join(existing)}, or to a new project")
        return project, existing, False
    layers = check_layers(layers if layers is not None else DEFAULT_LAYERS)
    project = client.projects.create(title=title, label_config=build_config(layers),
                                     description=layers_description(layers))
    return project, layers, True


# --- what is already there ------------------------------------------------------------------------------------

def _http(client):
    return client._client_wrapper.httpx_client


def _get_json(client, path: str, params: dict, timeout: float = 600.0):
    from label_studio_sdk.core.api_error import ApiError

    resp = _http(client).request(path, method="GET", params=params, request_options={"timeout": timeout})
    if not 200 <= resp.status_code < 300:
        raise ApiError(status_code=resp.status_code, headers=dict(resp.headers), body=resp.text[:500])
    return resp.json()


def list_tasks(client, project_id: int, *, include: str | None, query: dict | None = None,
               page_size: int = 5000, fields: str | None = None) -> list[dict]:
    """Every task of the project through the tasks API, with only the `include`d task fields."""
    out: list[dict] = []
    page = 1
    while True:
        params = {"project": project_id, "page": page, "page_size": page_size, "include": include}
        if fields:
            params["fields"] = fields
        if query:
            params["query"] = json.dumps(query)
        body = _get_json(client, "api/tasks/", params)
        tasks = body.get("tasks") or []
        out.extend(tasks)
        if not tasks or len(out) >= body.get("total", 0):
            return out
        page += 1


def existing_keys(client, project_id: int) -> dict[str, tuple[int, str | None]]:
    """sent_id -> (task id, text sha1) for the project's tasks, from `meta` (no task data transferred)."""
    keys: dict[str, tuple[int, str | None]] = {}
    missing = False
    for t in list_tasks(client, project_id, include="id,meta"):
        meta = t.get("meta") or {}
        if "sent_id" in meta:
            keys.setdefault(meta["sent_id"], (t["id"], meta.get("text_sha1")))
        else:
            missing = True
    if missing:  # tasks imported some other way: read their data once
        for t in list_tasks(client, project_id, include="id,meta,data", page_size=1000):
            if "sent_id" not in (t.get("meta") or {}):
                data = t.get("data") or {}
                if data.get("sent_id"):
                    keys.setdefault(data["sent_id"], (t["id"], data.get("text_sha1")))
    return keys


# --- the push ----------------------------------------------------------------------------------------------------

def file_model_version(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"{path.stem}@{h.hexdigest()[:12]}"


def post_batch(client, project_id: int, tasks: list[dict], *, via: str = "http") -> int:
    """Import one batch (one request, one server transaction); returns the number of tasks created.

    No retries: a retried import that had reached the server would duplicate the batch. The caller lists
    the project again instead (rerun the push)."""
    from label_studio_sdk.core.api_error import ApiError

    options = {"timeout": IMPORT_TIMEOUT, "max_retries": 0}
    if via == "sdk":
        resp = client.projects.import_tasks(project_id, request=tasks, request_options=options)
        return int(resp.task_count or 0)
    body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    log.debug("importing %d tasks (%d bytes) into project %d", len(tasks), len(body), project_id)
    resp = _http(client).request(f"api/projects/{project_id}/import", method="POST", content=body,
                                 headers={"content-type": "application/json"}, request_options=options)
    if not 200 <= resp.status_code < 300:
        raise ApiError(status_code=resp.status_code, headers=dict(resp.headers), body=resp.text[:500])
    return int(resp.json().get("task_count") or 0)


def batch_sizes(n: int, batch_size: int) -> list[int]:
    """Batches of `batch_size`, the first ones ramping up (1/8, 1/4, 1/2 of it) when it is 64 or more: the
    server starts on a small batch while the client builds the next, instead of idling through a whole one."""
    sizes = []
    size = batch_size // 8 if batch_size >= 64 else batch_size
    while n > 0:
        sizes.append(min(size, n))
        n -= sizes[-1]
        size = min(batch_size, size * 2)
    return sizes


def push_corpus(client, conllu_path, project_title: str, *, layers: Sequence[str] | None = None,
                model_version: str | None = None, batch_size: int = 1000, progress: Progress | None = None,
                via: str = "http") -> PushReport:
    """Push every sentence of `conllu_path` not yet in the project; see the module docstring.

    layers: None reuses the project's layers (or DEFAULT_LAYERS for a new project). model_version: for
    sentences without a `# model_version` comment (default: the file's name and a hash of its bytes).
    progress(done, total) is called as batches are imported.
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, not {batch_size}")
    if via not in ("http", "sdk"):
        raise ValueError(f"via must be 'http' or 'sdk', not {via!r}")
    start = time.perf_counter()
    path = Path(conllu_path)
    sentences = list(read_conllu(path))  # a missing or malformed file is an InputError naming it
    default_version = model_version or file_model_version(path)

    project, layers, created = ensure_project(client, project_title, layers)
    config = build_config(layers)
    report = PushReport(project_id=project.id, project_title=project.title, created=created, layers=layers,
                        sentences=len(sentences))
    keys = {} if created else existing_keys(client, project.id)

    # Decide per sentence, cheaply (a hash), before the expensive task building.
    seen: dict[str, int] = {}
    todo: list[tuple[int, object, str]] = []
    changed_ids: list[tuple[str, int, str]] = []
    for index, sentence in enumerate(sentences, 1):
        sid = sentence.sent_id
        if not sid:
            report.invalid.append(InvalidSentence(None, index, ["no `# sent_id` comment: tasks are keyed by it"]))
            continue
        if sid in seen:
            report.invalid.append(InvalidSentence(sid, index, [f"sent_id repeats sentence {seen[sid]} of the file"]))
            continue
        seen[sid] = index
        if sid in keys:
            task_id, old_sha = keys[sid]
            if old_sha == text_sha1(sentence.text):
                report.already_present += 1
            else:
                changed_ids.append((sid, task_id, sentence.text))
            continue
        todo.append((index, sentence, sentence.get_meta(META_MODEL_VERSION) or default_version))
    report.not_in_file = sum(1 for sid in keys if sid not in seen)

    def build(chunk):
        ready = []
        for index, sentence, version in chunk:
            try:
                task = sentence_to_task(sentence, layers=layers, model_version=version)
                errors = validate_task(config, task)
            except Exception as e:  # a sentence the task builder cannot handle is reported, not fatal
                errors = [f"{type(e).__name__}: {e}"]
            if errors:
                report.invalid.append(InvalidSentence(sentence.sent_id, index, errors))
                continue
            task["meta"] = {"sent_id": sentence.sent_id, "text_sha1": task["data"]["text_sha1"]}
            ready.append(task)
            report.model_versions[version] = report.model_versions.get(version, 0) + 1
        return ready

    chunks, pos = [], 0
    for size in batch_sizes(len(todo), batch_size):
        chunks.append(todo[pos:pos + size])
        pos += size
    if progress:
        progress(0, len(todo))
    done = 0
    # One worker thread posts batch k while this thread builds batch k+1 (the wait is network I/O).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push") as pool:
        pending: Future | None = None
        pending_size = 0
        try:
            for chunk in chunks:
                ready = build(chunk)
                if pending is not None:
                    report.imported += pending.result()
                    report.batches += 1
                    done += pending_size
                    if progress:
                        progress(done, len(todo))
                    pending = None
                if ready:
                    pending, pending_size = pool.submit(post_batch, client, project.id, ready, via=via), len(chunk)
                else:
                    done += len(chunk)
            if pending is not None:
                report.imported += pending.result()
                report.batches += 1
                done += pending_size
                pending = None
            if progress:
                progress(done, len(todo))
        except Exception as e:
            if pending is not None:
                pending.cancel()
            raise _push_error(e, report) from None

    # Old text of changed sentences: one small request each (a changed sentence is the exception).
    for sid, task_id, new_text in changed_ids:
        try:
            old = (client.tasks.get(task_id).data or {}).get("text")
        except Exception:  # noqa: BLE001 - the report still names the sentence
            old = None
        report.changed.append(ChangedSentence(sid, task_id, old, new_text))

    # Predictions show in the labeling stream only when their model version is the project's (docs/label-studio.md, "Import").
    if report.model_versions:
        version = Counter(report.model_versions).most_common(1)[0][0]
        current = getattr(client.projects.get(project.id), "model_version", None)
        if current != version:
            client.projects.update(project.id, model_version=version)
        report.project_model_version = version
    else:
        report.project_model_version = getattr(project, "model_version", None)
    report.invalid.sort(key=lambda x: x.index)
    report.seconds = time.perf_counter() - start
    return report


def _push_error(e: Exception, report: PushReport) -> PushError:
    from label_studio_sdk.core.api_error import ApiError

    what = (f"HTTP {e.status_code}: {str(e.body)[:300]}" if isinstance(e, ApiError)
            else f"{type(e).__name__}: {e}")
    return PushError(f"import into project {report.project_title!r} stopped after {report.imported} new tasks "
                     f"({what}); rerun the same command: sentences already in the project are skipped")


__all__ = ["push_corpus", "PushReport", "ChangedSentence", "InvalidSentence", "PushError", "project_layers",
           "ensure_project", "existing_keys", "list_tasks", "post_batch", "layers_description",
           "file_model_version"]
