"""What a round does while it trains (annotate/retrain.py): the work that does not need the whole new model, on the
second core.

A round used to run its steps one after the other: training, then the previous model's and the new model's
held-out scores, then tagging every unannotated task again, then the writes. Training runs on one core (one torch
thread is fastest on a busy 2-core machine: docs/stanza.md); the rest can run beside it:
- the previous model's held-out scores need nothing new: scored at once, in a second process
  (annotate/retrain_worker.py, its own torch thread);
- the unannotated tasks are listed (a thread here: HTTP) and tagged again as soon as pos, lemma, depparse (and
  ner) are saved: train() runs those trainers first (`tagger_first`: they are independent of the tokenizer, and
  tagging given words needs no tokenizer), so the tagging overlaps the tokenizer's (and MWT's) training;
- the new model's held-out scores are computed as soon as its last model is saved, while train() still scores
  its dev set.
So once train() returns, the decision is (nearly) known and the tasks are tagged: what is left is the writes.
Every result carries the sha256 of the model files it was computed with and is used only when those are the
files of the model compared / installed; anything missing or stale is simply computed again in the main process
(as a resumed round does). `overlap=False` (or one CPU) runs everything in the main process, as before.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from mudawwana.corpus.files import file_sha256, write_json_atomic

log = logging.getLogger(__name__)

TAGGER_MODELS = ("pos", "lemma", "depparse")  # what tagging given words needs (plus ner when trained)
WAIT_AFTER_TRAINING = 900.0  # seconds the main process waits for the worker's last result after train() returns


class Ahead:
    """The second process and the listing thread of one round; files in `folder` (round-N/ahead)."""

    def __init__(self, folder: Path, client, project_id: int, previous: str | None, heldout: Path,
                 threads: int | None, with_ner: bool, layers: tuple[str, ...] = ()):
        self.folder, self.client, self.project_id, self.layers = folder, client, project_id, list(layers)
        self.previous, self.heldout, self.threads, self.with_ner = previous, heldout, threads, with_ner
        self.models = folder / "models"
        self.process: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.saved: set[str] = set()

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)  # a training cut off: its models are not this one's
        self.models.mkdir(parents=True)
        (self.models / "resources.json").write_text("{}\n", encoding="utf-8")
        write_json_atomic(self.folder / "job.json", {
            "parent": os.getpid(), "previous": self.previous, "heldout": str(self.heldout), "threads": 1,
            "layers": self.layers})
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        with open(self.folder / "worker.log", "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "mudawwana.annotate.retrain_worker",
                                             str(self.folder)], stdout=out, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._list_tasks, name="retrain-list", daemon=True)
        self.thread.start()

    def on_trained(self, model: str | None, build: Path) -> None:
        """train()'s callback: `model` was saved into `build` (None: every model was)."""
        if model is not None:
            _link(build / f"{model}.pt", self.models / f"{model}.pt")
            self.saved.add(model)
            wanted = set(TAGGER_MODELS) | ({"ner"} if self.with_ner else set())
            if wanted <= self.saved and not (self.models / "tagger.ready").exists():
                (self.models / "tagger.ready").touch()
        else:
            (self.models / "full.ready").touch()

    def training_done(self) -> None:
        """No more models will come (train() returned, or failed): the worker gives up what still waits for one."""
        if self.folder.is_dir():
            (self.folder / "training.done").touch()

    def finish(self, timeout: float = WAIT_AFTER_TRAINING) -> None:
        """Wait for the worker's last result (it needs a few seconds after train() returns), then stop it."""
        self.training_done()
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("the retrain worker did not finish in %.0f s: computing the rest here", timeout)
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.returncode not in (0, None, -15):
            log.warning("the retrain worker exited with %s (see %s); what it left undone is computed here",
                        self.process.returncode, self.folder / "worker.log")
        if self.thread is not None:
            self.thread.join(timeout=120)

    def __enter__(self) -> "Ahead":
        return self

    def __exit__(self, *exc) -> None:
        self.training_done()
        self.stop()

    def _list_tasks(self) -> None:
        from datetime import timedelta

        from mudawwana.annotate.client import server_now
        from mudawwana.annotate.policies import format_time
        from mudawwana.annotate.retrain_repredict import conllu_sha1, list_unannotated

        listed_at, tasks = None, []
        try:
            now = server_now(self.client)  # before listing: what changes after it is fetched again
            _, todo = list_unannotated(self.client, self.project_id)
            tasks = [{**t, "sha1": conllu_sha1(t["data"]["conllu"])}
                     for t in todo if isinstance((t.get("data") or {}).get("conllu"), str)]
            listed_at = None if now is None else format_time(now - timedelta(seconds=2))  # its clock: 1 s steps
        except Exception as e:  # noqa: BLE001 - the re-prediction lists and tags them itself then
            log.warning("listing the tasks ahead failed (%s): they are tagged after training", e)
        write_json_atomic(self.folder / "tasks.json", {"listed_at": listed_at, "tasks": tasks}, indent=None)


# --- reading what the worker left ---------------------------------------------------------------------------------

def previous_result(folder: Path, previous_path: str | None) -> dict | None:
    """{"scores", "ner"} of the previous model, when the worker scored that very model."""
    data = _read(folder / "previous.json")
    if data is None or previous_path is None or data.get("path") != previous_path:
        return None
    return data


def new_result(folder: Path, candidate: Path) -> dict | None:
    """{"scores", "ner"} of the new model, when the worker scored files identical to the candidate's."""
    data = _read(folder / "new.json")
    if data is None or data.get("files") != _files(candidate):
        return None
    return data


def retagged_result(folder: Path, model_dir: Path) -> dict[int, dict]:
    """task id -> the task prepared for writing (retrain_repredict.prepare, with the sha1 of the CoNLL-U it was
    made from), when the worker tagged with the installed model's files."""
    data = _read(folder / "retagged.json")
    if data is None:
        return {}
    installed = _files(model_dir)
    needed = [f"{m}.pt" for m in (*TAGGER_MODELS, "ner") if f"{m}.pt" in installed]
    used = data.get("files") or {}
    if any(used.get(name) != installed[name] for name in needed):
        log.info("the tasks tagged ahead used other model files: tagging them again")
        return {}
    return {int(tid): entry for tid, entry in (data.get("tasks") or {}).items()}


def listed_tasks(folder: Path) -> tuple[str, list[dict]] | None:
    """(server time, unannotated tasks) of the listing made ahead, None when there is none (or no time)."""
    data = _read(folder / "tasks.json")
    if not data or not data.get("listed_at"):
        return None
    return data["listed_at"], [{k: v for k, v in t.items() if k != "sha1"} for t in data["tasks"]]


def _files(model_dir: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(Path(model_dir).glob("*.pt"))}


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _link(source: Path, target: Path) -> None:
    """`target` is `source`'s bytes, appearing at once (a hard link; else a copy renamed into place)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
