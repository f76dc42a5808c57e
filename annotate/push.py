"""Push a CoNLL-U corpus to Label Studio: one task per sentence, its pre-annotation as a prediction.

Idempotent: tasks carry the sentence id and a hash of its text in the task's `meta` (besides `data`), so the
ids already in the project are listed cheaply (`include=id,meta`: no task data) and only missing sentences are
imported. A sentence whose text changed since it was pushed is reported, not imported again (Label Studio
does not deduplicate: docs/label-studio.md). Each batch is one import request, which the server commits in one
transaction, so a push killed at any point leaves whole batches, and running it again imports the rest.

Batches are posted as ready-made JSON (annotate/projects.py import_tasks; benchmarks/push.py compares it with
the SDK's typed import). While the server imports one batch the next one is built and validated, so client
work overlaps server work; the first batches ramp up in size so the server does not wait for a whole first
batch to be built.

The steps, each a function below: read the file (before any request: a missing file is an InputError naming
it), find or create the project, plan what to send (a hash per sentence, against the keys already there),
import it, reconcile with concurrent pushes, then fill in the report (old text of changed sentences, the
project's model version). Every request goes through annotate/projects.py.

Concurrent pushes (cron jobs, colleagues, several machines against one server) end with ONE project per title
and ONE task per sentence, whatever the interleaving. Chosen: reconciliation after the fact, not a lock.
Label Studio has no lock, no conditional update and no unique constraint a client could use on project titles
or task data (titles repeat; imports never deduplicate), and a lock held on this machine (fcntl) would not stop
cron on a second machine. What every push can compute alike from what the server shows is a rule:
- the project of a title is the one with the LOWEST ID (find_project); a push that created another one goes
  on with the lowest;
- at the end of each push, after its own imports have committed, it lists the projects with the title again.
  If a lower id has appeared meanwhile (PostgreSQL can commit a lower id after a higher one), it pushes again
  into that one. Otherwise it absorbs every other project with the title: imports the sentences missing from
  the winner (data, meta and predictions as they are) and deletes that project, but only one of ours (our
  labeling config, same layers) holding no annotations, skipped ones or drafts; one that does stops the push
  with an error naming it, as two projects with one title always did;
- then, in the winner, of the tasks of one sent_id the LOWEST TASK ID stays; the others are deleted when they
  hold no annotations or drafts (annotated ones stay, and are reported). Annotations are read from their rows,
  never from a task's counters, which Label Studio on PostgreSQL leaves at 0 (docs/label-studio.md).
The lowest id is never deleted, so every sentence keeps a copy; and of two pushes that created duplicates, the
one that reconciles last sees both (each lists after its own imports committed), so no duplicate survives the
last push. A push skips the task listing of that last step when the task count shows nobody else imported.
Writes answered 5xx are resent (WRITE_RETRIES), imports too: on SQLite a write waits at most 5 s for another
push's import to release the database, then fails with "database is locked"; an import resent after it had in
fact committed only duplicates tasks, which the last step removes.
What remains is a moment (milliseconds) between checking a duplicate for annotations and deleting it: an
annotator would have to annotate, in that moment, a task or project a few seconds old that pushes and pulls
do not use.
"""


from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from mudawwana.annotate.client import StudioError, StudioHTTPError
from mudawwana.annotate.config import build_config
from mudawwana.annotate.projects import (IMPORT_ROUTES, WRITE_RETRIES, ambiguous_title, count_tasks, delete_project,
                                         delete_tasks, ensure_project, has_annotations, import_tasks,
                                         layers_from_config, list_tasks, set_model_version, split_annotated,
                                         task_data, titled_projects)
from mudawwana.annotate.tasks import sentence_to_task, text_sha1, validate_task
from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.data_model import META_MODEL_VERSION, Sentence
from mudawwana.corpus.errors import InputError, MudawwanaError

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
MAX_ROUNDS = 5  # pushes into a project that turned out not to be the title's (see "Concurrent pushes")


class PushError(MudawwanaError):
    """The push could not finish; rerunning the same command continues where it stopped."""


