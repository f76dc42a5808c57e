"""Step 5 of a round (annotate/retrain.py): every task nobody has annotated gets the deployed model's prediction.

Per task: its sentence is tagged again with the new model, keeping its tokens and words (as `mudawwana tag` does for
CoNLL-U input; entities too, by the new NER when the model has one), a prediction with the new model_version is
added, carrying the whole new sentence (annotate/prediction_sentence.py: what the config hides, XPOS, FEATS, heads,
comes from it when the annotation is pulled), and the project's model version is set to the new one, so annotators
see it. The task's data is not written: Label Studio records with each annotation the prediction it was made from.
Tasks with annotations (submitted, skipped) or drafts are never touched: each batch is checked again, from its
annotation rows, just before its predictions are written.

Where the time goes, and what was done about it (measured on the 2-core machine, docs/label-studio.md
"Re-predicting existing tasks"):
- tagging, building and validating each task's new prediction (`prepare`, ~5 ms a task): done ahead, on the
  second core while the tokenizer still trains (annotate/retrain_ahead.py); used only when the task's CoNLL-U
  and layers are still the ones it was prepared from and the model files are byte-identical to the installed
  ones, otherwise the task is prepared here;
- predictions: one request per REPREDICT_BATCH tasks (`import/predictions` costs ~0.5 s a request, 50 or 200
  predictions alike: 4 x 50 took 2.35 s, 1 x 200 0.77 s), right after one check of the batch (1 x 200 tasks 0.75 s,
  4 x 50 1.03 s);
- no task-data update: Label Studio 1.23 has no bulk one (one PATCH per task, ~0.07 s with two threads), which cost
  rounds +43 %, +27 %, +13 % of their training before the sentence moved into the prediction.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from mudawwana.annotate.prediction_sentence import with_sentence
from mudawwana.annotate.projects import (count_tasks, import_predictions, list_tasks, set_model_version,
                                         split_annotated, tasks_by_id, unannotated_query, updated_after)
from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.corpus.data_model import META_MODEL_VERSION, Sentence

log = logging.getLogger(__name__)

REPREDICT_BATCH = 500  # tasks written per predictions import (one request: ~0.5 s for 50 or for 200 alike)
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
              pretagged: dict[int, dict] | None = None, module=None,
              listed: tuple[str, list[dict]] | None = None) -> dict:
    """Re-predict every unannotated task with the model in `model_dir` (see the module docstring).

    Per task, idempotent: a prediction is added unless one of this version exists, so a resumed run only finishes
    what is missing. `pretagged`: task id -> what `prepare` made of it ahead, with the sha1 of the `conllu` it was
    made from (used only while the task's `conllu` is still that one). `module`: where REPREDICT_BATCH is read
    (tests make it small through annotate.retrain). `listed`: (server time, tasks) of a listing made ahead in this
    same run (nothing of this round was written since), brought up to date with the tasks updated since instead of
    listing again; a deleted task is then simply left out by the checks."""
    from mudawwana.annotate.config import build_config

    batch_size = getattr(module, "REPREDICT_BATCH", REPREDICT_BATCH)
    started = time.monotonic()
    total, todo = list_unannotated_since(client, project.id, listed) if listed else list_unannotated(client, project.id)
    counts = {"tasks": total, "unannotated": len(todo), "annotated_untouched": total - len(todo),
              "predictions_added": 0, "already_done": 0, "annotated_meanwhile": 0, "not_repredicted": [],
              "tagged_ahead": 0, "tagged_here": 0}
    config = build_config(layers)
    tagger = _Tagger(model_dir, device)
    sub(0, len(todo))
    for k in range(0, len(todo), batch_size):
        batch = todo[k:k + batch_size]
        need = [t for t in batch if version not in _versions(t)]
        counts["already_done"] += len(batch) - len(need)
        prepared, here = {}, []
        for t in need:
            data = t.get("data") or {}
            entry = (pretagged or {}).get(t["id"])
            if entry is not None and entry["sha1"] == conllu_sha1(data.get("conllu")) \
                    and entry["layers"] == list(data.get("layers") or layers):
                entry = with_version(entry, version)
                if entry is not None:
                    prepared[t["id"]] = entry
                    continue
            here.append(t)
        counts["tagged_ahead"] += len(prepared)
        if here:
            done_here = tagger.retag(here, version)
            for tid, (data, sentence) in done_here.items():
                prepared[tid] = prepare(sentence, data, layers, config, version)
            counts["tagged_here"] += len(done_here)
        # one check of the batch's annotation rows, right before its predictions go in (one request)
        still = set(split_annotated(client, project.id, [t["id"] for t in need])[0]) if need else set()
        counts["annotated_meanwhile"] += len(need) - len(still)
        predictions = [p for t in need if t["id"] in still
                       and (p := _prediction(t["id"], prepared.get(t["id"]), version, counts)) is not None]
        created = import_predictions(client, project.id, predictions)
        counts["predictions_added"] += created
        if created < len(predictions):
            _refused(client, project.id, [p["task"] for p in predictions], version, counts)
        sub(k + len(batch), len(todo))
    counts["annotated_untouched"] += counts["annotated_meanwhile"]
    set_model_version(client, project.id, version)
    counts["project_model_version"] = version
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def _refused(client, project_id: int, task_ids: list[int], version: str, counts: dict) -> None:
    """The server created fewer predictions than it was sent (Label Studio 1.23 leaves out, logging only, a
    prediction its config check refuses): which tasks still lack this version's, reported, never silently."""
    listed = tasks_by_id(client, project_id, task_ids, include="id,predictions_model_versions")
    missing = sorted(t["id"] for t in listed if version not in _versions(t))
    counts["not_repredicted"].extend(missing)
    log.warning("Label Studio refused the prediction of %d task(s) (see its log): %s", len(missing),
                ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else ""))


