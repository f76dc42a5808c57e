"""One retraining round: the annotators' corrections retrain the tagger, the unannotated tasks get its predictions.

`retrain()` runs the steps of a round, each a function below:

1. `_pull`: the project's corrected sentences (annotate/pull.py, with its policies: only submitted, mappable
   annotations), pulled incrementally into the work dir; how many are new or changed since the last round
   (a hash of each sentence's CoNLL-U); fewer than `min_new` is nothing to do;
2. `_snapshot`: split by document with the export's split (corpus/splits.py): the test documents are held
   out, in every round, so they are never trained on and the rounds stay comparable; the training data is
   BASE (minus its dev part) plus the corrections' train documents, the dev data BASE's dev part (or `dev`)
   plus the corrections' validation documents; all written into the round's folder;
3. `_train`: corpus/train.py's train() (stanza's own trainers: tokenize, mwt when the data has multi-word
   tokens, pos, lemma, depparse, and ner when the project has the `ner` layer and its corrections carry
   entities) into the round's `candidate/`. Meanwhile a second process (annotate/retrain_ahead.py) scores the
   previous model on the held-out corrections, and tags the unannotated tasks again as soon as the models that
   needs are saved (train() runs them first), so little is left to do once training ends;
4. `_evaluate`: the model that pre-annotated the round and the candidate, both end to end on the held-out
   corrections (corpus/train.py score_end_to_end: udtools' udeval, the CoNLL 2018 metrics); the candidate is
   deployed when it is better on LAS or UPOS, or with `force`;
5. `_install` and re-predicting (annotate/retrain_repredict.py): the candidate becomes MODEL_DIR (staged,
   swapped in whole), then every task without an annotation (none submitted, none skipped, no draft) gets the
   new model's tagging, keeping the task's tokens and words (as `mudawwana tag` does for CoNLL-U input): a
   prediction with the new model_version, carrying the whole new sentence (annotate/prediction_sentence.py), is
   added, and the project's model version set to it, so annotators see the new one. Tasks with annotations are
   never touched. A model that is not deployed changes nothing in Label Studio.

Files, beside MODEL_DIR (MODEL_DIR itself is always a complete model directory, `tag --model-dir` loads it):
- `MODEL_DIR.rounds.json`: every finished round (model versions, data sizes, held-out scores of both models,
  the decision, what was re-predicted, timings) and the round in progress with the step it reached;
- `MODEL_DIR.retrain/`: the pulled corrections and their pull state, `used.json` (the hash of every
  corrected sentence the last round used) and, while a round runs, `round-N/` (its data and candidate).

Resumable: each step's result is recorded before the next starts, and every write is atomic or staged, so a
killed round rerun with the same settings continues from the step it reached (a training cut off restarts,
a re-prediction skips the tasks already done); with other settings it starts over cleanly. Safe from cron:
a lock file keeps two rounds from running at once, and too few new corrections exit quietly.

NER (corpus/train_ner.py: stanza's own trainer, offline, `--no_pretrain`, no charlm) is trained when the project
has the `ner` layer (so annotators saw and corrected entities) and its corrected sentences carry entities. It
learns from the corrections' train documents, plus BASE's only when BASE itself carries entities (a treebank
without NER would teach "O" everywhere), and is scored on the held-out corrections (entity F1, both models);
re-predicted tasks then get its entities. When it is not trained, the round record (`ner`), the log and the
command say why (no `ner` layer, no entities), and re-predicted tasks keep their entities.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from mudawwana.annotate import retrain_ahead
from mudawwana.annotate.projects import get_project, project_layers
# REPREDICT_BATCH is read from this module at run time (tests make it small here)
from mudawwana.annotate.retrain_repredict import REPREDICT_BATCH, repredict  # noqa: F401
from mudawwana.corpus.conllu_io import format_sentence, read_conllu, write_conllu
from mudawwana.corpus.data_model import Sentence
from mudawwana.corpus.errors import InputError, MudawwanaError
from mudawwana.corpus.files import file_sha256, staged_directory, write_json_atomic
from mudawwana.corpus.splits import DEFAULT_RATIOS, SPLITS, document_key, parse_ratios, split_sentences

log = logging.getLogger(__name__)

STATE_FORMAT = 1
ROUNDS_SUFFIX = ".rounds.json"
WORK_SUFFIX = ".retrain"
DEFAULT_MIN_NEW = 50
BETTER_ON = ("LAS", "UPOS")  # the candidate is deployed when it beats the previous model on either
SCORES = ("Tokens", "Words", "UPOS", "XPOS", "UFeats", "Lemmas", "UAS", "LAS")  # the ones a report shows
DEV_FRACTION = 0.1  # of BASE, from its end, as train() holds it out when it has no --dev
AHEAD = "ahead"  # the round folder's sub-folder of the second process (annotate/retrain_ahead.py)

# progress(description, done, total): steps done of the round's steps
Progress = Callable[[str, int, int], None]
_STEPS = ("pull", "train", "evaluate", "install", "re-predict")


class RetrainError(MudawwanaError):
    """A round cannot run (another one is running, the state belongs to another project, ...)."""


@dataclass
class RoundResult:
    """What `retrain()` did: `status` is one of
    - "nothing-new": fewer new corrections than min_new since the last round; nothing changed anywhere;
    - "no-heldout": no corrected document falls in the test split yet, so a new model could not be compared;
      nothing changed (rerun when more are annotated, or force);
    - "deployed": the new model is MODEL_DIR and the unannotated tasks carry its predictions;
    - "rejected": the new model scored worse; nothing changed in Label Studio or in MODEL_DIR."""

    status: str
    message: str
    round: int | None = None
    record: dict | None = None  # the round's entry in MODEL_DIR.rounds.json
    new_corrections: int = 0
    corrections: int = 0
    resumed_from: str | None = None  # the step a killed round was continued from
    notes: list[str] = field(default_factory=list)


def rounds_path_for(model_dir: str | Path) -> Path:
    model_dir = Path(model_dir)
    return model_dir.with_name(model_dir.name + ROUNDS_SUFFIX)


def work_dir_for(model_dir: str | Path) -> Path:
    model_dir = Path(model_dir)
    return model_dir.with_name(model_dir.name + WORK_SUFFIX)


def load_rounds(model_dir: str | Path) -> dict:
    """MODEL_DIR.rounds.json (an empty state when there is none yet)."""
    path = rounds_path_for(model_dir)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _empty_state()
    except (OSError, ValueError) as e:
        raise RetrainError(f"{path} cannot be read ({e}): restore it, or move it away to start the rounds "
                           "over") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise RetrainError(f"{path} is not a rounds file of this mudawwana version: move it away to start over")
    return state


def _empty_state() -> dict:
    return {"format": STATE_FORMAT, "project_id": None, "project_title": None, "ratios": None,
            "current_model": None, "rounds": [], "in_progress": None}


def retrain(client, project_title: str, base: str | Path, model_dir: str | Path, *, size: str = "small",
            min_new: int = DEFAULT_MIN_NEW, force: bool = False, policy: str = "latest",
            previous_model: str | Path | None = None, dev: str | Path | None = None,
            ratios: str | Sequence[float] = DEFAULT_RATIOS, max_steps: int | None = None,
            threads: int | None = None, device: str = "cpu",
            progress: Progress | None = None, overlap: bool | None = None) -> RoundResult:
    """Run one round for the project (see the module docstring); returns what it did.

    base: the CoNLL-U the tagger always trains on (e.g. the treebank the first model came from). model_dir: where
    the deployed model lives (-o). previous_model: the model that pre-annotated the project, for the first round
    (default: the last round's, else MODEL_DIR when it holds a model, else stanza's official Arabic models).
    force: deploy even a worse model, and run even with fewer than min_new new corrections.
    overlap: score the previous model and tag the tasks on a second process while training
    (annotate/retrain_ahead.py); None: when the machine has more than one CPU.
    """
    from mudawwana.corpus.train import SIZES

    if size not in SIZES:
        raise InputError(f"unknown size {size!r}: use one of {', '.join(SIZES)}")
    if min_new < 0:
        raise InputError(f"--min-new must be 0 or more, not {min_new}")
    base, model_dir = Path(base), Path(model_dir)
    if not base.is_file():
        raise InputError(f"{base}: no such file")
    if dev is not None and not Path(dev).is_file():
        raise InputError(f"{dev}: no such file")
    ratios = parse_ratios(ratios)
    _check_model_dir(model_dir)  # before any work: the round would fail only when installing
    work = work_dir_for(model_dir)
    work.mkdir(parents=True, exist_ok=True)
    say = _Steps(progress)
    with _lock(work):
        state = load_rounds(model_dir)
        project = get_project(client, project_title)
        layers = project_layers(client, project)
        _check_state(state, project, ratios, model_dir)
        settings = _settings(base, dev, size, max_steps, policy, ratios)
        dropped = state.get("in_progress")
        current = _stage_of(state, settings)
        if current is None and dropped is not None:  # interrupted with other settings: start over cleanly
            shutil.rmtree(work / f"round-{dropped.get('round')}", ignore_errors=True)
            _save(model_dir, state)
        result = RoundResult(status="", message="")
        if current is None:
            say.step("pull")
            current = _start_round(client, project, state, settings, base, dev, model_dir, previous_model,
                                   min_new, force, work, result, layers)
            if current is None:  # nothing to do: nothing was written but the pulled corrections
                return result
        else:
            result.resumed_from = current["stage"]
            result.notes.append(f"continuing round {current['round']} from the step after "
                                f"{current['stage']!r} (it was interrupted)")
        round_dir = work / f"round-{current['round']}"
        _clean_leftovers(round_dir)
        if overlap is None:
            overlap = (os.cpu_count() or 1) > 1
        listed_here = False  # the tasks were listed ahead in this run: nothing of this round was written since
        if current["stage"] == "pulled":
            say.step("train")
            _train(current, round_dir, size, max_steps, threads, say,
                   _ahead(client, project, layers, current, round_dir, threads) if overlap else None)
            listed_here = overlap
            _save(model_dir, state)
        if current["stage"] == "trained":
            say.step("evaluate")
            _evaluate(current, round_dir, threads, force)
            _save(model_dir, state)
        if current["stage"] == "evaluated":
            say.step("install")
            started = time.monotonic()
            if current["deployed"]:
                _install(round_dir / "candidate", model_dir)
            current["seconds"]["install"] = round(time.monotonic() - started, 1)
            current["stage"] = "installed"
            _save(model_dir, state)
        if current["stage"] == "installed":
            say.step("re-predict")
            if current["deployed"]:
                current["repredicted"] = repredict(
                    client, project, layers, model_dir, current["new_model"]["model_version"], device, say.sub,
                    module=sys.modules[__name__],
                    pretagged=retrain_ahead.retagged_result(round_dir / AHEAD, model_dir),
                    listed=retrain_ahead.listed_tasks(round_dir / AHEAD) if listed_here else None)
                current["seconds"]["repredict"] = current["repredicted"]["seconds"]
            current["stage"] = "repredicted"
            _save(model_dir, state)
        _finish(state, current, model_dir, work, round_dir)
        say.done()
        return _result(result, current)


# --- state ----------------------------------------------------------------------------------------------------

def _settings(base: Path, dev, size: str, max_steps, policy: str, ratios) -> dict:
    """What a round's data and model depend on: a killed round continues only when all of it is unchanged."""
    return {"base": str(base.resolve()), "base_sha256": file_sha256(base),
            "dev": None if dev is None else str(Path(dev).resolve()),
            "dev_sha256": None if dev is None else file_sha256(dev), "size": size, "max_steps": max_steps,
            "policy": policy, "ratios": list(ratios)}


