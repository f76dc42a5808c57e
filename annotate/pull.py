"""Pull corrected annotations from Label Studio back into CoNLL-U.

Every submitted annotation is mapped back with annotate.mapping.annotation_to_sentence, from the task's `conllu`
or, for a task re-predicted by a later model, from the sentence the prediction it was made from carries
(annotate/prediction_sentence.py: the columns the interface hides are that model's); a policy
(annotate/policies.py) decides which one(s) make the sentence written for a task. Tasks without a submitted
annotation (unannotated, skipped = every annotation cancelled) and, with the `reviewed` policy, tasks without a
reviewed one, are counted and not written.

An annotation that cannot be mapped is never dropped silently: it is reported with its task id and reason, and
listed in the state file. By default the sentence it would have produced is left out of the output (no stale or
half-mapped sentence is exported in its place); with --partial it is written with the corrections that could be
mapped (the rest keeps its predicted value) and `annotation_status = partial`; with --strict the pull fails and
writes nothing. Every pull reports every sentence left out, those of earlier incremental pulls whose tasks did not
change since included (`PullReport.left_out`).

Incremental pulls: beside the output a small state file (`<output>.pull-state.json`) remembers the project id,
the policy, which task each written sentence came from, the output's sha256, and a watermark (the largest task
`updated_at` seen, capped by the server's clock when the pull began). The next pull fetches only tasks updated
after it (a Data Manager filter on `updated_at`, in the one timestamp form the server accepts) and merges them
into the existing output, in the project's task order, copying the other sentences as they were written; with
nothing fetched the output is left as it is. A different project, policy or layer set, or an output edited since
(its sha256 differs), makes a full pull. Deleted tasks are only noticed by a full pull (`full=True`,
`mudawwana pull --full`).

Metadata comments added to each written sentence: annotation_status (submitted | reviewed | majority | partial),
annotators (pseudonyms: a salted hash of the Label Studio user id, never an email; those whose annotation made
the sentence) and, when several annotators annotated the task, agreement (mean pairwise agreement over the
project's columns, 3 decimals; left out when their segmentations differ: words cannot then be aligned).
Everything else comes from the mapping. Precisely: when every prediction was accepted unchanged, the output
is byte for byte the pushed file (as corpus.conllu_io writes it: LF line ends, a blank line after each
sentence), once the comment lines `# annotation_status = `, `# annotators = ` and `# agreement = ` are deleted
from both (a line with one of these keys already in the pushed file is overwritten in place, not repeated).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from mudawwana.annotate.client import server_now
from mudawwana.annotate.policies import (POLICIES, Annotation, TaskRecord, columns_for, format_time, majority_sentence,
                                         normalize_task, parse_time, pseudonym, sentence_agreement)
from mudawwana.annotate.projects import exported_tasks, get_project_brief, project_layers
from mudawwana.corpus.conllu_io import ConlluError, format_sentence, read_conllu
from mudawwana.corpus.clitics import CLITICS
from mudawwana.corpus.data_model import META_AGREEMENT, META_ANNOTATORS, META_STATUS, Sentence
from mudawwana.corpus.errors import InputError, MudawwanaError
from mudawwana.corpus.files import atomic_writer, file_sha256, write_json_atomic
from mudawwana.corpus.ud_validator import refusal, validate_sentence
from mudawwana.corpus.ud_values import make_valid

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
STATE_SUFFIX = ".pull-state.json"
STATE_FORMAT = 1
ADDED_META = (META_STATUS, META_ANNOTATORS, META_AGREEMENT)
TYPED_COLUMNS = ("form", "lemma", "xpos")  # the columns annotators type into, rather than choose from a list
PARTIAL = "partial"  # annotation_status of a sentence written with only the corrections that could be mapped


class PullError(MudawwanaError):
    """A pull that must not write its output (--strict and an unmappable annotation)."""


@dataclass
class MappingFailure:
    task_id: int
    sent_id: str | None
    annotation_id: int
    annotator: str  # pseudonym
    reason: str
    used: bool = True  # the policy needed this annotation (so the sentence was left out, or written partial)
    partial: bool = False  # --partial: the sentence was written with the corrections that could be mapped

    @property
    def left_out(self) -> bool:
        return self.used and not self.partial

    @classmethod
    def from_state(cls, item: dict) -> MappingFailure:
        return cls(**{k: item[k] for k in ("task_id", "sent_id", "annotation_id", "annotator", "reason") if k in item},
                   used=item.get("used", True), partial=item.get("partial", False))


@dataclass
class PullReport:
    project_id: int
    project_title: str
    policy: str
    layers: tuple[str, ...]
    output: str
    incremental: bool = False
    since: str | None = None        # the updated_at filter used (None: full pull)
    fetched: int = 0                # tasks fetched from the server
    written: int = 0                # sentences (re)computed from the fetched tasks and written
    total_written: int = 0          # sentences in the output file
    unannotated: int = 0            # fetched tasks without any annotation
    skipped: int = 0                # fetched tasks whose every annotation is cancelled (skipped)
    cancelled_annotations: int = 0  # cancelled annotations ignored beside submitted ones
    unreviewed: int = 0             # policy reviewed: annotated but no reviewed annotation
    removed: int = 0                # incremental: sentences in the old output that are no longer written
    statuses: dict[str, int] = field(default_factory=dict)
    unmappable: list[MappingFailure] = field(default_factory=list)  # of the tasks fetched by this pull
    # incremental: the failures of earlier pulls whose tasks were not fetched again (their sentences are still left
    # out, or still partial)
    carried: list[MappingFailure] = field(default_factory=list)
    partial: bool = False            # --partial
    clitics: str | None = None       # --clitics (None: each sentence's own convention)
    notes: list[tuple[int, str | None, str]] = field(default_factory=list)  # (task id, sent id, note)
    watermark: str | None = None
    full_reason: str | None = None  # why a pull that could have been incremental was not
    seconds: float = 0.0

    @property
    def left_out(self) -> list[MappingFailure]:
        """Every task whose sentence is not in the output because its annotation could not be mapped: this pull's
        and those carried from earlier ones, by task id (one per task)."""
        return _by_task(f for f in (*self.carried, *self.unmappable) if f.left_out)

    @property
    def partial_sentences(self) -> list[MappingFailure]:
        """Every task written with `annotation_status = partial` (this pull's and carried ones), by task id."""
        return _by_task(f for f in (*self.carried, *self.unmappable) if f.partial)


def _by_task(failures) -> list[MappingFailure]:
    out: dict[int, MappingFailure] = {}
    for f in failures:
        out.setdefault(f.task_id, f)
    return [out[t] for t in sorted(out)]


# --- tasks ------------------------------------------------------------------------------------------------------

def iter_tasks(client, project_id: int, *, since: str | None = None) -> tuple[int, Iterator[list[TaskRecord]]]:
    """(number of tasks, chunks of TaskRecords in task order): all tasks, or those updated after `since`
    (how they are fetched: annotate/projects.py exported_tasks)."""
    total, chunks = exported_tasks(client, project_id, updated_since=since)
    return total, ([normalize_task(t) for t in chunk] for chunk in chunks)


def fetch_tasks(client, project_id: int, *, since: str | None = None) -> list[TaskRecord]:
    """All tasks (or those updated after `since`) with their annotations, in task order."""
    _, chunks = iter_tasks(client, project_id, since=since)
    return [t for chunk in chunks for t in chunk]


def normalize_since(value: str) -> str:
    """Any ISO 8601 timestamp -> 2026-11-28T07:14:58.085986Z (naive means UTC)."""
    try:
        return format_time(parse_time(value.strip()))
    except ValueError:
        raise InputError(f"--since {value!r} is not an ISO 8601 timestamp (example: 2026-11-28T07:14:58Z)") from None


# --- mapping -----------------------------------------------------------------------------------------------------

def map_annotation(task: TaskRecord, annotation: Annotation, layers: Sequence[str], *,
                   project_id: int | None = None, partial: bool = False, clitics: str | None = None,
                   ) -> tuple[Sentence | None, MappingFailure | None]:
    """The annotation's sentence, or None, and what could not be mapped, or None. With `partial` an annotation
    with problems still gives its sentence (the mappable corrections applied) next to its failure
    (`failure.partial`); a crash of the mapping, or a sentence the UD validator rejects, gives none."""
    from mudawwana.annotate.mapping import annotation_to_sentence
    from mudawwana.annotate.prediction_sentence import base_task_data

    who = pseudonym(project_id if project_id is not None else 0, annotation.user_id)
    try:
        data = base_task_data(task.data, annotation.shown_conllu)  # a re-predicted task: the shown sentence
        sentence, problems = annotation_to_sentence(data, annotation.result, layers=layers, clitics=clitics)
    except Exception as e:  # noqa: BLE001 - a mapping crash is one more unmappable annotation
        return None, MappingFailure(task.id, task.sent_id, annotation.id, who, f"{type(e).__name__}: {e}")
    failure = None
    if problems:
        reason = "; ".join(_problem_text(p) for p in problems)
        failure = MappingFailure(task.id, task.sent_id, annotation.id, who, reason, partial=partial)
        if not partial:
            return None, failure
    # What annotators type (lemmas, XPOS, the forms of re-segmented words) gets the rules model output gets (NFC,
    # no stray spaces); a sentence the UD validator still rejects is left out and reported like an unmappable one,
    # so the pulled file never fails `udvalidate --lang ar --level 2` and no one else's work is held back.
    make_valid(sentence, TYPED_COLUMNS)
    invalid = validate_sentence(sentence)
    if invalid:
        reason = refusal(task.sent_id, invalid)
        if failure is not None:
            reason = f"{failure.reason}; and what could be mapped: {reason}"
        return None, MappingFailure(task.id, task.sent_id, annotation.id, who, reason)
    return sentence, failure


def _problem_text(p) -> str:
    reason = getattr(p, "reason", None) or str(p)
    region = getattr(p, "region_id", None)
    return f"{reason} (region {region})" if region else reason


@dataclass
class _Outcome:
    kind: str  # written | unannotated | skipped | unreviewed | unmappable
    sentence: Sentence | None = None
    status: str | None = None


def resolve_task(task: TaskRecord, *, policy: str, layers: Sequence[str], project_id: int,
                 report: PullReport) -> _Outcome:
    """Apply the policy to one task; failures and notes go to the report (report.partial and report.clitics say
    how annotations are mapped)."""
    submitted = task.submitted()
    cancelled = [a for a in task.annotations if a.was_cancelled]
    if not task.annotations:
        report.unannotated += 1
        return _Outcome("unannotated")
    if not submitted:
        report.skipped += 1
        return _Outcome("skipped")
    report.cancelled_annotations += len(cancelled)
    voters = task.per_annotator()  # each annotator's latest submitted annotation, oldest first
    if policy == "reviewed":
        reviewed = [a for a in submitted if a.reviewed]
        if not reviewed:
            report.unreviewed += 1
            return _Outcome("unreviewed")
        used = [reviewed[-1]]
    elif policy == "majority":
        used = voters
    else:
        used = [submitted[-1]]

    # Map every submitted annotation the output depends on: the used ones, and the voters for the agreement.
    mapped: dict[int, Sentence] = {}
    failed_used = partial_used = False
    for a in {a.id: a for a in [*used, *voters]}.values():
        sentence, failure = map_annotation(task, a, layers, project_id=project_id, partial=report.partial,
                                           clitics=report.clitics)
        if failure is not None:
            failure.used = a in used
            report.unmappable.append(failure)
            failed_used |= failure.used and sentence is None
            partial_used |= failure.used and sentence is not None
        if sentence is not None and failure is None:
            mapped[a.id] = sentence
        elif sentence is not None and a in used:
            mapped[a.id] = sentence  # --partial: the corrections that could be mapped
    if failed_used:
        return _Outcome("unmappable")

    columns = columns_for(layers)
    if policy == "majority" and len(used) > 1:
        sentence, notes = majority_sentence([mapped[a.id] for a in used], columns)
        for note in notes:
            report.notes.append((task.id, task.sent_id, note))
        status = "majority"
    else:
        sentence = mapped[used[0].id]
        status = "reviewed" if policy == "reviewed" else "submitted"
    if partial_used:
        status = PARTIAL
    sentence.set_meta(META_STATUS, status)
    sentence.set_meta(META_ANNOTATORS, ",".join(dict.fromkeys(pseudonym(project_id, a.user_id) for a in used)))
    # A number or nothing (export reads it as a float): no value when the annotators' segmentations differ
    # (words cannot be aligned) or one of their annotations could not be mapped (reported above).
    agreement = None
    if len(voters) > 1 and all(a.id in mapped for a in voters):
        value = sentence_agreement([mapped[a.id] for a in voters], columns)
        agreement = None if value is None else f"{value:.3f}"
    sentence.set_meta(META_AGREEMENT, agreement)
    return _Outcome("written", sentence, status)


# --- state file --------------------------------------------------------------------------------------------------

def state_path_for(out_path) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + STATE_SUFFIX)


