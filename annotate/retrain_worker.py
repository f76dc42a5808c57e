"""The second process of a round (annotate/retrain_ahead.py): what does not wait for the whole new model, done on
the second core while the main process trains.

    python -m mudawwana.annotate.retrain_worker AHEAD_DIR

Reads AHEAD_DIR/job.json; in order, each result written atomically as soon as it is known:
1. `previous.json`: the previous model's held-out scores (end to end, and entity F1 when it has NER);
2. when `tasks.json` (the unannotated tasks, listed by the main process) and `models/tagger.ready` (pos, lemma,
   depparse and ner saved: the trainers run tagger first) exist: `retagged.json`, every task's sentence tagged
   again with those models, tokens and words kept, and prepared for writing (its new CoNLL-U, prediction and
   validation: annotate/retrain_repredict.py `prepare`);
3. when `models/full.ready` exists (every model saved; the main process runs train()'s dev evaluation
   meanwhile): `new.json`, the new model's held-out scores.
Each result names the sha256 of the model files it used; the main process uses it only when they are the
installed model's. The worker gives up a step when `training.done` appears without its models (training
ended another way), and exits when its parent is gone.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

POLL = 0.5  # seconds between two looks at the markers
NICENESS = 10  # below the training: in the first benchmark run, on a machine other work kept busy, the round's
# training took 130 s beside this process against 105 s for train() alone


def main(ahead: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    job = json.loads((ahead / "job.json").read_text(encoding="utf-8"))
    try:  # training keeps its core: on a busy machine this work has minutes of slack, the training none
        os.nice(NICENESS)
    except OSError:
        pass
    import torch

    torch.set_num_threads(int(job.get("threads") or 1))
    from mudawwana.corpus.conllu_io import read_conllu

    parent = int(job["parent"])
    heldout = list(read_conllu(job["heldout"])) if job.get("heldout") else []
    models = ahead / "models"

    if job.get("previous") and heldout:
        _write(ahead / "previous.json", {"path": job["previous"], **_scores(Path(job["previous"]), heldout)})
    if _wait(ahead, parent, lambda: (ahead / "tasks.json").is_file() and (models / "tagger.ready").is_file()):
        _write(ahead / "retagged.json", _retag(ahead, models, job["layers"]))
    if heldout and _wait(ahead, parent, lambda: (models / "full.ready").is_file()):
        _write(ahead / "new.json", {"files": _files(models), **_scores(models, heldout)})
    return 0


def _wait(ahead: Path, parent: int, ready) -> bool:
    while not ready():
        if (ahead / "training.done").is_file() and not ready():
            return False
        if os.getppid() != parent:
            raise SystemExit(f"retrain worker: parent {parent} is gone")
        time.sleep(POLL)
    return True


def _scores(model_dir: Path, heldout) -> dict:
    from mudawwana.corpus.errors import MudawwanaError
    from mudawwana.corpus.train import score_end_to_end
    from mudawwana.corpus.train_ner import score_ner

    started = time.monotonic()
    try:
        scores = score_end_to_end(model_dir, heldout)
    except MudawwanaError as e:
        scores = {"error": str(e)}
    try:
        ner = score_ner(model_dir, heldout) if any(s.entities for s in heldout) else None
    except MudawwanaError as e:
        ner = {"error": str(e)}
    return {"scores": scores, "ner": ner, "seconds": round(time.monotonic() - started, 1)}


def _retag(ahead: Path, models: Path, layers: list[str]) -> dict:
    """Every listed task tagged again and prepared for writing (retrain_repredict.prepare, version PENDING)."""
    from mudawwana.annotate.config import build_config
    from mudawwana.annotate.retrain_repredict import PENDING, load_retaggers, prepare, retag_sentences, task_sentence

    started = time.monotonic()
    listed = json.loads((ahead / "tasks.json").read_text(encoding="utf-8"))
    files = _files(models)
    sentences = {}
    for t in listed.get("tasks", []):
        s = task_sentence(t["data"])
        if s is not None and s.words:
            sentences[t["id"]] = (t, s)
    if sentences:
        retag_sentences(load_retaggers(models), [s for _, s in sentences.values()], PENDING)
    config = build_config(layers)
    tasks = {str(tid): {"sha1": t["sha1"], **prepare(s, t["data"], tuple(layers), config, PENDING)}
             for tid, (t, s) in sentences.items()}
    return {"files": files, "seconds": round(time.monotonic() - started, 1), "tasks": tasks}


def _files(models: Path) -> dict[str, str]:
    from mudawwana.corpus.files import file_sha256

    return {p.name: file_sha256(p) for p in sorted(models.glob("*.pt"))}


def _write(path: Path, data: dict) -> None:
    from mudawwana.corpus.files import write_json_atomic

    write_json_atomic(path, data, indent=None)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