def _check_state(state: dict, project, ratios, model_dir: Path) -> None:
    if state["project_id"] is not None and state["project_id"] != project.id:
        raise RetrainError(f"{rounds_path_for(model_dir)} records rounds of project {state['project_title']!r} "
                           f"(id {state['project_id']}), not of {project.title!r}: use another -o for this project")
    if state["ratios"] is not None and tuple(state["ratios"]) != tuple(ratios):
        raise RetrainError(f"the earlier rounds held out the test split of --split-ratios "
                           f"{','.join(f'{r:g}' for r in state['ratios'])}; other ratios would train on documents "
                           "they tested on: keep them, or use another -o to start new rounds")


def _stage_of(state: dict, settings: dict) -> dict | None:
    """The round in progress to continue, or None (no round in progress, or one with other settings, which is
    dropped: its folder is removed when the new round starts)."""
    current = state.get("in_progress")
    if current is None:
        return None
    if current.get("settings") != settings:
        log.info("round %s was interrupted with other settings: starting over", current.get("round"))
        state["in_progress"] = None
        return None
    return current


def _save(model_dir: Path, state: dict) -> None:
    write_json_atomic(rounds_path_for(model_dir), state, indent=1)


@contextmanager
def _lock(work: Path) -> Iterator[None]:
    with open(work / "lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RetrainError(f"another retrain round is running for {work} (its lock file is held); "
                               "wait for it to finish") from None
        yield