def load_state(path: Path) -> dict | None:
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else None


def write_state(path: Path, state: dict) -> None:
    write_json_atomic(path, state)


def strip_added_meta(sentence: Sentence) -> Sentence:
    """The sentence without the comments pull adds (for comparing a pull with what was pushed)."""
    for key in ADDED_META:
        sentence.set_meta(key, None)
    return sentence


# --- the pull: plan (what the previous pull leaves, from when to fetch), transfer, write -----------------------

def pull_corpus(client, project_title: str, out_path, *, policy: str = "latest", since: str | None = None,
                strict: bool = False, full: bool = False, partial: bool = False, clitics: str | None = None,
                progress: Progress | None = None) -> PullReport:
    """Write the project's corrected sentences to `out_path` (CoNLL-U, atomically); see the module docstring.

    since: fetch only tasks updated after this ISO timestamp (default: the watermark of the previous pull
    to the same output, else everything). strict: fail on any unmappable annotation, writing nothing.
    full: ignore the previous pull (fetch every task, rewrite the output). partial: write a sentence whose
    annotation could only partly be mapped, with what could be (`annotation_status = partial`), instead of leaving
    it out. clitics: how re-segmented words are written as tokens, "mwt" (multi-word tokens) or "tokens" (glued
    tokens); None: as each pushed sentence writes its clitics (annotate/mapping_tokens.py).
    """
    if policy not in POLICIES:
        raise InputError(f"unknown policy {policy!r}: choose from {', '.join(POLICIES)}")
    if clitics is not None and clitics not in CLITICS:
        raise InputError(f"unknown clitics convention {clitics!r}: choose from {', '.join(CLITICS)}")
    since = normalize_since(since) if since is not None else None  # a bad timestamp fails before any request
    start = time.perf_counter()
    out_path = Path(out_path)
    project = get_project_brief(client, project_title)
    layers = project_layers(client, project)
    report = PullReport(project_id=project.id, project_title=project.title, policy=policy, layers=tuple(layers),
                        output=str(out_path), partial=partial, clitics=clitics)
    previous = plan_pull(out_path, project.id, policy, layers, since=since, full=full, report=report)
    fetched = fetch_sentences(client, project.id, policy, layers, report, progress)
    if strict and report.unmappable:
        raise _strict_error(report, out_path)
    write_pull(out_path, project, policy, layers, previous, fetched, report)
    report.seconds = time.perf_counter() - start
    return report


