"""Stanza's NER tagger, trained offline from the entities a corpus carries (`NER=B-PER` in token MISC), and its
entity F1 on gold sentences.

Stanza's NER trainer (`stanza.models.ner_tagger`) runs offline with `--no_pretrain` and no `--charlm` (none
exists offline): word embeddings are then only its own vocabulary of the training words plus the character model
(docs/stanza.md, "NER with stanza's trainer, offline"). It tags TOKENS (the surface tokens of the text, not the
words of a multi-word token), so its data are the sentences' tokens with their BIO tags, and at inference it is fed
token forms (`tag_entities`): the same unit whether the text came raw (stanza's tokenizer) or as given tokens.

Which sentences it learns from is the caller's choice (`ner_sentences`): only those annotated for entities, since a
sentence with no entity teaches "O" everywhere. corpus/train.py trains it when the training data carries entities;
annotate/retrain.py passes the corrections of a project with the `ner` layer (and BASE only when BASE carries
entities itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from .data_model import Entity, Sentence

# Per size: the trainer's arguments, and its step count when --steps is not given. tiny is the test fixture's
# recipe (tests/fixtures_models.py NER_TRAINER_ARGS: ~17 s on a quiet machine); small doubles the dimensions.
# Adam at a high rate with little dropout: stanza's default SGD at 0.1 predicted no entity at all after 300 steps
# (docs/stanza.md).
NER_SIZES: dict[str, dict] = {
    "tiny": {"args": ["--word_emb_dim", "16", "--char_emb_dim", "16", "--char_hidden_dim", "16", "--hidden_dim", "16",
                      "--optim", "adam", "--lr", "0.02", "--dropout", "0.1", "--batch_size", "16"], "steps": 200},
    "small": {"args": ["--word_emb_dim", "32", "--char_emb_dim", "32", "--char_hidden_dim", "64", "--hidden_dim", "64",
                       "--optim", "adam", "--lr", "0.01", "--dropout", "0.1", "--batch_size", "16"], "steps": 400},
    "default": {"args": ["--optim", "adam", "--lr", "0.003", "--batch_size", "32"], "steps": None},
}


def entity_count(sentences: Sequence[Sentence]) -> int:
    return sum(len(s.entities) for s in sentences)


def bio_rows(sentence: Sentence) -> list[dict]:
    """Stanza NER training rows for one sentence: one `{"text", "ner"}` per token, BIO over our entities."""
    tags = ["O"] * len(sentence.tokens)
    for ent in sentence.entities:
        for i in range(ent.start_token, ent.end_token):
            tags[i] = ("B-" if i == ent.start_token else "I-") + ent.label
    return [{"text": t.form, "ner": tag} for t, tag in zip(sentence.tokens, tags)]


def write_ner_json(sentences: Sequence[Sentence], path: Path) -> None:
    path.write_text(json.dumps([bio_rows(s) for s in sentences if s.tokens], ensure_ascii=False), encoding="utf-8")


def train_ner(train_sents: Sequence[Sentence], dev_sents: Sequence[Sentence], work: Path, build: Path, size: str,
              steps: int | None, shorthand: str, seed: int) -> None:
    """Train `ner.pt` into `build` (stanza's trainer, in this process). Without dev sentences the training ones
    stand in (the trainer needs an eval file to choose its best model by)."""
    from stanza.models import ner_tagger

    from .train import _run

    work.mkdir(parents=True, exist_ok=True)
    write_ner_json(train_sents, work / "train.json")
    write_ner_json(dev_sents or train_sents, work / "dev.json")
    recipe = NER_SIZES[size]
    steps = steps or recipe["steps"]
    argv = ["--train_file", str(work / "train.json"), "--eval_file", str(work / "dev.json"), "--shorthand", shorthand,
            "--no_pretrain", "--seed", str(seed), "--save_dir", str(build), "--save_name", "ner.pt", "--mode", "train",
            *recipe["args"]]
    if steps:
        argv += ["--max_steps", str(steps), "--eval_interval", str(min(100, max(1, steps // 2)))]
    _run(ner_tagger.main, argv)


def ner_pipeline(model_dir: Path, device: str = "cpu"):
    """A pipeline that tags entities on given tokens (tokenize pretokenized + ner), or None without ner.pt."""
    from .stanza_models import load_pipeline

    if not (Path(model_dir) / "ner.pt").is_file():
        return None
    return load_pipeline(Path(model_dir), processors="tokenize,ner", pretokenized=True, device=device)[0]


def tag_entities(pipeline, sentences: Sequence[Sentence]) -> list[list[Entity]]:
    """Per sentence, the entities the NER model finds on its tokens (spans over the sentence's tokens)."""
    todo = [s for s in sentences if s.tokens]
    out: dict[int, list[Entity]] = {id(s): [] for s in sentences}
    if todo:
        doc = pipeline([[t.form for t in s.tokens] for s in todo])
        for s, st_sent in zip(todo, doc.sentences):
            index = {id(t): i for i, t in enumerate(st_sent.tokens)}
            ents = []
            for ent in st_sent.ents:
                toks = [index[id(t)] for t in ent.tokens if id(t) in index]
                if toks:
                    ents.append(Entity(min(toks), max(toks) + 1, ent.type))
            out[id(s)] = ents
    return [out[id(s)] for s in sentences]


def score_ner(model_dir: Path | None, gold: Sequence[Sentence], threads: int | None = None) -> dict | None:
    """Entity precision, recall and F1 (exact span and type, micro-averaged, in percent) of the model's NER on the
    gold sentences' tokens; None when the model has no NER. `entities`: how many the gold sentences hold."""
    from .train import _torch_threads

    if model_dir is None:
        return None
    with _torch_threads(threads):
        pipeline = ner_pipeline(Path(model_dir))
        if pipeline is None:
            return None
        predicted = tag_entities(pipeline, gold)
    return entity_f1(gold, predicted)


def entity_f1(gold: Sequence[Sentence], predicted: Sequence[Sequence[Entity]]) -> dict:
    g = {(i, e.start_token, e.end_token, e.label) for i, s in enumerate(gold) for e in s.entities}
    p = {(i, e.start_token, e.end_token, e.label) for i, ents in enumerate(predicted) for e in ents}
    hit = len(g & p)
    precision = hit / len(p) if p else 0.0
    recall = hit / len(g) if g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "F1": round(100 * f1, 2),
            "entities": len(g), "predicted": len(p)}
