"""Fixtures: tiny stanza models trained from the bundled sample (see corpus/train.py).

The tiny model set is trained once (about a minute) and cached under `<repo>/.cache/tiny-model-<hash>`, the hash
covering the sample and corpus/train.py, so reruns reuse it and a change to the training code retrains it.
Scores of tiny models are meaningless; they load and annotate end to end, which is what tests need.
`tiny_ner_model_dir` adds a tiny NER model trained on silver labels (a code-path fixture), cached the same way.
"""

from __future__ import annotations

import hashlib
import inspect
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


# The NER fixture's recipe: stanza's own NER trainer, tiny dimensions, no pretrain and no charlm (none exists
# offline). Measured on the sample (2-core machine, one thread): ~17 s; dev F1 on the silver labels ~60.
# Adam at 0.02 with little dropout: stanza's default SGD at 0.1 predicted no entity at all after 300 steps.
NER_TRAINER_ARGS = ("--shorthand", "ar_pud", "--no_pretrain", "--word_emb_dim", "16", "--char_emb_dim", "16",
                    "--char_hidden_dim", "16", "--hidden_dim", "16", "--optim", "adam", "--lr", "0.02",
                    "--dropout", "0.1", "--batch_size", "16", "--max_steps", "300", "--eval_interval", "100",
                    "--seed", "1234")
NER_TYPE = "MISC"  # one of data_model.NER_LABELS, so the silver entities fit the export schema and Label Studio


def silver_ner(sentence) -> list[dict]:
    """Stanza NER training rows for one sample sentence: each run of PROPN words is one `MISC` entity (BIO).

    Derived from the gold UPOS, deterministically: labels for exercising the NER code path, not named entities.
    The sample has no multi-word tokens, so its words are also its tokens (what stanza's NER tags).
    """
    rows, inside = [], False
    for word in sentence.words:
        if word.upos == "PROPN":
            rows.append({"text": word.form, "ner": ("I-" if inside else "B-") + NER_TYPE})
        else:
            rows.append({"text": word.form, "ner": "O"})
        inside = word.upos == "PROPN"
    return rows


@pytest.fixture(scope="session")
def tiny_ner_model_dir(tiny_model_dir) -> Path:
    """The tiny model set plus a tiny `ner.pt`: a CODE-PATH FIXTURE, NOT A REAL NER MODEL.

    The NER model is trained by stanza's own trainer (`stanza.models.ner_tagger`, offline: `--no_pretrain`, no
    charlm) on silver labels (`silver_ner`: PROPN runs of sentences 1-800, dev 801-900), so it tags what looks
    like the sample's proper nouns as `MISC` entities. It exists so tests can see stanza's NER processor load
    from a model set (ours, or one served in stanza's resources layout) and write `NER=B-MISC` into MISC.
    Cached beside the tiny set under `<repo>/.cache/tiny-ner-model-<hash>` (the tiny set's key and this recipe).
    """
    recipe = f"{tiny_model_dir.name}\n{NER_TRAINER_ARGS}\n{NER_TYPE}\n{inspect.getsource(silver_ner)}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    model_dir = REPO / ".cache" / f"tiny-ner-model-{key}"
    if (model_dir / "manifest.json").is_file():  # renamed into place only when complete
        return model_dir
    import json
    import logging
    import tempfile

    import torch
    from stanza.models import ner_tagger

    from mudawwana.corpus.conllu_io import read_conllu
    from mudawwana.corpus.files import current_umask
    from mudawwana.corpus.stanza_models import model_hash

    stage = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", suffix=".tmp", dir=model_dir.parent))
    try:
        for source in tiny_model_dir.iterdir():
            if source.name != "manifest.json":
                shutil.copy(source, stage / source.name)
        sentences = list(read_conllu(SAMPLE))
        data = stage / "ner-data"
        data.mkdir()
        for name, part in (("train", sentences[:800]), ("dev", sentences[800:900])):
            (data / f"{name}.json").write_text(json.dumps([silver_ner(s) for s in part], ensure_ascii=False),
                                               encoding="utf-8")
        stanza_log, level, threads = logging.getLogger("stanza"), logging.getLogger("stanza").level, \
            torch.get_num_threads()
        stanza_log.setLevel(logging.WARNING)
        torch.set_num_threads(1)  # docs/stanza.md: two threads on a busy 2-core machine are several times slower
        try:
            ner_tagger.main(["--train_file", str(data / "train.json"), "--eval_file", str(data / "dev.json"),
                             "--save_dir", str(stage), "--save_name", "ner.pt", *NER_TRAINER_ARGS])
        finally:
            stanza_log.setLevel(level)
            torch.set_num_threads(threads)
        shutil.rmtree(data)
        manifest = json.loads((tiny_model_dir / "manifest.json").read_text(encoding="utf-8"))
        manifest["name"] = "tiny-ar-pud-ner"
        manifest["model_version"] = f"tiny-ar-pud-ner@{model_hash(stage)}"
        manifest["processors"] = [*manifest.get("processors", []), "ner"]
        manifest["files"] = {**manifest.get("files", {}), "ner": "ner.pt"}
        manifest["ner"] = {"labels": f"silver: each run of PROPN words is one {NER_TYPE} entity (a code-path "
                           "fixture, not a named-entity model)", "trainer": "stanza.models.ner_tagger",
                           "args": list(NER_TRAINER_ARGS)}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        stage.chmod(0o777 & ~current_umask())  # mkdtemp made it 0700
        stage.rename(model_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    for stale in model_dir.parent.glob("tiny-ner-model-*"):  # earlier recipes, or sets of an older tiny set
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
