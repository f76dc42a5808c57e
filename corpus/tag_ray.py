"""The tag job's tagging step on Ray Data: `mudawwana tag --workers N [--ray-address ADDRESS]`.

What runs where (the output is byte-identical to one process: same order, ids, offsets, skip report):
- the DRIVER (this process) does everything tag_job does in one process except the tagging itself: it reads
  the inputs (so bad records are reported by the same readers, in the same order), groups documents into the
  same batches, skips the batches an earlier run finished (before any Ray work: a finished job never starts
  Ray), validates every sentence with the one file-order UD validator and writes through the same Checkpoint;
- a pool of N Ray ACTORS (`ds.map_batches(_StanzaActor, compute=ActorPoolStrategy(size=N))`; Ray 2.51
  deprecated `concurrency=N` for this) each loads the stanza pipeline once,
  in `__init__`, with one torch thread (docs/stanza.md: one thread per process is fastest on these machines)
  or `num_gpus` of a GPU with `--device cuda`, and turns a batch of input documents into our Documents
  (normalization, stanza's bulk_process, the conversion of corpus/from_stanza.py): `tag_job._tag_batch`, the
  very function the single-process job calls;
- results come back in input order: the dataset's own context has `preserve_order` (ours only, not the
  caller's global DataContext), and every row carries its batch index, which the driver checks.

Batches travel as pickled lists of the reader's dataclasses, results as pickled Documents, one Ray Data row
(and block) per batch. The driver hands Ray a WINDOW of batches at a time (`WINDOW_BATCHES_PER_WORKER` per
worker, at most `WINDOW_CHARS` characters), so a large corpus is never held in memory at once; each window is
one Dataset, whose actors start again (import torch and stanza, load the model: a few seconds on a quiet
machine, ~30 s when the development machine's disk and cores were saturated) against the minutes a window takes
(256 batches of ~20,000 characters per worker: ~15 minutes with the tiny test model, about an hour with
stanza's default-size models on one CPU thread). A job that fits in one window (most) starts its workers once.

Ray: an already initialized Ray is reused (`ray.is_initialized()`, e.g. a test session's or a notebook's);
otherwise `--ray-address` (or $RAY_ADDRESS) joins a running cluster (`auto`: the one `ray start` made on this
machine), and with neither a private local Ray starts on this machine (address "local": never a colleague's
`ray start` cluster found by accident). Ray is an optional extra: without it, `RayNotInstalledError` says how
to install it. Every node needs mudawwana installed and the model directory at the same path.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import MudawwanaError
from .normalize import NormalizationOptions

log = logging.getLogger(__name__)

INSTALL_HINT = "install it with `pip install 'mudawwana[ray]'` (or `pip install 'ray[data]'`)"
WINDOW_BATCHES_PER_WORKER = 256  # batches handed to Ray at once, per worker (~20k characters each by default)
WINDOW_CHARS = 100_000_000  # ... and at most this many characters of text per window (the driver's memory)

_import = importlib.import_module  # the one way this module imports Ray (tests simulate a missing Ray here)


class RayNotInstalledError(MudawwanaError):
    """`--workers` > 1 or `--ray-address` without Ray installed."""


class WorkerModelMismatchError(MudawwanaError):
    """A worker loaded a different model than the one the job (and its checkpoint) was started with."""


def import_ray(what: str = "--workers > 1"):
    """The `ray` module (with Ray Data), or RayNotInstalledError saying how to install it."""
    try:
        ray = _import("ray")
        _import("ray.data")
    except ImportError as e:
        raise RayNotInstalledError(f"{what} runs the tagging on Ray Data, which is not installed ({e}); "
                                   f"{INSTALL_HINT}, or leave out --workers and --ray-address to tag in this "
                                   "process") from None
    return ray


def connect(address: str | None = None, workers: int = 1):
    """Ray, initialized: the running one if any, else `address` joined, else a private local instance."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    options = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
    address = address or os.environ.get("RAY_ADDRESS")  # set for the driver of a job submitted to a cluster
    if address:
        ray.init(address=address, **options)
    else:  # enough logical CPUs for the workers asked for, even on a machine with fewer cores
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, workers), **options)
    return ray