@dataclass
class PreviousPull:
    """What the previous pull to the same output leaves to this one."""

    sent_ids: dict[int, str] = field(default_factory=dict)  # by task id, in task order: kept unless fetched again
    failures: list[dict] = field(default_factory=list)  # its unmappable annotations, as its state file lists them
    output: Path | None = None
    output_sha256: str | None = None  # the output is byte for byte what the previous pull wrote (its state's hash)
    parsed: dict[int, str] | None = None  # the kept sentences' texts, when they had to be read to check the output
    state: dict | None = None  # its state file

    def texts(self) -> dict[int, str]:
        """Each kept sentence's CoNLL-U text as the previous pull wrote it, by task id: read only when some task
        changed (an unchanged output is not read at all, its hash is checked in plan_pull)."""
        if self.parsed is not None:
            return self.parsed
        if not self.sent_ids:
            return {}
        # Our own file: format_sentence texts, each ending in the one blank line of the file (no sentence has an
        # empty line), in the order of the state's `written`.
        data = self.output.read_bytes()
        blocks = data.decode("utf-8").split("\n\n")[:-1]
        if hashlib.sha256(data).hexdigest() != self.output_sha256 or len(blocks) != len(self.sent_ids):
            raise PullError(f"{self.output} changed while this pull ran (it is no longer the {len(self.sent_ids)} "
                            "sentences the last pull wrote): pull again")
        return {tid: block + "\n\n" for tid, block in zip(self.sent_ids, blocks)}


