"""What `mudawwana demo` runs on: sample news text and a model that works offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from .clitics import MWT, convert_sentences
from .conllu_io import read_conllu, write_conllu
from .errors import ModelNotFoundError
from .sample import SAMPLE_CONLLU as SAMPLE

DEMO_PROJECT = "mudawwana demo"
# The sample split by position: the demo model learns from 1-800 (801-900 for dev) and tags raw text of
# 901-1000, so annotators never see sentences the model was trained on.
TRAIN, DEV, TEST = slice(0, 800), slice(800, 900), slice(900, 1000)
DEMO_MODEL_SIZE = "small"
DEMO_MODEL_NAME = "ar-pud-demo"
# The demo model learns the sample with its clitics as multi-word tokens (corpus/clitics.py), the way
# stanza's official models write them (و+يجعل+ه as one token), so it trains and runs an MWT expander and the
# demo's annotators see what real users see. A model trained earlier from glued tokens is outdated.
DEMO_MODEL_CLITICS = MWT


def write_demo_text(path: Path, documents: int) -> Path:
    """Raw news text of the sample's held-out documents, one JSON line per document (its sentences joined)."""
    docs: dict[str, list[str]] = {}
    for sentence in list(read_conllu(SAMPLE))[TEST]:
        docs.setdefault(sentence.doc_id, []).append(sentence.text)
    lines = [json.dumps({"id": doc_id, "text": " ".join(texts)}, ensure_ascii=False)
             for doc_id, texts in list(docs.items())[:documents]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def find_model(model_dir: Path | None, models_root: Path) -> tuple[Path | None, str] | None:
    """The model the demo tags with and a line saying which, or None when one must be trained first.

    An explicit model_dir wins; then stanza's official Arabic models (downloaded when the network allows);
    then a model the demo trained earlier.
    """
    if model_dir is not None:
        return model_dir, f"using the models in {model_dir}"
    from .stanza_models import load_pipeline

    try:
        _, info = load_pipeline(None, processors="tokenize")
        return None, f"using stanza's official Arabic models ({info.model_version})"
    except ModelNotFoundError:
        pass
    trained = models_root / DEMO_MODEL_NAME
    manifest = trained / "manifest.json"
    if manifest.exists() and is_current_demo_model(json.loads(manifest.read_text(encoding="utf-8"))):
        return trained, f"no official stanza model here (offline): using the model trained earlier in {trained}"
    return None


def is_current_demo_model(manifest: dict) -> bool:
    """Whether a demo model trained earlier is what train_demo_model trains now: its size, and an MWT expander
    (the sample converted to multi-word tokens), not a model of glued tokens."""
    return manifest.get("size") == DEMO_MODEL_SIZE and "mwt" in manifest.get("processors", [])


def train_demo_model(models_root: Path, progress: Callable[[str, int, int], None] | None = None) -> tuple[Path, str]:
    """Train a small model from the bundled sample (sentences 1-800, dev 801-900), its clitics converted to
    multi-word tokens (DEMO_MODEL_CLITICS), into models_root."""
    from .train import train

    trained = models_root / DEMO_MODEL_NAME
    data = models_root / "data"
    sentences = list(convert_sentences(read_conllu(SAMPLE), DEMO_MODEL_CLITICS))
    write_conllu(sentences[TRAIN], data / "train.conllu")
    write_conllu(sentences[DEV], data / "dev.conllu")
    train(data / "train.conllu", trained, dev=data / "dev.conllu", size=DEMO_MODEL_SIZE, name=DEMO_MODEL_NAME,
          progress=progress, threads=1)  # one torch thread: two are several times slower on a busy 2-core machine
    return trained, (f"trained a {DEMO_MODEL_SIZE} model from the bundled UD Arabic-PUD sample (clitics as "
                     f"multi-word tokens, as stanza's official models write them) into {trained}; its "
                     "pre-annotations are rough (with network, stanza's official models are used)")
