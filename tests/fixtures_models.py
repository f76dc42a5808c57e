"""Fixtures: tiny stanza models trained from the bundled sample (see corpus/train.py).

The tiny model set is trained once (about a minute) and cached under `<repo>/.cache/tiny-model-<hash>`, the hash
covering the sample and corpus/train.py, so reruns reuse it and a change to the training code retrains it.
Scores of tiny models are meaningless; they load and annotate end to end, which is what tests need.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"
TRAIN_SOURCE = REPO / "corpus" / "train.py"


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The bundled UD Arabic-PUD sample: 1000 sentences (by position 1-800 train, 801-900 dev, 901-1000 test)."""
    return SAMPLE


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny model directory trained on sentences 1-800 with 801-900 as dev, cached on disk between runs."""
    key = hashlib.sha256(SAMPLE.read_bytes() + TRAIN_SOURCE.read_bytes()).hexdigest()[:12]
    model_dir = REPO / ".cache" / f"tiny-model-{key}"
    if (model_dir / "manifest.json").is_file():  # train() renames the directory into place only when complete
        return model_dir
    from mudawwana.corpus.conllu_io import read_conllu, write_conllu
    from mudawwana.corpus.train import train

    sentences = list(read_conllu(SAMPLE))
    data = tmp_path_factory.mktemp("tiny-model-data")
    write_conllu(sentences[:800], data / "ar_pud-sample.train-1-800.conllu")
    write_conllu(sentences[800:900], data / "ar_pud-sample.dev-801-900.conllu")
    train(data / "ar_pud-sample.train-1-800.conllu", model_dir, dev=data / "ar_pud-sample.dev-801-900.conllu",
          size="tiny", name="tiny-ar-pud", threads=1)
    for stale in model_dir.parent.glob("tiny-model-*"):  # sets trained by earlier versions of corpus/train.py
        if stale != model_dir:
            shutil.rmtree(stale, ignore_errors=True)
    return model_dir


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_model_dir):
    """(stanza.Pipeline, ModelInfo) for raw text with the tiny models, loaded once per session on the CPU."""
    from mudawwana.corpus.stanza_models import load_pipeline

    return load_pipeline(tiny_model_dir, device="cpu")


def heads_form_a_tree(words) -> bool:
    """One root, every head in range, and following heads from any word reaches the root without a cycle."""
    n = len(words)
    heads = {w.id: w.head for w in words}
    if sorted(heads) != list(range(1, n + 1)) or sum(1 for h in heads.values() if h == 0) != 1:
        return False
    for start in heads:
        seen, node = set(), start
        while node != 0:
            if node in seen or not 0 <= heads[node] <= n:
                return False
            seen.add(node)
            node = heads[node]
    return True
