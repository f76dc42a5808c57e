"""Train a stanza model set (tokenize, mwt when needed, pos, lemma, depparse, ner when the data carries entities)
from one CoNLL-U corpus, offline.

We call stanza's own data-preparation functions (`stanza.utils.datasets.prepare_*_treebank.process_treebank`)
on a temporary UDBASE that holds the split under UD names, then stanza's trainers' `main(argv)` in this process
(one torch import instead of five). What works offline, and the pitfalls avoided here, are measured in
docs/stanza.md:
- lemma/depparse data are prepared with `--gold` (no tagger download); no charlm;
- `--no_pretrain`: a word-vector file built from the training text itself would add nothing the tagger's own
  finetuned word embeddings do not learn (with no pretrain stanza keeps every training word, cutoff 0), and the
  model set stays loadable without `*_pretrain_path`;
- the parser runs with `--no_checkpoint` in a fresh directory, so it can never resume from an old checkpoint;
- `--max_seqlen` at least 200 for the tokenizer; lemma `--pos_dim` equal to `--emb_dim`; eval interval never
  above the step count.

The trainers are independent of each other (lemma and depparse learn from gold tags, `--gold`), so their order is
free: `tagger_first` trains pos, lemma, depparse (and ner) before the tokenizer and the MWT expander, and
`on_trained(model, build_dir)` is called as each model is saved. annotate/retrain.py uses both to re-tag its
tasks (given tokens: no tokenizer needed) on the second core while the tokenizer still trains.

NER (corpus/train_ner.py): trained when the sentences it learns from carry entities (`NER=B-PER` in token MISC):
by default the training corpus itself, or `ner_data` (the CoNLL-U of the sentences annotated for entities, and
their dev part), since a sentence no one annotated for entities would teach "O" everywhere.

The model directory is built beside `out_dir` and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import random
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .conllu_io import format_sentence, read_conllu
from .train_ner import entity_count, train_ner
from .files import file_sha256, staged_directory, write_json_atomic
from .stanza_models import model_hash
from .errors import InputError
from .data_model import Sentence

log = logging.getLogger(__name__)

# progress(description, done, total): `done` of `total` stages finished; called at each stage and at every
# step the trainers log, so a long default-size run visibly moves.
Progress = Callable[[str, int, int], None]

SEED = 1234
LANG = "ar"
TREEBANK = "UD_Arabic-Mudawwana"      # UD folder name stanza's preparation scripts expect
SHORT = "ar_mudawwana"                # stanza's short name for it (treebank_to_short_name)
DEV_FRACTION = 0.1                    # held out from the end of the corpus when no --dev is given

_DIMS16 = ["--hidden_dim", "16", "--char_hidden_dim", "16", "--deep_biaff_hidden_dim", "16",
           "--word_emb_dim", "16", "--char_emb_dim", "16", "--tag_emb_dim", "16", "--transformed_dim", "16"]
_DIMS64 = ["--hidden_dim", "64", "--char_hidden_dim", "64", "--word_emb_dim", "64", "--char_emb_dim", "32",
           "--tag_emb_dim", "32", "--transformed_dim", "64"]
_DIMS100 = ["--hidden_dim", "100", "--char_hidden_dim", "64", "--word_emb_dim", "100", "--char_emb_dim", "32",
            "--tag_emb_dim", "32", "--transformed_dim", "100"]
# size -> per model: extra trainer arguments, and "<model>_steps", the step count used when --steps is not given.
# Why each setting, and what was measured and rejected: docs/stanza.md, "Training sizes".
SIZES: dict[str, dict] = {
    # test fixtures: ~1 min for all four models, scores meaningless (docs/stanza.md, "Training sizes": tiny)
    "tiny": {
        "tokenize": ["--emb_dim", "16", "--hidden_dim", "16", "--lr0", "0.02"], "tokenize_steps": 100,
        "mwt": ["--emb_dim", "16", "--hidden_dim", "16"], "mwt_steps": 40,
        "pos": _DIMS16 + ["--composite_deep_biaff_hidden_dim", "16", "--batch_size", "32", "--lr", "0.02"],
        "pos_steps": 60,
        "lemma": ["--emb_dim", "16", "--hidden_dim", "16", "--pos_dim", "16"], "lemma_steps": 40,
        "depparse": _DIMS16 + ["--deep_biaff_output_dim", "16", "--batch_size", "1000"], "depparse_steps": 60,
    },
    # the demo's model: the best scores found for ~2.5 min of CPU (docs/stanza.md, "Training sizes": small)
    "small": {
        "tokenize": ["--lr0", "0.01", "--dropout", "0.1", "--unit_dropout", "0.1", "--feat_unit_dropout", "0.1"],
        "tokenize_steps": 150,
        "mwt": ["--emb_dim", "32", "--hidden_dim", "64"], "mwt_steps": 200,
        "pos": _DIMS64 + ["--deep_biaff_hidden_dim", "64", "--composite_deep_biaff_hidden_dim", "64",
                          "--batch_size", "16", "--lr", "0.01", "--dropout", "0.1", "--word_dropout", "0.05"],
        "pos_steps": 300,
        "lemma": ["--emb_dim", "32", "--hidden_dim", "64", "--pos_dim", "32", "--lr", "0.01", "--num_epoch", "1"],
        "depparse": _DIMS100 + ["--deep_biaff_hidden_dim", "100", "--deep_biaff_output_dim", "64",
                                "--batch_size", "250", "--dropout", "0.1", "--word_dropout", "0.05",
                                "--optim", "adam", "--lr", "0.003", "--beta2", "0.95"],
        "depparse_steps": 500,
    },
    # stanza's dimensions and steps, batches that paid per minute (docs/stanza.md, "Training sizes": default)
    "default": {
        "tokenize": [], "mwt": [],
        "pos": ["--batch_size", "32"],
        "lemma": [],
        "depparse": ["--batch_size", "1000"],
    },
}


def train(corpus: Path, out_dir: Path, dev: Path | None = None, steps: int | None = None,
          size: str = "default", progress: Progress | None = None, name: str | None = None,
          threads: int | None = None, *, ner: bool | None = None,
          ner_data: tuple[Path, Path | None] | None = None, tagger_first: bool = False,
          on_trained: Callable[[str, Path], None] | None = None) -> dict:
    """Train every model for `corpus` into `out_dir` and return the manifest (also written as manifest.json).

    Without `dev`, the last 10% of the corpus (at least one sentence) is held out as the dev set. `steps` caps
    the update steps of each model (the lemmatizer and MWT expander count epochs: see _epochs_for); without it
    "tiny" uses its own small counts and "default" stanza's (50000, early stopping: hours on a CPU). `threads`
    sets torch's CPU threads for the run (the notes: 1 is fastest on a busy 2-core machine). `progress` is
    called as progress(description, stages_done, stages_total) at each stage and each step stanza logs.

    ner: None trains stanza's NER when its sentences carry entities, False never, True always (an error
    when they carry none). ner_data: (train.conllu, dev.conllu or None) whose entities NER learns from; by
    default the corpus and the dev set. The manifest's "ner" says whether it was trained, and why not.
    tagger_first / on_trained: the order of the trainers and a call as each model is saved (module docstring).

    The model directory holds `<model>.pt` for each processor, an empty `resources.json` (what loading offline
    needs: docs/stanza.md) and `manifest.json`.
    """
    corpus, out_dir = Path(corpus), Path(out_dir)
    _check_options(size, steps)
    data = _read_data(corpus, None if dev is None else Path(dev))
    ner_train, ner_dev, ner_record = _ner_data(data, ner, ner_data)
    models = _models_for(data.train, ner_record["trained"], tagger_first)
    report = _Reporter(progress, total=len(models) + 3)  # + prepare, evaluate, write

    started = time.monotonic()
    with staged_directory(out_dir, _check_replaceable) as build:
        with tempfile.TemporaryDirectory(prefix="mudawwana-train-") as work, _quiet_stanza(report) as captured, \
                _torch_threads(threads):
            report.stage("preparing data")
            paths = _prepare(Path(work), data.train, data.dev, "mwt" in models)
            paths["NER"] = (Path(work) / "data" / "ner", ner_train, ner_dev, size)
            runs = _train_models(models, paths, build, SIZES[size], steps, report, captured, on_trained)
            (build / "resources.json").write_text("{}\n", encoding="utf-8")
            report.stage("evaluating on dev (end to end from raw text)")
            end_to_end = _evaluate(build, paths)
        report.stage("writing model dir")
        manifest = _manifest(name or out_dir.name, build, size, steps, data, models, runs, end_to_end,
                             total_seconds=round(time.monotonic() - started, 1))
        manifest["ner"] = {**ner_record, "dev_f1": runs.dev_scores.get("ner", {}).get("f1")}
        write_json_atomic(build / "manifest.json", manifest, indent=2)
    report.stage("done")
    return manifest


def _check_options(size: str, steps: int | None) -> None:
    if size not in SIZES:
        raise InputError(f"unknown size {size!r}: use one of {', '.join(SIZES)}")
    if steps is not None and steps < 1:
        raise InputError(f"--steps must be a positive number, not {steps}")


PIPELINE_ORDER = ("tokenize", "mwt", "pos", "lemma", "depparse", "ner")


def _models_for(train_sents: list[Sentence], with_ner: bool = False, tagger_first: bool = False) -> list[str]:
    """The processors to train, in training order (pipeline order unless tagger_first): mwt only when the
    training data has multi-word tokens, ner only when asked."""
    has_mwt = any(t.is_multiword for s in train_sents for t in s.tokens)
    segment = ["tokenize"] + (["mwt"] if has_mwt else [])
    tag = ["pos", "lemma", "depparse"] + (["ner"] if with_ner else [])
    return tag + segment if tagger_first else segment + tag


def _ner_data(data: "_Data", ner: bool | None, ner_data) -> tuple[list[Sentence], list[Sentence], dict]:
    """(NER train sentences, NER dev sentences, the manifest's "ner" record without its score)."""
    if ner_data is not None:
        train_path, dev_path = ner_data
        ner_train = list(read_conllu(train_path))
        ner_dev = list(read_conllu(dev_path)) if dev_path is not None else []
    else:
        ner_train, ner_dev = data.train, data.dev
    entities = entity_count(ner_train)
    record = {"trained": False, "sentences": len(ner_train), "entities": entities,
              "dev_sentences": len(ner_dev), "trainer": "stanza.models.ner_tagger (--no_pretrain, no charlm)"}
    if ner is False:
        record["why_not"] = "not asked for (ner=False)"
    elif not entities:
        if ner:
            raise InputError("NER was asked for, but its training sentences carry no entities (NER= in MISC)")
        record["why_not"] = "its training sentences carry no entities (NER= in token MISC)"
    else:
        record["trained"] = True
    return ner_train, ner_dev, record


@dataclasses.dataclass
class _Runs:
    """What training the models measured, per model."""
    seconds: dict[str, float]
    dev_scores: dict[str, dict]  # the best dev score each trainer reported (see _trainer_score)


def _train_models(models: list[str], paths: dict, build: Path, size: dict, steps: int | None,
                  report: _Reporter, captured: list[str], on_trained=None) -> _Runs:
    """Run each model's trainer in turn, writing `<model>.pt` into `build`; `captured` fills with stanza's log;
    `on_trained(model, build)` after each (the file is final then: no trainer writes another's), and
    `on_trained(None, build)` once all are."""
    runs = _Runs({}, {})
    for model in models:
        report.stage(f"training {model}")
        t0 = time.monotonic()
        captured.clear()
        _TRAINERS[model](paths, build, size, steps)
        runs.seconds[model] = round(time.monotonic() - t0, 1)
        runs.dev_scores[model] = _trainer_score(model, captured)
        if on_trained is not None:
            on_trained(model, build)
    if on_trained is not None:
        on_trained(None, build)  # every model is saved (the dev evaluation follows)
    return runs


def _manifest(name: str, build: Path, size: str, steps: int | None, data: _Data, models: list[str],
              runs: _Runs, end_to_end: dict, total_seconds: float) -> dict:
    """manifest.json: what was trained from which data, with which settings, and how well it scored on dev."""
    return {
        "name": name,
        "model_version": f"{name}@{model_hash(build)}",
        "lang": LANG,
        "stanza_version": _version("stanza"),
        "torch_version": _version("torch"),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "size": size, "steps": steps, "seed": SEED,
        "data": data.records,
        "processors": [m for m in PIPELINE_ORDER if m in models],
        "files": {m: f"{m}.pt" for m in PIPELINE_ORDER if m in models},
        # per model, the best dev score its trainer reported (gold input from the previous stage)
        "dev_scores": runs.dev_scores,
        # the whole pipeline from the dev set's raw text, scored with udtools' udeval
        "dev_scores_end_to_end": end_to_end,
        "training_seconds": {**runs.seconds, "total": total_seconds},
    }


# --- input ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Data:
    train: list[Sentence]
    dev: list[Sentence]
    records: dict  # the manifest's "data": file, sha256, part, sentences and words of the train and dev sets


def _read_data(corpus: Path, dev: Path | None) -> _Data:
    """Read and check the training data; the dev set is `dev`, or else the end of `corpus` (DEV_FRACTION)."""
    train_sents = _read_corpus(corpus)
    if dev is not None:
        dev_sents = _read_corpus(dev)
        return _Data(train_sents, dev_sents,
                     {"train": _data_record(corpus, train_sents), "dev": _data_record(dev, dev_sents)})
    if len(train_sents) < 2:
        raise InputError(f"{corpus}: needs at least 2 sentences to hold out a dev set (or give --dev)")
    n_dev = max(1, round(len(train_sents) * DEV_FRACTION))
    train_sents, dev_sents = train_sents[:-n_dev], train_sents[-n_dev:]
    n = len(train_sents)
    return _Data(train_sents, dev_sents,
                 {"train": _data_record(corpus, train_sents, f"sentences 1-{n}"),
                  "dev": _data_record(corpus, dev_sents, f"sentences {n + 1}-{n + n_dev}")})


def _read_corpus(path: Path) -> list[Sentence]:
    sentences = list(read_conllu(path))  # a missing or malformed file is an InputError naming it
    if not sentences:
        raise InputError(f"{path}: no sentences found")
    for i, s in enumerate(sentences, 1):
        where = f"{path}: sentence {i} ({s.sent_id or 'no sent_id'})"
        # stanza's tokenizer data is aligned character by character with `# text`
        if any(t.start is None for t in s.tokens):
            raise InputError(f"{where}: the word forms do not match its `# text`; fix the text or the forms")
        if any(w.head is None or w.upos == "_" for w in s.words):
            raise InputError(f"{where}: every word needs UPOS and HEAD to train the tagger and the parser")
    return sentences


def _data_record(path: Path, sentences: list[Sentence], part: str = "all") -> dict:
    return {"file": path.name, "sha256": file_sha256(path), "part": part,
            "sentences": len(sentences), "words": sum(len(s.words) for s in sentences)}


# --- data preparation: stanza's own scripts on a temporary UDBASE ------------------------------------------

def _prepare(work: Path, train_sents, dev_sents, has_mwt: bool) -> dict:
    import stanza.utils.default_paths as default_paths
    from stanza.utils.datasets import common
    from stanza.utils.datasets import (prepare_depparse_treebank, prepare_lemma_treebank, prepare_mwt_treebank,
                                       prepare_pos_treebank, prepare_tokenizer_treebank)

    ud = work / "ud" / TREEBANK
    ud.mkdir(parents=True)
    train_sents, dev_sents = _one_newdoc_per_document(train_sents), _one_newdoc_per_document(dev_sents)
    # stanza wants a test split too; the dev set stands in (we report dev scores only)
    for part, sents in (("train", train_sents), ("dev", dev_sents), ("test", dev_sents)):
        (ud / f"{SHORT}-ud-{part}.conllu").write_text("".join(format_sentence(s) for s in sents), encoding="utf-8")
    paths = dict(default_paths.get_default_paths())
    paths.update({"UDBASE": str(work / "ud"), "HANDPARSED_DIR": str(work / "none")})
    for key in ("TOKENIZE", "MWT", "POS", "LEMMA", "DEPPARSE"):
        paths[f"{key}_DATA_DIR"] = str(work / "data" / key.lower())

    def args(add_specific=None, *extra):
        parser = common.build_argparse()
        if add_specific:
            add_specific(parser)
        return parser.parse_args([TREEBANK, *extra])

    steps = [(prepare_tokenizer_treebank, common.ModelType.TOKENIZER,
              args(prepare_tokenizer_treebank.add_specific_args)),
             (prepare_pos_treebank, common.ModelType.POS, args()),
             (prepare_lemma_treebank, common.ModelType.LEMMA,
              args(prepare_lemma_treebank.add_specific_args, "--gold")),
             (prepare_depparse_treebank, common.ModelType.DEPPARSE,
              args(prepare_depparse_treebank.add_specific_args, "--gold"))]
    if has_mwt:
        steps.append((prepare_mwt_treebank, common.ModelType.MWT, args()))
    for module, model_type, namespace in steps:
        random.seed(SEED)  # the punctuation augmentation of the training split is random
        try:
            module.process_treebank(TREEBANK, model_type, paths, namespace)
        except AssertionError as e:  # the tokenizer label builder asserts text/forms alignment
            raise InputError(f"stanza could not prepare the training data: {e}") from None
    return paths


def _one_newdoc_per_document(sentences: list[Sentence]) -> list[Sentence]:
    """Drop `# newdoc` comments that repeat the previous sentence's document (UD Arabic-PUD has one on every
    sentence). Stanza's tokenizer data starts a paragraph at every newdoc, so with them it never sees two
    sentences in a row and never learns to split sentences."""
    out, previous = [], None
    for s in sentences:
        if s.doc_id is not None and s.doc_id == previous:
            s = dataclasses.replace(s, comments=[c for c in s.comments if not c.startswith("newdoc")])
        out.append(s)
        previous = s.doc_id
    return out


# --- the trainers ---------------------------------------------------------------------------------------------

def _run(module_main, argv: list[str]) -> None:
    try:
        module_main(argv)
    except SystemExit as e:  # the parser exits(0) on empty data instead of raising
        raise InputError(f"stanza's trainer stopped (exit {e.code}); is the training data empty?") from None


def _eval_interval(steps: int | None) -> list[str]:
    # the tagger crashes when max_steps < eval_interval; the adaptive interval could grow past it too
    if steps is None:
        return []
    return ["--max_steps", str(steps), "--eval_interval", str(min(100, max(1, steps // 2)))]


def _train_tokenize(paths, build: Path, size: dict, steps: int | None) -> None:
    from stanza.models import tokenizer
    from stanza.utils.avg_sent_len import avg_sent_len
    d = paths["TOKENIZE_DATA_DIR"]
    labels = f"{d}/{SHORT}-ud-train.toklabels"
    steps = steps or size.get("tokenize_steps")
    # run_tokenizer's rule (3 average sentences), but never under 200: 100 crashed on this data
    # (docs/stanza.md, "Pitfalls")
    seqlen = max(200, math.ceil(avg_sent_len(labels) * 3 / 100) * 100)
    argv = ["--label_file", labels, "--txt_file", f"{d}/{SHORT}.train.txt", "--lang", LANG, "--shorthand", SHORT,
            "--max_seqlen", str(seqlen), "--mwt_json_file", f"{d}/{SHORT}-ud-dev-mwt.json",
            "--dev_txt_file", f"{d}/{SHORT}.dev.txt", "--dev_label_file", f"{d}/{SHORT}-ud-dev.toklabels",
            "--dev_conll_gold", f"{d}/{SHORT}.dev.gold.conllu", "--seed", str(SEED),
            "--save_dir", str(build), "--save_name", "tokenize.pt", "--mode", "train"] + size["tokenize"]
    if steps:
        argv += ["--steps", str(steps), "--eval_steps", str(min(200, max(1, steps // 2)))]
    _run(tokenizer.main, argv)


def _train_mwt(paths, build: Path, size: dict, steps: int | None) -> None:
    from stanza.models import mwt_expander
    from stanza.utils.max_mwt_length import max_mwt_length
    from stanza.utils.training.run_mwt import check_mwt
    d = paths["MWT_DATA_DIR"]
    train_file = f"{d}/{SHORT}.train.in.conllu"
    longest = max_mwt_length([f"{d}/{SHORT}-ud-train-mwt.json", f"{d}/{SHORT}-ud-dev-mwt.json"])
    max_len = math.ceil(longest * 1.1 + 1)  # run_mwt's rule
    argv = ["--train_file", train_file, "--eval_file", f"{d}/{SHORT}.dev.in.conllu",
            "--gold_file", f"{d}/{SHORT}.dev.gold.conllu", "--lang", LANG, "--shorthand", SHORT,
            "--max_dec_len", str(max_len), "--seed", str(SEED), "--save_dir", str(build), "--save_name", "mwt.pt",
            "--mode", "train"] + size["mwt"]
    if not check_mwt(f"{d}/{SHORT}.dev.in.conllu"):
        argv.append("--dict_only")  # as run_mwt does: nothing on dev to choose a seq2seq model by
    argv += _epochs_for(steps or size.get("mwt_steps"), _mwt_count(train_file), 50)
    _run(mwt_expander.main, argv)


def _train_pos(paths, build: Path, size: dict, steps: int | None) -> None:
    from stanza.models import tagger
    d = paths["POS_DATA_DIR"]
    argv = ["--train_file", f"{d}/{SHORT}.train.in.conllu", "--eval_file", f"{d}/{SHORT}.dev.in.conllu",
            "--lang", LANG, "--shorthand", SHORT, "--no_pretrain", "--fix_eval_interval", "--seed", str(SEED),
            "--save_dir", str(build), "--save_name", "pos.pt", "--mode", "train"]
    _run(tagger.main, argv + size["pos"] + _eval_interval(steps or size.get("pos_steps")))


def _train_lemma(paths, build: Path, size: dict, steps: int | None) -> None:
    from stanza.models import lemmatizer
    d = paths["LEMMA_DATA_DIR"]
    train_file = f"{d}/{SHORT}.train.in.conllu"
    argv = ["--train_file", train_file, "--eval_file", f"{d}/{SHORT}.dev.in.conllu", "--shorthand", SHORT,
            "--seed", str(SEED), "--save_dir", str(build), "--save_name", "lemma.pt", "--mode", "train"]
    argv += size["lemma"] + _epochs_for(steps or size.get("lemma_steps"), _word_count(train_file), 50)
    _run(lemmatizer.main, argv)


def _train_depparse(paths, build: Path, size: dict, steps: int | None) -> None:
    from stanza.models import parser
    d = paths["DEPPARSE_DATA_DIR"]
    argv = ["--train_file", f"{d}/{SHORT}.train.in.conllu", "--eval_file", f"{d}/{SHORT}.dev.in.conllu",
            "--lang", LANG, "--shorthand", SHORT, "--no_pretrain", "--no_checkpoint", "--seed", str(SEED),
            "--save_dir", str(build), "--save_name", "depparse.pt", "--mode", "train"]
    _run(parser.main, argv + size["depparse"] + _eval_interval(steps or size.get("depparse_steps")))


def _train_ner(paths, build: Path, size: dict, steps: int | None) -> None:
    work, ner_train, ner_dev, size_name = paths["NER"]
    train_ner(ner_train, ner_dev, work, build, size_name, steps, SHORT, SEED)


_TRAINERS = {"tokenize": _train_tokenize, "mwt": _train_mwt, "pos": _train_pos, "lemma": _train_lemma,
             "depparse": _train_depparse, "ner": _train_ner}


def _epochs_for(steps: int | None, examples: int, batch_size: int) -> list[str]:
    """The lemmatizer and the MWT expander count epochs (of `examples`): about `steps` updates in all.

    Under one epoch, the batches grow instead (subsampling would also shrink the lemmatizer's dictionary).
    """
    if not steps:
        return []
    per_epoch = max(1, math.ceil(examples / batch_size))
    if steps < per_epoch:
        return ["--num_epoch", "1", "--batch_size", str(math.ceil(examples / steps))]
    return ["--num_epoch", str(math.ceil(steps / per_epoch))]


def _word_count(conllu: str) -> int:
    with open(conllu, encoding="utf-8") as f:
        return sum(1 for line in f if line[:1].isdigit() and line.split("\t", 1)[0].isdigit())


def _mwt_count(conllu: str) -> int:
    with open(conllu, encoding="utf-8") as f:
        return sum(1 for line in f if re.match(r"\d+-\d+\t", line))


# --- scores ---------------------------------------------------------------------------------------------------

# What each trainer's "best dev" line measures (stanza's own scorers on the dev split).
_METRICS = {"tokenize": "token/sentence F1 (harmonic mean)", "mwt": "Words F1", "pos": "AllTags F1",
            "lemma": "Lemmas F1", "depparse": "LAS F1", "ner": "entity F1"}
# The last line of these each trainer logs is its final model's score: the lemmatizer and the MWT expander log
# their dictionary's "Dev F1" first, then the seq2seq/ensemble one; the tokenizer logs a fraction.
_BEST = re.compile(r"^(?:Best dev F1|Ensemble dev F1|Dev F1) = ([0-9.]+)|^Best dev score=([0-9.]+)")
_E2E_KEYS = ("Tokens", "Sentences", "Words", "UPOS", "XPOS", "UFeats", "AllTags", "Lemmas", "UAS", "LAS", "CLAS",
             "MLAS", "BLEX")


def _trainer_score(model: str, messages: list[str]) -> dict:
    value = None
    for message in messages:
        m = _BEST.search(message)
        if m:
            value = float(m.group(1)) if m.group(1) else float(m.group(2)) * 100
    return {"metric": _METRICS[model], "f1": None if value is None else round(value, 2)}


def _evaluate(build: Path, paths: dict) -> dict:
    """Tag the dev set's raw text with the new models and score it against the gold dev file (udeval)."""
    from stanza.models.common.utils import ud_scores
    from .stanza_models import load_pipeline
    d = paths["TOKENIZE_DATA_DIR"]
    nlp, _ = load_pipeline(build, device="cpu")
    text = Path(f"{d}/{SHORT}.dev.txt").read_text(encoding="utf-8")
    system = io.StringIO("{:C}\n\n".format(nlp(text)))
    try:
        scores = ud_scores(f"{d}/{SHORT}.dev.gold.conllu", system)
    except Exception as e:  # udeval refuses output whose characters differ (stanza writes <UNK> for huge tokens)
        log.warning("end-to-end dev scoring failed: %s", str(e).splitlines()[0])
        return {"error": str(e).splitlines()[0]}
    return {key: round(scores[key].f1 * 100, 2) for key in _E2E_KEYS if key in scores}


def score_end_to_end(model_dir: Path | None, gold: list[Sentence], threads: int | None = None) -> dict:
    """The end-to-end scores of a model set on gold sentences, exactly as train() scores its dev set: the
    sentences' raw text (stanza's own conllu_to_text, one paragraph per document) tagged by the whole
    pipeline, scored against them with udtools' udeval (the CoNLL 2018 shared task metrics). `model_dir`
    None is stanza's official Arabic package. {"error": ...} when udeval refuses the system output."""
    from stanza.utils.datasets.conllu_to_text import convert_text
    if not gold:
        raise InputError("no gold sentences to score the model on")
    with tempfile.TemporaryDirectory(prefix="mudawwana-score-") as work, _torch_threads(threads):
        d = Path(work)
        gold_file = d / f"{SHORT}.dev.gold.conllu"
        gold_file.write_text("".join(format_sentence(s) for s in _one_newdoc_per_document(gold)),
                             encoding="utf-8")
        convert_text(str(gold_file), str(d / f"{SHORT}.dev.txt"))
        return _evaluate(model_dir, {"TOKENIZE_DATA_DIR": str(d)})


# --- plumbing -------------------------------------------------------------------------------------------------

class _Reporter:
    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done, self.current = progress, total, -1, ""
        self.stdout = sys.stdout  # the callback may print: give it the real stdout back (see _quiet_stanza)

    def stage(self, description: str) -> None:
        self.done = min(self.done + 1, self.total)
        self.current = description
        self.emit(description)

    def emit(self, description: str) -> None:
        if self.progress:
            with contextlib.redirect_stdout(self.stdout):
                self.progress(description, max(self.done, 0), self.total)


class _Capture(logging.Handler):
    """Keeps stanza's log lines (for the dev scores) and turns its step lines into progress."""

    _STEP = re.compile(r"(?i)\bstep\s+(\d+)\s*/\s*(\d+)")

    def __init__(self, report: _Reporter):
        super().__init__(logging.INFO)
        self.report, self.messages = report, []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.messages.append(message)
        # stanza's training warnings are routine ("ar_mudawwana is not a known dataset"): only errors surface
        log.log(logging.ERROR if record.levelno >= logging.ERROR else logging.DEBUG, "stanza: %s", message)
        m = self._STEP.search(message)
        if m:
            self.report.emit(f"{self.report.current}: step {m.group(1)}/{m.group(2)}")


@contextlib.contextmanager
def _quiet_stanza(report: _Reporter):
    """Route stanza's training log (and its prints) to our debug log while keeping the lines we need."""
    logger = logging.getLogger("stanza")
    saved = (logger.level, logger.handlers[:], logger.propagate)
    handler = _Capture(report)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        # stanza's prints go to our debug log; a real byte stream because one print wraps sys.stdout.buffer
        with contextlib.redirect_stdout(io.TextIOWrapper(_LogSink(), encoding="utf-8", write_through=True)):
            yield handler.messages
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]


class _LogSink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        text = bytes(data).decode("utf-8", "replace")
        if text.strip():
            log.debug("stanza: %s", text.rstrip())
        return len(data)


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    import torch
    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def _check_replaceable(out_dir: Path) -> None:
    # never delete something that is not ours: only an empty dir or an earlier model dir is replaced
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir())
                                                     and not (out_dir / "manifest.json").exists())):
        raise InputError(f"{out_dir} exists and is not a model directory; choose another -o")


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


# The name the package exports: `mudawwana.corpus.train` is this module, so the function needs another.
train_models = train
