"""The learning curve: train on growing shares of the data, score each model on the same dev set.

Like Prodigy's `train-curve`: if the last steps still gain, more annotated data will still help. Each step is
an ordinary `train()` (the same trainers, sizes and end-to-end dev scoring as `mudawwana train`) on a subset
of the training part; the dev set is fixed before any subset is taken (`--dev`, else the corpus's last 10%,
train()'s own rule), so the steps are comparable.

Which sentences a share holds: documents ordered by the hash of their key (corpus/splits.py, the export's
split key), so a share mixes the corpus's sources instead of taking its first files, and every share contains
the smaller ones; the chosen sentences are trained on in corpus order.

Resumable: every finished step is recorded in OUT_DIR/curve.json with a fingerprint of the data and the
settings; a rerun skips the steps already there (a changed corpus or setting starts over). The models
themselves are thrown away.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from .conllu_io import write_conllu
from .errors import InputError
from .files import file_sha256, write_json_atomic
from .splits import document_key, unit_interval

CURVE_FORMAT = 1
DEFAULT_SHARES = (25, 50, 75, 100)
# the scores printed and plotted, in this order (all of train()'s end-to-end scores are kept in curve.json)
SHOWN = ("Tokens", "Words", "UPOS", "XPOS", "UFeats", "Lemmas", "UAS", "LAS")
PLOTTED = ("UPOS", "UFeats", "Lemmas", "UAS", "LAS")

# progress(description, done, total): steps done of steps in all; description names the step and its stage
Progress = Callable[[str, int, int], None]


def parse_shares(value: str | Sequence[int]) -> tuple[int, ...]:
    """"25,50,75,100" -> (25, 50, 75, 100): increasing percentages in 1..100."""
    try:
        shares = tuple(int(p) for p in value.split(",")) if isinstance(value, str) else tuple(int(p) for p in value)
    except ValueError:
        raise InputError(f"--steps {value!r}: give increasing percentages like 25,50,75,100") from None
    if not shares or any(not 0 < s <= 100 for s in shares) or list(shares) != sorted(set(shares)):
        raise InputError(f"--steps {value!r}: give increasing percentages between 1 and 100, like 25,50,75,100")
    return shares


def train_curve(corpus: Path, out_dir: Path, *, dev: Path | None = None,
                shares: Sequence[int] = DEFAULT_SHARES, size: str = "small", max_steps: int | None = None,
                threads: int | None = None, progress: Progress | None = None) -> dict:
    """Train on each share of `corpus`, score on the dev set; returns (and writes as OUT_DIR/curve.json) the
    curve, and plots it as OUT_DIR/curve.png. See the module docstring."""
    from . import train as training

    corpus, out_dir = Path(corpus), Path(out_dir)
    shares = parse_shares(shares)
    training._check_options(size, max_steps)
    data = training._read_data(corpus, None if dev is None else Path(dev))
    fingerprint = _fingerprint(corpus, dev, data, size, max_steps)
    state_file = out_dir / "curve.json"
    done = _finished_steps(state_file, fingerprint)
    order = _share_order(data.train)

    curve = {"format": CURVE_FORMAT, "fingerprint": fingerprint, "corpus": data.records["train"],
             "dev": data.records["dev"], "size": size, "max_steps": max_steps, "steps": []}
    with tempfile.TemporaryDirectory(prefix="mudawwana-curve-") as work:
        work = Path(work)
        dev_file = work / "dev.conllu"
        write_conllu(data.dev, dev_file)
        for k, share in enumerate(shares):
            n = max(1, round(len(data.train) * share / 100))
            if share in done:
                step = done[share]
            else:
                chosen = sorted(order[:n])
                subset = [data.train[i] for i in chosen]
                train_file = work / f"train-{share}.conllu"
                write_conllu(subset, train_file)

                def stage(description, stage_done, stage_total, k=k, share=share):
                    if progress:
                        progress(f"{share}%: {description}", k, len(shares))

                started = time.monotonic()
                manifest = training.train(train_file, work / f"model-{share}", dev=dev_file, size=size,
                                          steps=max_steps, threads=threads, progress=stage,
                                          name=f"curve-{share}")
                step = {"share": share, "sentences": len(subset), "words": sum(len(s.words) for s in subset),
                        "scores": manifest["dev_scores_end_to_end"],
                        "seconds": round(time.monotonic() - started, 1)}
                _remove_tree(work / f"model-{share}")
            previous = curve["steps"][-1]["scores"] if curve["steps"] else None
            step["change"] = _change(step["scores"], previous)
            curve["steps"].append(step)
            out_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(state_file, curve, indent=1)  # after every step: a rerun resumes from here
    if progress:
        progress("done", len(shares), len(shares))
    plot_curve(curve, out_dir / "curve.png")
    return curve


def plot_curve(curve: dict, path: Path) -> Path:
    from .plots import line_plot

    steps = curve["steps"]
    return line_plot(path, [s["share"] for s in steps],
                     {k: [s["scores"].get(k) for s in steps] for k in PLOTTED},
                     title=f"Learning curve ({curve['size']} models; dev: {curve['dev']['sentences']} sentences)",
                     xlabel="share of the training data (%)", ylabel="F1 on dev (end to end)")


def _change(scores: dict, previous: dict | None) -> dict:
    if previous is None or "error" in scores or "error" in previous:
        return {}
    return {k: round(scores[k] - previous[k], 2) for k in scores if k in previous}


def _share_order(sentences) -> list[int]:
    """Indexes of `sentences`, documents in hash order (sentences of a document in corpus order)."""
    return sorted(range(len(sentences)), key=lambda i: (unit_interval(document_key(sentences[i])),
                                                        document_key(sentences[i]), i))


def _fingerprint(corpus: Path, dev: Path | None, data, size: str, max_steps: int | None) -> str:
    parts = {"corpus": file_sha256(corpus), "dev": file_sha256(dev) if dev is not None else None,
             "train_sentences": len(data.train), "size": size, "max_steps": max_steps}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _finished_steps(state_file: Path, fingerprint: str) -> dict[int, dict]:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if state.get("format") != CURVE_FORMAT or state.get("fingerprint") != fingerprint:
        return {}
    return {s["share"]: {k: v for k, v in s.items() if k != "change"} for s in state.get("steps", [])}


def _remove_tree(path: Path) -> None:
    import shutil
    shutil.rmtree(path, ignore_errors=True)