def plan_pull(out_path: Path, project_id: int, policy: str, layers, *, since: str | None, full: bool,
              report: PullReport) -> PreviousPull:
    """What to keep of the previous output, and from when to fetch (report.since, .incremental, .full_reason)."""
    state = load_state(state_path_for(out_path))
    previous, why = (None, "--full") if full else _previous_pull(state, out_path, project_id, policy, layers)
    if previous is not None:
        previous, why = _same_mapping(state, report, previous)
    if since is not None:
        report.since = since
    elif previous is not None:
        report.since = state.get("watermark")
    elif state is not None or full:
        report.full_reason = why
    report.incremental = report.since is not None
    return previous or PreviousPull()


def _same_mapping(state: dict, report: PullReport, previous: PreviousPull) -> tuple[PreviousPull | None, str]:
    """The previous pull, when it mapped annotations as this one does (--partial, --clitics); else None and why."""
    if bool(state.get("partial", False)) != report.partial:
        return None, "--partial " + ("given" if report.partial else "left out") + " this time"
    if state.get("clitics") != report.clitics:
        return None, "--clitics changed"
    return previous, ""


def _previous_pull(state: dict | None, out_path: Path, project_id: int, policy: str,
                   layers) -> tuple[PreviousPull | None, str]:
    """The previous pull's sentences and failures when this pull can build on them; else None and why not.

    The output must be what the previous pull wrote: the sha256 its state records (reading 10,000 sentences'
    file for its hash takes ~50 ms, parsing it ~1 s). A state file without the hash (written by an older version)
    has its output parsed and compared sentence by sentence instead."""
    usable, why = _previous_usable(state, project_id, policy, layers, out_path)
    if not usable:
        return None, why
    written = {int(t): sid for t, sid in state.get("written", {}).items()}
    failures = state.get("unmappable", [])
    recorded = state.get("output_sha256")
    if recorded is not None:
        try:
            digest = file_sha256(out_path)
        except OSError as e:
            return None, f"could not read the previous output ({e})"
        if digest != recorded:
            return None, "the output was changed since the last pull"
        return PreviousPull(written, failures, output=out_path, output_sha256=digest, state=state), ""
    try:
        by_sid = {s.sent_id: s for s in read_conllu(out_path)}
    except (ConlluError, OSError) as e:
        return None, f"could not read the previous output ({e})"
    if set(by_sid) != set(written.values()) or len(by_sid) != len(written):
        return None, "the output was changed since the last pull"
    return PreviousPull(written, failures, output=out_path, state=state,
                        parsed={tid: format_sentence(by_sid[sid]) for tid, sid in written.items()}), ""


