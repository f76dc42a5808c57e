"""Step 5 of a round (annotate/retrain.py): every task nobody has annotated gets the deployed model's prediction.

Per task: its sentence is tagged again with the new model, keeping its tokens and words (as `mudawwana tag` does for
CoNLL-U input; entities too, by the new NER when the model has one), a prediction with the new model_version is
added, its data (`conllu`, `model_version`) is updated, and the project's model version is set to the new one, so
annotators see it. Tasks with annotations (submitted, skipped) or drafts are never touched: each CHECK_EVERY tasks
are checked again, from their annotation rows, just before they are written.

Where the time goes, and what was done about it (measured on the 2-core machine, docs/label-studio.md
"Re-predicting existing tasks"):
- tagging, building and validating each task's new prediction (`prepare`, ~5 ms a task): done ahead, on the
  second core while the tokenizer still trains (annotate/retrain_ahead.py); used only when the task's CoNLL-U
  and layers are still the ones it was prepared from and the model files are byte-identical to the installed
  ones, otherwise the task is prepared here;
- predictions: one request per REPREDICT_BATCH tasks (`import/predictions` costs ~0.5 s a request, 50 or 200
  predictions alike: 4 x 50 took 2.35 s, 1 x 200 0.77 s), right after one more check of the batch; the checks
  likewise (4 x 50 tasks 1.03 s, 1 x 200 0.75 s);
- the task data: Label Studio 1.23 has no bulk update of task data (read in its sources: the import endpoints
  always create tasks, the Data Manager's "add/modify data field" sets one value for all tasks), so it is one
  PATCH per task, ~0.14 s each on a quiet server, ~0.11 s with `?review=true` (the server's light fetch of the
  task before the write: projects.update_task_data); two client threads bring it to ~0.085 s (the server
  parses and answers one while the other writes), four to 0.079. A task whose new tagging is exactly its stored sentence
  (every column, entities included) is not PATCHed: its data stays as it is, naming the model that produced the
  same sentence first;
- with `update_data` False (`--predictions-only`) no PATCH at all: the hidden columns (XPOS, FEATS without the
  feats layer; heads and relations without deps) stay the previous model's.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from mudawwana.annotate.projects import (count_tasks, import_predictions, list_tasks, set_model_version,
                                         split_annotated, unannotated_query, update_task_data,
                                         updated_after)
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu
from mudawwana.corpus.data_model import META_MODEL_VERSION, Sentence

log = logging.getLogger(__name__)

REPREDICT_BATCH = 500  # tasks written per predictions import (one request: ~0.5 s for 50 or for 200 alike)
CHECK_EVERY = 100  # task data PATCHed between two reads of their annotation rows (~0.5 s a read, 50 or 100)
PATCH_THREADS = 2  # concurrent task-data updates (measured: 1 -> 0.14 s/task, 2 -> 0.085, 4 -> 0.079)
TASK_FIELDS = "id,data,total_annotations,cancelled_annotations,drafts,predictions_model_versions"
PENDING = "pending"  # the model_version a task is prepared with ahead, before the new model's version is known

# sub(done, total): progress inside the step
Sub = Callable[[int, int], None]


def list_unannotated(client, project_id: int) -> tuple[int, list[dict]]:
    """(number of tasks, the tasks nobody has started, in the labeling stream's order, with their data). Only
    those the counters call unannotated are listed (the server's cost is per task listed)."""
    tasks = list_tasks(client, project_id, fields="all", page_size=1000, include=TASK_FIELDS,
                       query=unannotated_query())
    return count_tasks(client, project_id), sorted((t for t in tasks if unannotated(t)), key=lambda t: t["id"])


def list_unannotated_since(client, project_id: int, listed: tuple[str, list[dict]]) -> tuple[int, list[dict]]:
    """list_unannotated from an earlier listing (`listed`: (server time it began, its tasks)) and the tasks
    updated since (annotated, new, changed: one filtered request, usually answering none)."""
    since, tasks = listed
    by_id = {t["id"]: t for t in tasks}
    for t in list_tasks(client, project_id, fields="all", page_size=1000, include=TASK_FIELDS,
                        query=updated_after(since)):
        by_id[t["id"]] = t
    return count_tasks(client, project_id), sorted((t for t in by_id.values() if unannotated(t)),
                                                   key=lambda t: t["id"])


def repredict(client, project, layers: tuple[str, ...], model_dir: Path, version: str, device: str, sub: Sub,
              update_data: bool = True, pretagged: dict[int, dict] | None = None,
              module=None, listed: tuple[str, list[dict]] | None = None) -> dict:
    """Re-predict every unannotated task with the model in `model_dir` (see the module docstring).

    Per task, idempotent: its data is updated unless it already holds this version's sentence (or the same
    sentence), and a prediction is added unless one of this version exists, so a resumed run only finishes what is
    missing. `pretagged`: task id -> what `prepare` made of it ahead, with the sha1 of the `conllu` it was made from
    (used only while the task's `conllu` is still that one). `module`: where REPREDICT_BATCH and
    CHECK_EVERY are read (tests make them small through annotate.retrain). `listed`: (server time, tasks) of a
    listing made ahead in this same run (nothing of this round was written since), brought up to date with the
    tasks updated since instead of listing again; a deleted task is then simply left out by the checks."""
    from mudawwana.annotate.config import build_config

    batch_size = getattr(module, "REPREDICT_BATCH", REPREDICT_BATCH)
    check_every = getattr(module, "CHECK_EVERY", CHECK_EVERY)
    started = time.monotonic()
    total, todo = list_unannotated_since(client, project.id, listed) if listed else list_unannotated(client, project.id)
    counts = {"tasks": total, "unannotated": len(todo), "annotated_untouched": total - len(todo),
              "updated": 0, "unchanged": [], "predictions_added": 0, "already_done": 0, "annotated_meanwhile": 0,
              "not_repredicted": [], "tagged_ahead": 0, "tagged_here": 0, "task_data_updated": update_data,
              "update_seconds": 0.0}
    config = build_config(layers)
    tagger = _Tagger(model_dir, device)
    sub(0, len(todo))
    with ThreadPoolExecutor(max_workers=PATCH_THREADS, thread_name_prefix="repredict") as pool:
        for k in range(0, len(todo), batch_size):
            batch = todo[k:k + batch_size]
            need = [t for t in batch if not _done(t, version, update_data)]
            prepared, here = {}, []
            for t in need:
                data = t.get("data") or {}
                if data.get("model_version") == version:
                    continue  # its data was updated by an interrupted run: _plan_task reads the sentence there
                entry = (pretagged or {}).get(t["id"])
                if entry is not None and entry["sha1"] == conllu_sha1(data.get("conllu")) \
                        and entry["layers"] == list(data.get("layers") or layers):
                    entry = with_version(entry, version)
                if entry is not None and "sha1" not in entry:
                    prepared[t["id"]] = entry
                else:
                    here.append(t)
            counts["tagged_ahead"] += len(prepared)
            if here:
                done_here = tagger.retag(here, version)
                for tid, (data, sentence) in done_here.items():
                    prepared[tid] = prepare(sentence, data, layers, config, version)
                counts["tagged_here"] += len(done_here)
            # the data: PATCHes, each CHECK_EVERY tasks checked just before
            planned: dict[int, tuple] = {}
            for j in range(0, len(batch), check_every if update_data else len(batch)):
                chunk = batch[j:j + check_every] if update_data else batch
                still = set(split_annotated(client, project.id, [t["id"] for t in chunk])[0])
                for t in chunk:
                    if t["id"] in still:
                        planned[t["id"]] = _plan_task(t, prepared.get(t["id"]), layers, config, version, counts,
                                                      update_data)
                patches = [planned[t["id"]] for t in chunk if planned.get(t["id"]) and planned[t["id"]][1]]
                t0 = time.monotonic()
                for _ in pool.map(lambda w: update_task_data(client, w[0], w[1]), patches):
                    pass
                counts["update_seconds"] += time.monotonic() - t0
                counts["updated"] += len(patches)
                if update_data and j + check_every < len(batch):  # (the batch's end: once its predictions are in)
                    sub(k + j + len(chunk), len(todo))
            # the predictions: one request for the batch (~0.5 s a request, whatever its size), right after one
            # more check of the batch (with data updates, the first tasks were checked a few seconds ago)
            still = set(split_annotated(client, project.id, list(planned))[0]) if update_data else set(planned)
            counts["annotated_meanwhile"] += sum(1 for t in batch if t["id"] not in still)
            predictions = [planned[tid][2] for tid in planned if tid in still and planned[tid] and planned[tid][2]]
            counts["predictions_added"] += import_predictions(client, project.id, predictions)
            sub(k + len(batch), len(todo))
    counts["annotated_untouched"] += counts["annotated_meanwhile"]
    counts["update_seconds"] = round(counts["update_seconds"], 1)
    set_model_version(client, project.id, version)
    counts["project_model_version"] = version
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def _done(task: dict, version: str, update_data: bool) -> bool:
    """Re-predicted by an earlier, interrupted run: it has this version's prediction (and data, if updated)."""
    return version in _versions(task) and (not update_data or (task.get("data") or {}).get("model_version") == version)


def _plan_task(t: dict, entry: dict | None, layers, config: str, version: str, counts: dict,
               update_data: bool = True) -> tuple[int, dict | None, dict | None] | None:
    """(task id, its new data or None, its new prediction or None) for one task (`entry`: what `prepare` made of
    it); None when nothing is written."""
    if _done(t, version, update_data):
        counts["already_done"] += 1
        return None
    data = t.get("data") or {}
    if entry is None and data.get("model_version") == version:
        sentence = task_sentence(data)  # updated by an interrupted run: its prediction may be missing
        if sentence is not None:
            entry = prepare(sentence, data, layers, config, version)
    if entry is None:
        counts["not_repredicted"].append(t["id"])
        return None
    if entry["errors"] or not entry["words_kept"]:
        # the words view must stay the same: an annotator may have the task open
        counts["not_repredicted"].append(t["id"])
        log.warning("task %s: not re-predicted (%s)", t["id"], "; ".join(entry["errors"]) or "its words changed")
        return None
    new_data = None
    if update_data and data.get("model_version") != version:
        if entry["same"]:
            counts["unchanged"].append(t["id"])  # the data already holds this very sentence: nothing to update
        else:
            new_data = {**data, "conllu": entry["conllu"], "model_version": version}
    prediction = None
    if version not in _versions(t):  # (present: its data was missing after an interrupted run)
        prediction = {"task": t["id"], "result": entry["result"], "model_version": version}
    if new_data is None and prediction is None:
        return None
    return t["id"], new_data, prediction


def prepare(sentence: Sentence, data: dict, layers, config: str, version: str) -> dict:
    """What re-predicting writes for one task whose sentence the new model tagged (version `version`): the task's
    new CoNLL-U, its prediction's result, the validation errors, whether its words view is kept and whether the
    stored sentence is already this one. JSON, so the second process can make it (with version PENDING)."""
    from mudawwana.annotate.tasks import sentence_to_task, validate_task

    task_layers = tuple(data.get("layers") or layers)
    task = sentence_to_task(sentence, layers=task_layers, model_version=version)
    return {"conllu": task["data"]["conllu"], "result": task["predictions"][0]["result"],
            "errors": validate_task(config, task), "layers": list(task_layers),
            "words_kept": task["data"]["words"] == data.get("words") and task["data"]["text"] == data.get("text"),
            "same": _same_sentence(data.get("conllu"), task["data"]["conllu"], version)}


def with_version(entry: dict, version: str) -> dict | None:
    """A task prepared ahead (version PENDING) with the new model's version (None if it is not one)."""
    pending = f"# {META_MODEL_VERSION} = {PENDING}\n"
    if pending not in entry.get("conllu", ""):
        return None
    out = {k: v for k, v in entry.items() if k != "sha1"}
    out["conllu"] = entry["conllu"].replace(pending, f"# {META_MODEL_VERSION} = {version}\n", 1)
    return out


def _same_sentence(stored: str | None, new: str, version: str) -> bool:
    """Whether the stored CoNLL-U is the new one but for the model_version comment."""
    old = task_sentence({"conllu": stored}) if stored else None
    if old is None:
        return False
    old.set_meta(META_MODEL_VERSION, version)
    return format_sentence(old) == new


def unannotated(task: dict) -> bool:
    """No annotation at all (submitted or skipped) and no draft: a task nobody has started. (The counters are
    only a first filter: the rows themselves are read again just before writing, `split_annotated`.)"""
    return not task.get("total_annotations") and not task.get("cancelled_annotations") and not task.get("drafts")


def _versions(task: dict) -> set[str]:
    value = task.get("predictions_model_versions") or ""
    if isinstance(value, list):
        return {str(v) for v in value}
    return {v.strip() for v in str(value).split(",") if v.strip()}


def task_sentence(data: dict) -> Sentence | None:
    try:
        sentences = parse_conllu(data["conllu"])
    except Exception:  # noqa: BLE001 - a task not made by push: not re-predicted, reported
        return None
    return sentences[0] if len(sentences) == 1 else None


def conllu_sha1(text: str | None) -> str | None:
    import hashlib

    return None if text is None else hashlib.sha1(text.encode("utf-8")).hexdigest()


class _Tagger:
    """The model's pipelines, loaded on first use (a resumed run that finds everything tagged loads none)."""

    def __init__(self, model_dir: Path, device: str):
        self.model_dir, self.device, self.pipelines = model_dir, device, None

    def retag(self, tasks: list[dict], version: str) -> dict[int, tuple[dict, Sentence]]:
        """task id -> (its data, its sentence tagged again); tasks whose CoNLL-U cannot be read are left out."""
        sentences = {}
        for t in tasks:
            s = task_sentence(t.get("data") or {})
            if s is not None and s.words:
                sentences[t["id"]] = (t.get("data") or {}, s)
        if not sentences:
            return {}
        if self.pipelines is None:
            self.pipelines = load_retaggers(self.model_dir, self.device)
        retag_sentences(self.pipelines, [s for _, s in sentences.values()], version)
        return sentences


def load_retaggers(model_dir: Path, device: str = "cpu"):
    """(pos/lemma/depparse pipeline on given words, NER pipeline on given tokens or None)."""
    from mudawwana.corpus.stanza_models import load_pipeline
    from mudawwana.corpus.train_ner import ner_pipeline

    tagger = load_pipeline(model_dir, processors="tokenize,pos,lemma,depparse", pretokenized=True,
                           device=device)[0]
    return tagger, ner_pipeline(model_dir, device=device)


def retag_sentences(pipelines, sentences: list[Sentence], version: str) -> None:
    """Tag the sentences again in place, tokens and words kept (the CoNLL-U path of `tag`); their entities too
    when the model has NER (without, they keep theirs)."""
    from mudawwana.corpus.from_stanza import tag_tokenized_documents
    from mudawwana.corpus.readers import TokenizedDocument
    from mudawwana.corpus.train_ner import tag_entities

    tagger, ner = pipelines
    docs = [TokenizedDocument(doc_id=s.doc_id or str(i), sentences=[s], source=f"sentence {i}")
            for i, s in enumerate(sentences)]
    for _ in tag_tokenized_documents(tagger, docs, version):
        pass  # tags the sentences in place
    if ner is not None:
        for s, ents in zip(sentences, tag_entities(ner, sentences)):
            s.set_entities(ents)
    for s in sentences:
        s.set_meta(META_MODEL_VERSION, version)