@dataclass(frozen=True)
class RaySettings:
    workers: int
    address: str | None = None
    device: str = "cpu"  # cpu | cuda | cuda:N | auto (cuda when the cluster has enough GPUs for the workers)
    gpus_per_worker: float = 1.0  # with cuda: e.g. 0.5 to put two workers on one GPU
    threads_per_worker: int = 1  # torch threads per worker on the CPU


def driver_model_info(model_dir: Path | None, device: str):
    """The ModelInfo the job is fingerprinted with, without keeping a pipeline in the driver.

    A model directory's version comes from its manifest and files (not from which processors are loaded), so
    loading only its tokenizer is enough. The official package's version hashes the packages stanza loads,
    so it is loaded in full (and downloaded here, once, on first use), then dropped.
    """
    from .stanza_models import load_pipeline

    if model_dir is not None:
        return load_pipeline(Path(model_dir), processors="tokenize", device="cpu")[1]
    nlp, info = load_pipeline(None, device="cpu")
    del nlp
    return info


class RayTagger:
    """Map work items `(batch size, documents to tag)` to `(batch size, documents, tagged Documents)`, in
    order, on a pool of Ray actors."""

    def __init__(self, settings: RaySettings, *, model_dir: Path | None, model_version: str, keep: bool,
                 normalization: NormalizationOptions, size_of) -> None:
        self.settings = settings
        self.model_dir = model_dir
        self.model_version = model_version
        self.keep = keep
        self.normalization = normalization
        self.size_of = size_of

    def tag(self, work: Iterable[tuple[int, list]]) -> Iterator[tuple[int, list, list]]:
        window: list[tuple[int, list]] = []
        chars = 0
        limit = WINDOW_BATCHES_PER_WORKER * self.settings.workers
        for item in work:
            window.append(item)
            chars += sum(self.size_of(d) for d in item[1])
            if len(window) >= limit or chars >= WINDOW_CHARS:
                yield from self._run(window)
                window, chars = [], 0
        if window:
            yield from self._run(window)

    def _run(self, window: list[tuple[int, list]]) -> Iterator[tuple[int, list, list]]:
        ray = connect(self.settings.address, self.settings.workers)
        device, num_gpus = self._placement(ray)
        rows = [{"index": i, "payload": pickle.dumps(todo, protocol=pickle.HIGHEST_PROTOCOL)}
                for i, (_, todo) in enumerate(window)]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))  # one block per batch: even sharing
        context = ds.context  # this dataset's own copy of the DataContext
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the CLI has its own bar
        context.print_on_execution_start = False
        settings = self.settings
        tagged = ds.map_batches(
            _StanzaActor, batch_size=1, compute=ray.data.ActorPoolStrategy(size=min(settings.workers, len(rows))),
            num_cpus=settings.threads_per_worker, num_gpus=num_gpus or None, batch_format="numpy",
            fn_constructor_kwargs=dict(model_dir=str(self.model_dir) if self.model_dir else None, device=device,
                                       threads=settings.threads_per_worker, model_version=self.model_version,
                                       keep=self.keep, normalization=self.normalization))
        rows_out = tagged.iter_rows()
        quiet = _QuietRayData()
        try:
            for expected, row in enumerate(rows_out):
                if int(row["index"]) != expected:  # preserve_order broken: never write out of order
                    raise RuntimeError(f"Ray Data returned batch {row['index']} where {expected} was due")
                if row["error"]:
                    raise pickle.loads(row["error"])
                if row["model_version"] != self.model_version:
                    raise WorkerModelMismatchError(
                        f"a Ray worker loaded model {row['model_version']} but this job was started with "
                        f"{self.model_version}; every node must have the same model at "
                        f"{self.model_dir or 'stanza resources dir'}")
                n, todo = window[expected]
                yield n, todo, pickle.loads(row["result"])
        finally:
            close = getattr(rows_out, "close", None)
            if close:
                close()  # stops the execution and its actors (an interrupted or failed job)
            quiet.restore()

    def _placement(self, ray) -> tuple[str, float]:
        """(device the workers load on, GPUs each worker asks Ray for)."""
        s = self.settings
        device = s.device
        gpus = ray.cluster_resources().get("GPU", 0)
        if device == "auto":
            device = "cuda" if gpus >= s.workers * s.gpus_per_worker else "cpu"
        if not device.startswith("cuda"):
            return device, 0.0
        if gpus < s.workers * s.gpus_per_worker:
            log.warning("--device cuda: %d workers x %s GPU each, but the Ray cluster has %s GPU(s) now; the "
                        "workers that do not fit wait for one (set --gpus-per-worker 0.5 to share a GPU)",
                        s.workers, s.gpus_per_worker, gpus)
        return ("cuda" if device.startswith("cuda:") else device), s.gpus_per_worker  # Ray picks the GPU


