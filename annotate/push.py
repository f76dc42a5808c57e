"""Push a CoNLL-U corpus to Label Studio: one task per sentence, its pre-annotation as a prediction.

Idempotent: tasks carry the sentence id and a hash of its text in the task's `meta` (besides `data`), so the
ids already in the project are listed cheaply (`include=id,meta`: no task data) and only missing sentences are
imported. A sentence whose text changed since it was pushed is reported, not imported again (Label Studio
does not deduplicate: docs/label-studio.md). Each batch is one import request, which the server commits in one
transaction, so a push killed at any point leaves whole batches, and running it again imports the rest. (Two
pushes into one project at the same moment could both import a sentence: run them one after the other.)

Batches are posted as ready-made JSON (annotate/projects.py import_tasks; benchmarks/push.py compares it with
the SDK's typed import). While the server imports one batch the next one is built and validated, so client
work overlaps server work; the first batches ramp up in size so the server does not wait for a whole first
batch to be built.

The steps, each a function below: read the file (before any request: a missing file is an InputError naming
it), find or create the project, plan what to send (a hash per sentence, against the keys already there),
import it, then fill in the report (old text of changed sentences, the project's model version). Every
request goes through annotate/projects.py.
"""


from __future__ import annotations

import hashlib
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from mudawwana.annotate.client import StudioError
from mudawwana.annotate.config import build_config
from mudawwana.annotate.projects import (IMPORT_ROUTES, ensure_project, import_tasks, list_tasks, set_model_version,
                                         task_data)
from mudawwana.annotate.tasks import sentence_to_task, text_sha1, validate_task
from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.data_model import META_MODEL_VERSION, Sentence
from mudawwana.corpus.errors import InputError, MudawwanaError

Progress = Callable[[int, "int | None"], None]


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


def push_corpus(client, conllu_path, project_title: str, *, layers: Sequence[str] | None = None,
                model_version: str | None = None, batch_size: int = 1000, progress: Progress | None = None,
                via: str = "http") -> PushReport:
    """Push every sentence of `conllu_path` not yet in the project; see the module docstring.

    layers: None reuses the project's layers (or DEFAULT_LAYERS for a new project). model_version: for
    sentences without a `# model_version` comment (default: the file's name and a hash of its bytes).
    progress(done, total) is called as batches are imported. via: "http" (ready-made JSON) or "sdk" (the SDK's
    typed import, for benchmarks/push.py).
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, not {batch_size}")
    if via not in IMPORT_ROUTES:
        raise ValueError(f"via must be one of {IMPORT_ROUTES}, not {via!r}")
    start = time.perf_counter()
    path = Path(conllu_path)
    sentences = list(read_conllu(path))  # before any request: a missing or malformed file is an InputError naming it
    default_version = model_version or file_model_version(path)

    project, layers, created = ensure_project(client, project_title, layers)
    report = PushReport(project_id=project.id, project_title=project.title, created=created, layers=layers,
                        sentences=len(sentences))
    plan = plan_push(sentences, {} if created else existing_keys(client, project.id), default_version, report)
    import_planned(client, project.id, plan.todo, layers, batch_size=batch_size, progress=progress, via=via,
                   report=report)
    report.changed = describe_changed(client, plan.changed)
    report.project_model_version = show_predictions(client, project, report.model_versions)
    report.invalid.sort(key=lambda x: x.index)
    report.seconds = time.perf_counter() - start
    return report


def file_model_version(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"{path.stem}@{h.hexdigest()[:12]}"


# --- plan: what is there, what to send ---------------------------------------------------------------------------

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


@dataclass
class PushPlan:
    todo: list[tuple[int, Sentence, str]] = field(default_factory=list)  # (index in the file, sentence, version)
    changed: list[tuple[str, int, str]] = field(default_factory=list)  # (sent_id, task id, new text)


def plan_push(sentences: Sequence[Sentence], keys: dict[str, tuple[int, str | None]], default_version: str,
              report: PushReport) -> PushPlan:
    """Decide per sentence, cheaply (a hash), before the expensive task building; counts and problems go to the
    report (already_present, not_in_file, invalid)."""
    plan = PushPlan()
    seen: dict[str, int] = {}
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
                plan.changed.append((sid, task_id, sentence.text))
            continue
        plan.todo.append((index, sentence, sentence.get_meta(META_MODEL_VERSION) or default_version))
    report.not_in_file = sum(1 for sid in keys if sid not in seen)
    return plan


def build_tasks(chunk: Sequence[tuple[int, Sentence, str]], layers: Sequence[str], config: str,
                report: PushReport) -> list[dict]:
    """The valid tasks of these planned sentences; the others go to report.invalid, not to the server."""
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


# --- transfer -----------------------------------------------------------------------------------------------------

def import_planned(client, project_id: int, todo: list[tuple[int, Sentence, str]], layers: Sequence[str], *,
                   batch_size: int, progress: Progress | None, via: str, report: PushReport) -> None:
    """Build and import the planned sentences batch by batch: one worker thread posts batch k while this thread
    builds batch k+1 (the wait is network I/O). Counts go to the report; a failed import is a PushError."""
    config = build_config(layers)
    batches, pos = [], 0
    for size in batch_sizes(len(todo), batch_size):
        batches.append(todo[pos:pos + size])
        pos += size
    say = progress or (lambda done, total: None)
    say(0, len(todo))
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push") as pool:
        in_flight: tuple[Future, int] | None = None  # the import being posted, and how many sentences it covers
        try:
            for batch in batches:
                tasks = build_tasks(batch, layers, config, report)
                if in_flight is not None:
                    done += _imported(in_flight, report)
                    say(done, len(todo))
                    in_flight = None
                if tasks:
                    in_flight = pool.submit(import_tasks, client, project_id, tasks, via=via), len(batch)
                else:
                    done += len(batch)
            if in_flight is not None:
                done += _imported(in_flight, report)
                in_flight = None
        except Exception as e:
            if in_flight is not None:
                in_flight[0].cancel()
            raise _push_error(e, report) from None
    say(done, len(todo))


def _imported(in_flight: tuple[Future, int], report: PushReport) -> int:
    """Waits for a posted batch; returns how many planned sentences it covered."""
    future, covered = in_flight
    report.imported += future.result()
    report.batches += 1
    return covered


def _push_error(e: Exception, report: PushReport) -> PushError:
    what = str(e) if isinstance(e, StudioError) else f"{type(e).__name__}: {e}"
    return PushError(f"import into project {report.project_title!r} stopped after {report.imported} new tasks "
                     f"({what}); rerun the same command: sentences already in the project are skipped")


def describe_changed(client, changed: list[tuple[str, int, str]]) -> list[ChangedSentence]:
    """The text in the project of each changed sentence: one small request each (a changed sentence is the
    exception); None where it cannot be read, the report still names the sentence."""
    out = []
    for sid, task_id, new_text in changed:
        try:
            old = task_data(client, task_id).get("text")
        except StudioError:
            old = None
        out.append(ChangedSentence(sid, task_id, old, new_text))
    return out


def show_predictions(client, project, model_versions: dict[str, int]) -> str | None:
    """The project's model version after the push: the one most sentences imported now carry, so their
    predictions show in the labeling stream (docs/label-studio.md, "Import with predictions")."""
    if not model_versions:
        return getattr(project, "model_version", None)
    version = Counter(model_versions).most_common(1)[0][0]
    set_model_version(client, project.id, version)
    return version


__all__ = ["push_corpus", "PushReport", "ChangedSentence", "InvalidSentence", "PushError", "existing_keys",
           "plan_push", "build_tasks", "import_planned", "batch_sizes", "file_model_version"]