def _clean_leftovers(round_dir: Path) -> None:
    """A training killed mid-way leaves its staging folder (`.candidate.*.tmp`, corpus/files.py): ours to drop."""
    if round_dir.is_dir():
        for stale in round_dir.glob(".*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)


# --- 1-2. pull, count what is new, split -----------------------------------------------------------------------

def sentence_hash(sentence: Sentence) -> str:
    return hashlib.sha1(format_sentence(sentence).encode("utf-8")).hexdigest()


def _start_round(client, project, state: dict, settings: dict, base: Path, dev, model_dir: Path,
                 previous_model, min_new: int, force: bool, work: Path, result: RoundResult,
                 layers: tuple[str, ...] = ()) -> dict | None:
    from mudawwana.annotate.pull import pull_corpus

    started = time.monotonic()
    corrections_file = work / "corrections.conllu"
    pulled = pull_corpus(client, project.title, corrections_file, policy=settings["policy"])
    corrections = list(read_conllu(corrections_file))
    used = {s.sent_id: sentence_hash(s) for s in corrections}
    last_used = _read_json(work / "used.json", {})
    new = sum(1 for sid, h in used.items() if last_used.get(sid) != h)
    result.corrections, result.new_corrections = len(corrections), new
    since = f"since round {state['rounds'][-1]['round']}" if state["rounds"] else "in all"
    if new < max(1, min_new) and not force:  # nothing new is never a reason to train, whatever min_new says
        result.status = "nothing-new"
        result.message = (f"{new} new or changed corrected sentences {since} (of {len(corrections)}), fewer "
                          f"than --min-new {min_new}: nothing to do")
        last = (state["rounds"][-1].get("repredicted") or {}) if state["rounds"] else {}
        if last.get("not_repredicted"):  # said by every run, not only by the round that left them
            result.notes.append(f"round {state['rounds'][-1]['round']} left {len(last['not_repredicted'])} "
                                "unannotated task(s) without its model's prediction (see rounds.json, "
                                "repredicted.not_repredicted)")
        return None

    trainable, left_out = _trainable(corrections)
    parts = split_sentences(trainable, tuple(settings["ratios"]))
    if not parts["test"] and not force:
        result.status = "no-heldout"
        result.message = (f"none of the {len({document_key(s) for s in trainable})} corrected documents falls in "
                          "the test split yet, so a new model could not be compared with the old one: nothing "
                          "changed; rerun when more are annotated (or --force)")
        return None

    number = (state["rounds"][-1]["round"] if state["rounds"] else 0) + 1
    round_dir = work / f"round-{number}"
    shutil.rmtree(round_dir, ignore_errors=True)  # a round started over: its earlier folder is stale
    round_dir.mkdir()
    base_parts = _base_parts(base, dev)
    data = _write_round_data(round_dir, base, dev, base_parts, parts)
    write_json_atomic(round_dir / "used.json", used)
    previous = _previous_model(state, model_dir, previous_model)
    ner = _ner_plan(round_dir, layers, parts, base_parts)
    log.info("NER: %s", ner["why"])
    current = {
        "round": number, "stage": "pulled", "settings": settings, "model_name": model_dir.name,
        "started_at": _now(), "project_title": project.title,
        "previous_model": previous,
        "project_model_version": getattr(project, "model_version", None) or None,
        "data": {**data, "corrections": {"sentences": len(corrections), "new_or_changed": new,
                                         "left_out": left_out, "pull_watermark": pulled.watermark,
                                         "unmappable": len(pulled.unmappable)}},
        "ner": ner,
        "seconds": {"pull": round(time.monotonic() - started, 1)},
    }
    state.update(project_id=project.id, project_title=project.title, ratios=settings["ratios"],
                 in_progress=current)
    _save(model_dir, state)
    if left_out:
        result.notes.append(f"{len(left_out)} corrected sentences left out (a word without UPOS or head, or forms "
                            f"that do not match the text): {', '.join(left_out[:5])}"
                            + (" ..." if len(left_out) > 5 else ""))
    return current


def _ner_plan(round_dir: Path, layers: tuple[str, ...], parts: dict[str, list[Sentence]],
              base_parts: tuple[list[Sentence], list[Sentence]]) -> dict:
    """Whether the round trains NER, on what, and why (not): the round record's `ner`. When it does, its data are
    written as ner-train.conllu and ner-dev.conllu: the corrections' train (validation) documents, plus BASE's
    train (dev) part only when BASE carries entities itself."""
    corrected = [s for split in SPLITS for s in parts[split]]
    entities = sum(len(s.entities) for s in corrected)
    plan = {"trained": False, "corrected_entities": entities, "heldout_entities": sum(len(s.entities)
                                                                                     for s in parts["test"])}
    if "ner" not in layers:
        plan["why"] = (f"not trained: the project has no ner layer, so its {entities} entities are the model's, "
                       "not the annotators'" if entities else "not trained: the project has no ner layer")
        return plan
    if not entities:
        plan["why"] = "not trained: the corrected sentences carry no entities"
        return plan
    base_train, base_dev = base_parts
    base_entities = sum(len(s.entities) for s in base_train + base_dev)
    train = (base_train if base_entities else []) + parts["train"]
    dev_part = (base_dev if base_entities else []) + parts["validation"]
    if not sum(len(s.entities) for s in train):
        plan["why"] = "not trained: the corrections' train documents carry no entities yet"
        return plan
    write_conllu(train, round_dir / "ner-train.conllu")
    write_conllu(dev_part, round_dir / "ner-dev.conllu")
    plan.update(trained=True, train_sentences=len(train), dev_sentences=len(dev_part),
                base_entities=base_entities,
                why=(f"trained on {len(train)} sentences ({sum(len(s.entities) for s in train)} entities) "
                     + ("with BASE's" if base_entities else "of the corrections alone (BASE carries no entities)")
                     + (", dev: the corrections' validation documents" if dev_part else
                        ", no dev sentences (the train ones stand in)")))
    return plan


def _base_parts(base: Path, dev) -> tuple[list[Sentence], list[Sentence]]:
    """BASE's (train, dev) parts: BASE and --dev, or BASE without and with its last DEV_FRACTION."""
    base_sents = list(read_conllu(base))
    if dev is not None:
        return base_sents, list(read_conllu(dev))
    if len(base_sents) < 2:
        raise InputError(f"{base}: needs at least 2 sentences to hold out a dev part (or give --dev)")
    n_dev = max(1, round(len(base_sents) * DEV_FRACTION))
    return base_sents[:-n_dev], base_sents[-n_dev:]


def _trainable(sentences: list[Sentence]) -> tuple[list[Sentence], list[str]]:
    """The sentences stanza's trainers and udeval accept (corpus/train.py's checks), and the ids of the others."""
    good, bad = [], []
    for s in sentences:
        if any(t.start is None for t in s.tokens) or any(w.head is None or w.upos == "_" for w in s.words):
            bad.append(s.sent_id or "?")
        else:
            good.append(s)
    return good, bad


def _write_round_data(round_dir: Path, base: Path, dev, base_parts: tuple[list[Sentence], list[Sentence]],
                      parts: dict[str, list[Sentence]]) -> dict:
    """train.conllu, dev.conllu and heldout.conllu of the round; their sizes for the record."""
    base_train, base_dev = base_parts
    write_conllu(base_train + parts["train"], round_dir / "train.conllu")
    write_conllu(base_dev + parts["validation"], round_dir / "dev.conllu")
    write_conllu(parts["test"], round_dir / "heldout.conllu")
    return {"base": {"file": base.name, "sha256": file_sha256(base), "train": _size(base_train),
                     "dev": _size(base_dev), "dev_from": "--dev" if dev is not None else "its last 10%"},
            **{f"corrections_{split}": _size(parts[split]) for split in SPLITS},
            "train": _size(base_train + parts["train"]), "dev": _size(base_dev + parts["validation"]),
            "heldout": _size(parts["test"])}


def _size(sentences: list[Sentence]) -> dict:
    return {"sentences": len(sentences), "words": sum(len(s.words) for s in sentences),
            "documents": len({document_key(s) for s in sentences})}


def _previous_model(state: dict, model_dir: Path, given) -> dict:
    """{"path", "model_version"} of the model that pre-annotated this round (path None: stanza's official)."""
    if given is not None:
        path = Path(given)
    elif state.get("current_model"):
        path = state["current_model"]["path"]
        path = None if path is None else Path(path)
    elif (model_dir / "manifest.json").is_file():
        path = model_dir
    else:
        path = None
    if path is None:
        return {"path": None, "model_version": None}  # the version is read when it is loaded (_evaluate)
    if not (path / "manifest.json").is_file():
        raise InputError(f"{path} is not a model directory (no manifest.json): pass --model-dir with the model "
                         "that pre-annotated the project")
    manifest = _read_json(path / "manifest.json", {})
    return {"path": str(path.resolve()), "model_version": manifest.get("model_version")}


# --- 3. train ----------------------------------------------------------------------------------------------------

def _ahead(client, project, layers, current: dict, round_dir: Path, threads) -> "retrain_ahead.Ahead":
    previous = current["previous_model"]["path"]
    return retrain_ahead.Ahead(round_dir / AHEAD, client, project.id, previous, round_dir / "heldout.conllu",
                               threads, with_ner=(current.get("ner") or {}).get("trained", False), layers=layers)


def ner_options(round_dir: Path, current: dict) -> dict:
    """train()'s NER arguments for the round (also what benchmarks/retrain.py gives train() alone)."""
    if (current.get("ner") or {}).get("trained"):
        return {"ner": True, "ner_data": (round_dir / "ner-train.conllu", round_dir / "ner-dev.conllu")}
    return {"ner": False}


def _train(current: dict, round_dir: Path, size: str, max_steps, threads, say: "_Steps",
           ahead: "retrain_ahead.Ahead | None" = None) -> None:
    from mudawwana.corpus import train as training

    started = time.monotonic()
    name = f"{current['model_name']}-r{current['round']}"
    options = ner_options(round_dir, current)
    if ahead is not None:
        options.update(tagger_first=True, on_trained=ahead.on_trained)
        ahead.start()
    try:
        manifest = training.train(round_dir / "train.conllu", round_dir / "candidate", dev=round_dir / "dev.conllu",
                                  size=size, steps=max_steps, threads=threads, name=name, progress=say.training,
                                  **options)
        trained = time.monotonic()
        if ahead is not None:
            ahead.finish()  # its last result (the new model's held-out scores) comes seconds after train()
            current["seconds"]["ahead_wait"] = round(time.monotonic() - trained, 1)
    finally:
        if ahead is not None:
            ahead.training_done()
            ahead.stop()
    current["new_model"] = {"model_version": manifest["model_version"], "name": name, "size": size,
                            "max_steps": max_steps, "processors": manifest["processors"],
                            "dev_scores_end_to_end": manifest["dev_scores_end_to_end"],
                            "training_seconds": manifest["training_seconds"], "ner": manifest.get("ner")}
    current["seconds"]["train"] = round(trained - started, 1)
    current["stage"] = "trained"


# --- 4. evaluate -------------------------------------------------------------------------------------------------

def _evaluate(current: dict, round_dir: Path, threads, force: bool) -> None:
    """Both models end to end on the held-out corrections (and their entity F1); the decision and why. What the
    second process already scored (annotate/retrain_ahead.py: the same models, checked by their files' sha256)
    is taken from it."""
    from mudawwana.corpus import train as training
    from mudawwana.corpus.stanza_models import load_pipeline
    from mudawwana.corpus.train_ner import score_ner

    started = time.monotonic()
    heldout = list(read_conllu(round_dir / "heldout.conllu"))
    previous = current["previous_model"]
    scores, ner_scores, ahead_used = {}, {}, []
    if heldout:
        prev_path = None if previous["path"] is None else Path(previous["path"])
        if prev_path is None and previous["model_version"] is None:  # stanza's official: versioned once loaded
            try:
                previous["model_version"] = load_pipeline(None, device="cpu")[1].model_version
            except MudawwanaError as e:
                scores["previous"] = {"error": str(e)}
        with_entities = any(s.entities for s in heldout)
        for which, path, done in (
                ("previous", prev_path, retrain_ahead.previous_result(round_dir / AHEAD, previous["path"])),
                ("new", round_dir / "candidate", retrain_ahead.new_result(round_dir / AHEAD, round_dir / "candidate"))):
            if which in scores:
                continue
            if done is not None:
                scores[which], ner_scores[which] = done["scores"], done.get("ner")
                ahead_used.append(which)
                continue
            scores[which] = _score(training.score_end_to_end, path, heldout, threads)
            ner_scores[which] = _score(score_ner, path, heldout, threads) if with_entities else None
    current["heldout_scores"] = scores
    if isinstance(current.get("ner"), dict):
        current["ner"]["heldout"] = ner_scores or None
    current["scored_ahead"] = ahead_used
    better, why = _decide(scores)
    current["better"] = better
    current["deployed"] = better or force
    current["forced"] = force and not better
    current["decision"] = why + ("; deployed anyway (--force)" if force and not better else "")
    current["seconds"]["evaluate"] = round(time.monotonic() - started, 1)
    current["stage"] = "evaluated"


def _score(score, model_dir, heldout, threads) -> dict:
    try:
        return score(model_dir, heldout, threads=threads)
    except MudawwanaError as e:  # the previous model cannot be loaded (offline, deleted)
        return {"error": str(e)}


def _decide(scores: dict) -> tuple[bool, str]:
    """(better, why): better when the new model beats the previous one on LAS or UPOS (BETTER_ON)."""
    new, old = scores.get("new"), scores.get("previous")
    if not new or not old:
        return False, "no held-out corrections to compare the models on"
    if "error" in new:
        return False, f"the new model could not be scored ({new['error']})"
    if "error" in old:
        return False, f"the previous model could not be scored ({old['error']}), so the new one is not known to " \
                      "be better"
    gains = {k: round(new[k] - old[k], 2) for k in BETTER_ON if k in new and k in old}
    shown = ", ".join(f"{k} {old[k]:.2f} -> {new[k]:.2f} ({gains[k]:+.2f})" for k in gains)
    if any(g > 0 for g in gains.values()):
        return True, f"better on {' and '.join(k for k, g in gains.items() if g > 0)}: {shown}"
    return False, f"not better on {' or '.join(BETTER_ON)}: {shown}"


# --- 5. install and re-predict -------------------------------------------------------------------------------------

def _check_model_dir(model_dir: Path) -> None:
    """Never replace something that is not ours: MODEL_DIR must be absent, empty or a model directory."""
    if model_dir.exists() and (not model_dir.is_dir() or (any(model_dir.iterdir())
                                                         and not (model_dir / "manifest.json").exists())):
        raise InputError(f"{model_dir} exists and is not a model directory; choose another -o")


def _install(candidate: Path, model_dir: Path) -> None:
    """The candidate becomes MODEL_DIR: copied into a staging folder beside it, swapped in whole (corpus/files.py),
    so MODEL_DIR is always one complete model. Skipped when MODEL_DIR already is the candidate (a resumed round)."""
    wanted = _read_json(candidate / "manifest.json", {}).get("model_version")
    if _read_json(model_dir / "manifest.json", {}).get("model_version") == wanted and wanted:
        return
    if not candidate.is_dir():
        raise RetrainError(f"{candidate} is gone: move {rounds_path_for(model_dir)}'s round in progress away to "
                           "start the round over")

    with staged_directory(model_dir, _check_model_dir) as stage:
        for f in sorted(candidate.iterdir()):
            if f.is_file():
                shutil.copy2(f, stage / f.name)


# --- the end of a round ------------------------------------------------------------------------------------------

def _finish(state: dict, current: dict, model_dir: Path, work: Path, round_dir: Path) -> None:
    """Record the round, remember what it used, drop its folder. Rerunnable: a kill in here finishes next time."""
    used = round_dir / "used.json"
    if used.is_file():
        write_json_atomic(work / "used.json", _read_json(used, {}))
    current["finished_at"] = _now()
    current["seconds"]["total"] = round(sum(v for k, v in current["seconds"].items() if k != "total"), 1)
    record = {k: v for k, v in current.items() if k not in ("stage",)}
    record["new_model"] = {**current.get("new_model", {}),
                           "path": str(model_dir.resolve()) if current.get("deployed") else None}
    state["rounds"].append(record)
    if current.get("deployed"):
        state["current_model"] = {"path": str(model_dir.resolve()),
                                  "model_version": current["new_model"]["model_version"]}
    elif state.get("current_model") is None:
        state["current_model"] = current["previous_model"]
    state["in_progress"] = None
    _save(model_dir, state)
    shutil.rmtree(round_dir, ignore_errors=True)


def _result(result: RoundResult, current: dict) -> RoundResult:
    result.round = current["round"]
    result.record = current
    result.status = "deployed" if current.get("deployed") else "rejected"
    if current.get("deployed"):
        r = current.get("repredicted") or {}
        result.message = (f"round {current['round']}: {current['decision']}; {current['new_model']['model_version']} "
                          f"is deployed: {r.get('unannotated', 0)} unannotated tasks re-predicted, "
                          f"{r.get('annotated_untouched', 0)} annotated ones left as they are")
    else:
        result.message = (f"round {current['round']}: {current['decision']}; nothing changed in Label Studio "
                          f"(the project keeps {current['previous_model']['model_version']}; --force deploys "
                          "a worse model)")
    missed = (current.get("repredicted") or {}).get("not_repredicted") or []
    if missed:  # (a rerun of the round tries them again, and says so again)
        result.notes.append(f"{len(missed)} unannotated task(s) not re-predicted (their CoNLL-U cannot be read, "
                            "their words would change, or Label Studio refused the prediction; see the log): "
                            + ", ".join(map(str, missed[:20])) + (" ..." if len(missed) > 20 else ""))
    shown, compared = current.get("project_model_version"), current["previous_model"]["model_version"]
    if shown and compared and shown != compared:
        result.notes.append(f"the project showed predictions of {shown}, but the model compared with is {compared} "
                            "(--model-dir): pass the model that pre-annotated the project")
    ner = current.get("ner")
    if isinstance(ner, dict) and (ner.get("trained") or ner.get("corrected_entities")):
        result.notes.append(f"NER {ner['why']}" + _ner_scores_text(ner.get("heldout")))
    if result.resumed_from is None and current.get("data", {}).get("corrections"):
        result.new_corrections = current["data"]["corrections"]["new_or_changed"]
        result.corrections = current["data"]["corrections"]["sentences"]
    return result


def _ner_scores_text(heldout: dict | None) -> str:
    if not heldout:
        return ""
    shown = [f"{w} {v['F1']:.2f}" for w, v in heldout.items() if isinstance(v, dict) and "F1" in v]
    return f"; held-out entity F1: {', '.join(shown)}" if shown else ""


# --- helpers -----------------------------------------------------------------------------------------------------

class _Steps:
    """Progress over the round's steps; training and re-predicting report inside their step."""

    def __init__(self, progress: Progress | None):
        self.progress, self.index, self.name = progress, -1, ""

    def step(self, name: str) -> None:
        self.index, self.name = _STEPS.index(name), name
        self._emit(name)

    def training(self, description: str, done: int, total: int) -> None:
        self._emit(f"train: {description}")

    def sub(self, done: int, total: int) -> None:
        self._emit(f"{self.name} {done}/{total}")

    def done(self) -> None:
        if self.progress:
            self.progress("done", len(_STEPS), len(_STEPS))

    def _emit(self, description: str) -> None:
        if self.progress:
            self.progress(description, max(self.index, 0), len(_STEPS))


def _read_json(path: Path, default):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["retrain", "RoundResult", "RetrainError", "load_rounds", "rounds_path_for", "work_dir_for",
           "sentence_hash", "DEFAULT_MIN_NEW", "BETTER_ON", "SCORES"]