class _ProjectGone(PushError):
    """The project was deleted under the push (a concurrent push absorbed it): push again, into the winner."""


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
    rounds: int = 1              # > 1: the push moved to the project a concurrent push made first
    duplicates_removed: int = 0  # tasks deleted: a sentence that concurrent pushes both imported
    annotated_duplicates: list[str] = field(default_factory=list)  # sent_ids with several annotated tasks left
    projects_absorbed: list[int] = field(default_factory=list)  # ids of other projects with the title, removed

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

    for rounds in range(1, MAX_ROUNDS + 1):
        project, chosen, created = ensure_project(client, project_title, layers)
        report = PushReport(project_id=project.id, project_title=project.title, created=created, layers=chosen,
                            sentences=len(sentences), rounds=rounds)
        listed = [] if created else project_tasks(client, project.id)
        plan = plan_push(sentences, keys_of(listed), default_version, report)
        try:
            import_planned(client, project.id, plan.todo, chosen, batch_size=batch_size, progress=progress, via=via,
                           report=report)
        except _ProjectGone:
            continue
        if reconcile(client, project, chosen, report, listed):
            break
    else:
        raise PushError(f"the projects titled {project_title!r} kept changing while pushing ({MAX_ROUNDS} times): "
                        "rerun the same command")
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

@dataclass(frozen=True)
class TaskKey:
    id: int
    sent_id: str | None
    text_sha1: str | None


def project_tasks(client, project_id: int) -> list[TaskKey]:
    """Every task of the project with its sentence key, from `meta` (no task data transferred, but for tasks
    imported some other way, whose data is read once)."""
    out, unkeyed = [], set()
    for t in list_tasks(client, project_id, include="id,meta"):
        meta = t.get("meta") or {}
        if "sent_id" in meta:
            out.append(TaskKey(t["id"], meta["sent_id"], meta.get("text_sha1")))
        else:
            unkeyed.add(t["id"])
    if unkeyed:  # tasks imported some other way: read their data once
        for t in list_tasks(client, project_id, include="id,meta,data", page_size=1000):
            if t["id"] in unkeyed:
                data = t.get("data") or {}
                out.append(TaskKey(t["id"], data.get("sent_id") or None, data.get("text_sha1")))
    return out


def keys_of(tasks: Sequence[TaskKey]) -> dict[str, tuple[int, str | None]]:
    """sent_id -> (task id, text sha1), of the lowest task id where several tasks hold one sentence."""
    keys: dict[str, tuple[int, str | None]] = {}
    for t in sorted(tasks, key=lambda t: t.id):
        if t.sent_id:
            keys.setdefault(t.sent_id, (t.id, t.text_sha1))
    return keys


def existing_keys(client, project_id: int) -> dict[str, tuple[int, str | None]]:
    """sent_id -> (task id, text sha1) for the project's tasks, from `meta` (no task data transferred)."""
    return keys_of(project_tasks(client, project_id))


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
                    in_flight = pool.submit(import_tasks, client, project_id, tasks, via=via,
                                            retries=WRITE_RETRIES), len(batch)
                else:
                    done += len(batch)
            if in_flight is not None:
                done += _imported(in_flight, report)
                in_flight = None
        except Exception as e:
            if in_flight is not None:
                in_flight[0].cancel()
            if isinstance(e, StudioHTTPError) and e.status_code == 404:
                log.info("project %d was deleted while pushing into it: pushing again", project_id)
                raise _ProjectGone(str(e)) from None
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


# --- reconcile: what concurrent pushes left (module docstring, "Concurrent pushes") -------------------------------

def reconcile(client, project, layers: Sequence[str], report: PushReport, listed: Sequence[TaskKey]) -> bool:
    """After this push's imports: False when a project with the title and a lower id has appeared (push again,
    into it); else absorbs the title's other projects into this one, removes duplicate tasks, and returns True."""
    titled = titled_projects(client, report.project_title)
    if not titled:
        raise PushError(f"project {report.project_title!r} was deleted while pushing into it; rerun to create it")
    winner = titled[0]
    if winner.id != project.id:
        log.info("project %r: %d appeared below %d while pushing: pushing again into it", report.project_title,
                 winner.id, project.id)
        return False
    absorbed = sum(absorb(client, winner, other, layers, report) for other in titled[1:])
    # Nobody else imported here, and no sentence had two tasks before: nothing to deduplicate, no listing.
    clean = len(keys_of(listed)) == sum(1 for t in listed if t.sent_id)
    if not (clean and not absorbed and count_tasks(client, winner.id) == len(listed) + report.imported):
        remove_duplicates(client, winner.id, report)
    return True