class _QuietRayData:
    """While a window runs: Ray Data's INFO lines ("execution finished in ...") off the console (our progress
    bar says it), and its notice that we turned its progress bars off. Its warnings stay."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("ray.data")
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)
        self.progress_logger = logging.getLogger("ray.data._internal.progress")
        self.progress_logger.addFilter(_no_progress_bar_notice)

    def restore(self) -> None:
        self.logger.setLevel(self.level)
        self.progress_logger.removeFilter(_no_progress_bar_notice)


def _no_progress_bar_notice(record: logging.LogRecord) -> bool:
    return "Progress bars disabled" not in record.getMessage()


class _StanzaActor:
    """One Ray Data actor: the pipeline loaded once, then batches of input documents -> tagged Documents."""

    def __init__(self, model_dir: str | None, device: str, threads: int, model_version: str, keep: bool,
                 normalization: NormalizationOptions) -> None:
        import torch

        from .stanza_models import load_pipeline

        torch.set_num_threads(threads)
        self.source = Path(model_dir) if model_dir else None
        self.device = device
        self.model_version = model_version  # what every sentence records: the driver's (fingerprinted) version
        self.keep = keep
        self.normalization = normalization
        self._tokenized = None
        self.error: MudawwanaError | None = None
        try:
            self.nlp, info = load_pipeline(self.source, device=self.device)
            self.loaded_version = info.model_version
        except MudawwanaError as e:  # e.g. no model at that path on this node: raised by the first call, where
            self.error = e  # Ray keeps the exception itself (from __init__, only its text would reach the driver)

    def _tokenized_pipeline(self):
        if self._tokenized is None:
            from .stanza_models import load_pipeline

            self._tokenized = load_pipeline(self.source, device=self.device, pretokenized=True)[0]
        return self._tokenized

    def __call__(self, batch: dict) -> dict:
        """One row per batch of input documents: its index, the pickled tagged Documents, the model version
        this worker loaded, and `error`: a pickled MudawwanaError (else empty), which the driver raises.

        Our errors travel as data: Ray passes on only the text of an exception raised in an actor's __init__
        and wraps one raised in a task, and the CLI prints a MudawwanaError as one line."""
        import numpy as np

        from .tag_job import _tag_batch

        results, errors = [], []
        for payload in batch["payload"]:
            try:
                if self.error is not None:
                    raise self.error
                documents = pickle.loads(payload)
                tagged = list(_tag_batch(documents, self.nlp, self.keep, self.normalization, self.model_version,
                                         self._tokenized_pipeline))
                results.append(pickle.dumps(tagged, protocol=pickle.HIGHEST_PROTOCOL))
                errors.append(b"")
            except MudawwanaError as e:
                results.append(b"")
                errors.append(pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL))
        return {"index": np.asarray(batch["index"]), "result": _objects(results), "error": _objects(errors),
                "model_version": _objects([getattr(self, "loaded_version", "")] * len(results))}


def _objects(values: list):
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