def _prediction(task_id: int, entry: dict | None, version: str, counts: dict) -> dict | None:
    """The new prediction of one task (`entry`: what `prepare` made of it), its sentence carried; None when the
    task cannot be re-predicted (reported)."""
    if entry is None or entry["errors"] or not entry["words_kept"]:
        # the words view must stay the same: an annotator may have the task open
        counts["not_repredicted"].append(task_id)
        why = "its CoNLL-U cannot be read" if entry is None else "; ".join(entry["errors"]) or "its words changed"
        log.warning("task %s: not re-predicted (%s)", task_id, why)
        return None
    return {"task": task_id, "result": with_sentence(entry["result"], entry["conllu"]), "model_version": version}


def prepare(sentence: Sentence, data: dict, layers, config: str, version: str) -> dict:
    """What re-predicting writes for one task whose sentence the new model tagged (version `version`): the
    sentence's CoNLL-U, its prediction's result (checked against the config before the sentence item is added),
    the validation errors and whether its words view is kept. JSON, so the second process can make it (with
    version PENDING)."""
    from mudawwana.annotate.tasks import sentence_to_task, validate_task

    task_layers = tuple(data.get("layers") or layers)
    task = sentence_to_task(sentence, layers=task_layers, model_version=version)
    return {"conllu": task["data"]["conllu"], "result": task["predictions"][0]["result"],
            "errors": validate_task(config, task), "layers": list(task_layers),
            "words_kept": task["data"]["words"] == data.get("words") and task["data"]["text"] == data.get("text")}


def with_version(entry: dict, version: str) -> dict | None:
    """A task prepared ahead (version PENDING) with the new model's version (None if it is not one)."""
    pending = f"# {META_MODEL_VERSION} = {PENDING}\n"
    if pending not in entry.get("conllu", ""):
        return None
    out = {k: v for k, v in entry.items() if k != "sha1"}
    out["conllu"] = entry["conllu"].replace(pending, f"# {META_MODEL_VERSION} = {version}\n", 1)
    return out


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