def absorb(client, winner, other, layers: Sequence[str], report: PushReport) -> int:
    """Moves the sentences of `other` (a project with the same title and a higher id) that `winner` lacks into it,
    then deletes `other`; returns the number of tasks imported. Only one of ours, without annotations."""
    if has_annotations(other):
        raise _left_alone(report, winner, other, "holds annotations")
    if layers_from_config(getattr(other, "label_config", None)) != tuple(layers):
        raise _left_alone(report, winner, other, "is not a mudawwana project with the same layers")
    moved = 0
    try:
        tasks = list_tasks(client, other.id, include=None, fields="all", page_size=500) if count_tasks(
            client, other.id) else []
    except StudioHTTPError as e:
        if e.status_code == 404:  # another push absorbed it first
            return 0
        raise
    if any(t.get("annotations") or t.get("drafts") for t in tasks):  # the rows, not the task counters
        raise _left_alone(report, winner, other, "holds annotations or drafts")
    if not all(_sent_id(t) for t in tasks):
        raise _left_alone(report, winner, other, "holds tasks without a sent_id, which mudawwana did not push")
    if tasks:
        have = keys_of(project_tasks(client, winner.id))
        missing = [_reimported(t) for t in tasks if _sent_id(t) not in have]
        for i in range(0, len(missing), 1000):
            moved += import_tasks(client, winner.id, missing[i:i + 1000], retries=WRITE_RETRIES)
    now = next((p for p in titled_projects(client, report.project_title) if p.id == other.id), None)
    if now is not None and has_annotations(now):  # annotated meanwhile
        raise _left_alone(report, winner, now, "holds annotations")
    if now is not None and delete_project(client, other.id):
        log.info("project %r: absorbed project %d into %d (%d tasks moved)", report.project_title, other.id,
                 winner.id, moved)
        report.projects_absorbed.append(other.id)
    return moved


def _left_alone(report: PushReport, winner, other, why: str) -> PushError:
    return PushError(f"{ambiguous_title(report.project_title, [winner, other])}; project {other.id} {why}, so it "
                     f"was left as it is (this push's sentences are in project {winner.id})")


def _sent_id(task: dict) -> str | None:
    return (task.get("meta") or {}).get("sent_id") or (task.get("data") or {}).get("sent_id")


def _reimported(task: dict) -> dict:
    """A task as exported by the tasks API, as an import of the same data, meta and predictions."""
    out = {"data": task["data"], "meta": task.get("meta") or {}}
    out["predictions"] = [{k: p[k] for k in ("result", "model_version", "score") if p.get(k) is not None}
                          for p in task.get("predictions") or []]
    return out


def remove_duplicates(client, project_id: int, report: PushReport) -> None:
    """Of the tasks of one sentence, the lowest id stays; the others go unless they hold annotations or drafts
    (read from the annotation rows, just before the deletion)."""
    by_sentence: dict[str, list[TaskKey]] = defaultdict(list)
    for t in project_tasks(client, project_id):
        if t.sent_id:
            by_sentence[t.sent_id].append(t)
    extra = {t.id: sent_id for sent_id, tasks in by_sentence.items() for t in sorted(tasks, key=lambda t: t.id)[1:]}
    doomed, held = split_annotated(client, project_id, sorted(extra)) if extra else ([], [])
    if doomed:
        report.duplicates_removed += delete_tasks(client, project_id, doomed)
        log.info("project %d: removed %d duplicate tasks", project_id, len(doomed))
    report.annotated_duplicates = sorted({extra[i] for i in held})


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
           "project_tasks", "keys_of", "plan_push", "build_tasks", "import_planned", "reconcile",
           "remove_duplicates", "batch_sizes", "file_model_version"]