def _previous_usable(state: dict | None, project_id: int, policy: str, layers, out_path: Path) -> tuple[bool, str]:
    if state is None:
        return False, "no previous pull"
    if state.get("project_id") != project_id:
        return False, f"the previous pull was from another project (id {state.get('project_id')})"
    if state.get("policy") != policy:
        return False, f"the previous pull used the policy {state.get('policy')!r}"
    if tuple(state.get("layers") or ()) != tuple(layers):
        return False, "the project's layers changed"
    if not out_path.exists():
        return False, "the previous output is gone"
    if not state.get("watermark"):
        return False, "the previous pull recorded no watermark"
    return True, ""


@dataclass
class FetchedSentences:
    sentences: dict[int, Sentence | None] = field(default_factory=dict)  # per fetched task; None: not written
    newest: datetime | None = None   # the latest updated_at among the fetched tasks
    started: datetime | None = None  # the server's clock when fetching began


def fetch_sentences(client, project_id: int, policy: str, layers: Sequence[str], report: PullReport,
                    progress: Progress | None) -> FetchedSentences:
    """Fetch the tasks updated after report.since (every task without it) and resolve each with the policy as
    its chunk arrives, while the next chunk downloads. Counts and failures go to the report."""
    if progress:
        progress(0, None)
    fetched = FetchedSentences(started=server_now(client))
    total, chunks = iter_tasks(client, project_id, since=report.since)
    for chunk in chunks:
        for task in chunk:
            report.fetched += 1
            if task.updated_at:
                updated = parse_time(task.updated_at)
                fetched.newest = max(fetched.newest, updated) if fetched.newest else updated
            outcome = resolve_task(task, policy=policy, layers=layers, project_id=project_id, report=report)
            fetched.sentences[task.id] = outcome.sentence
            if outcome.kind == "written":
                report.written += 1
                report.statuses[outcome.status] = report.statuses.get(outcome.status, 0) + 1
        if progress:
            progress(report.fetched, total)
    return fetched


def _strict_error(report: PullReport, out_path: Path) -> PullError:
    first = "; ".join(f"task {f.task_id} ({f.sent_id}): {f.reason}" for f in report.unmappable[:3])
    more = f" (and {len(report.unmappable) - 3} more)" if len(report.unmappable) > 3 else ""
    return PullError(f"{len(report.unmappable)} annotation(s) cannot be mapped back to CoNLL-U{more}: {first}; "
                     f"nothing written to {out_path} (--strict)")


def write_pull(out_path: Path, project, policy: str, layers, previous: PreviousPull, fetched: FetchedSentences,
               report: PullReport) -> None:
    """The previous sentences updated with the fetched ones, in task order, then the state file for the next pull
    (each written atomically). report.removed, .watermark and .total_written are set here.

    Nothing fetched and an output that is still what the previous pull wrote: it is not rewritten (it would come
    out byte-identical), nor is the state file when only its `pulled_at` would change. Otherwise the kept
    sentences are copied as the previous pull wrote them, without parsing them again."""
    sent_ids = dict(previous.sent_ids)
    texts: dict[int, str] = {}
    for tid, sentence in fetched.sentences.items():
        if sentence is None:
            report.removed += sent_ids.pop(tid, None) is not None
        else:
            sent_ids[tid] = sentence.sent_id
            texts[tid] = format_sentence(sentence)
    order = sorted(sent_ids)
    _check_unique_sent_ids(sent_ids, order)
    report.watermark = _watermark(fetched, report.since)
    carried = [f for f in previous.failures if f.get("task_id") not in fetched.sentences]
    report.carried = [MappingFailure.from_state(f) for f in carried]
    failures = carried + [asdict(f) for f in report.unmappable]

    if fetched.sentences or previous.output_sha256 is None:
        if len(texts) < len(order):
            texts = {**previous.texts(), **texts}
        digest = hashlib.sha256()
        with atomic_writer(out_path) as f:
            for tid in order:
                f.write(texts[tid])
                digest.update(texts[tid].encode("utf-8"))
        output_sha256 = digest.hexdigest()
    else:
        output_sha256 = previous.output_sha256
    report.total_written = len(order)
    state = {
        "format": STATE_FORMAT,
        "project_id": project.id,
        "project_title": project.title,
        "policy": policy,
        "layers": list(layers),
        "partial": report.partial,
        "clitics": report.clitics,
        "watermark": report.watermark,
        "pulled_at": format_time(datetime.now(timezone.utc)),
        "written": {str(tid): sent_ids[tid] for tid in order},
        "output_sha256": output_sha256,
        "unmappable": failures,
    }
    if previous.state is not None and {**previous.state, "pulled_at": None} == {**state, "pulled_at": None}:
        return  # the state file says it already (its pulled_at is that of the last pull that changed something)
    write_state(state_path_for(out_path), state)


def _watermark(fetched: FetchedSentences, since: str | None) -> str | None:
    """The newest task seen, but not later than the server's clock when fetching began (a task updated while we
    fetched may have been read before its change; fetching it again costs nothing); never before `since`."""
    newest = fetched.newest
    if fetched.started is not None and newest is not None:
        newest = min(newest, fetched.started - timedelta(seconds=1))
    candidates = [x for x in (newest, parse_time(since) if since else None) if x is not None]
    return format_time(max(candidates)) if candidates else None


def _check_unique_sent_ids(sent_ids: dict[int, str], order: list[int]) -> None:
    seen: dict[str, int] = {}
    for tid in order:
        sid = sent_ids[tid]
        if sid in seen:
            raise PullError(f"tasks {seen[sid]} and {tid} both hold sentence {sid!r} (pushed twice by another tool?): "
                            "delete one in Label Studio and pull again")
        seen[sid] = tid


__all__ = ["pull_corpus", "PullReport", "MappingFailure", "PullError", "fetch_tasks", "map_annotation",
           "resolve_task", "state_path_for", "load_state", "strip_added_meta", "normalize_since",
           "ADDED_META", "PARTIAL"]
