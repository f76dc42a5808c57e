"""What a retraining round costs next to training alone, and what it gains, over several rounds.

    .venv/bin/python benchmarks/retrain.py [--size small] [--rounds 3] [--per-round 200] [--base 300]
                                           [--threads 1] [--work DIR] [--url URL --api-key KEY]

On the bundled sample: a model of --size is trained on its first --base sentences (BASE); the other sentences
are tagged by it (their CoNLL-U, without re-tokenizing) and pushed to a fresh project with every layer. Each
round, annotators "submit" the gold annotation of the next --per-round sentences through the API, then one
`retrain` round runs (pull + train + evaluate + install + re-predict), timed per step. Right after it, train()
alone runs on exactly the round's training and dev files: the ratio round / train alone is the loop's cost
(goal <= 1.10); "overhead" is the same measured inside the round (its steps other than training, over its
training), free of the noise between two trainings, split into its steps (pull, waiting for the second process,
re-predict, the rest). Each round's record also says what the second process did
(`tagged_ahead`, `scored_ahead`: annotate/retrain_ahead.py) and whether NER was trained. The gain per round is the round's own
held-out comparison (previous vs new model on the corrected test documents so far); at the end every round's
model and BASE's are also scored on the last round's held-out set, the largest, so the rounds can be read on
one scale.

Without --url a Label Studio is started for the run (from the test template if one was built, else a first
start of ~75 s) in a temp dir, and stopped at the end. Expect tens of minutes with --size small.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"
LAYERS = ("upos", "lemma", "seg", "deps", "ner")

from mudawwana.annotate.client import connect  # noqa: E402
from mudawwana.annotate.projects import list_tasks  # noqa: E402
from mudawwana.annotate.push import push_corpus  # noqa: E402
from mudawwana.annotate.retrain import ner_options, retrain, work_dir_for  # noqa: E402
from mudawwana.annotate.tasks import display_words, prediction_result  # noqa: E402
from mudawwana.corpus.conllu_io import read_conllu, write_conllu  # noqa: E402
from mudawwana.corpus.tag_job import tag_files  # noqa: E402
from mudawwana.corpus.train import score_end_to_end, train  # noqa: E402

SHOWN = ("UPOS", "Lemmas", "UAS", "LAS")


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--base", type=int, default=300, help="sentences of the sample BASE holds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None, help="keep the models and data here")
    parser.add_argument("--url")
    parser.add_argument("--api-key")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="mudawwana-bench-retrain-"))
    work.mkdir(parents=True, exist_ok=True)
    server = None
    if args.url:
        client = connect(args.url, args.api_key)
    else:
        from mudawwana.annotate.server import find_label_studio, label_studio_version, start_label_studio
        template = REPO / ".cache" / f"ls-template-{label_studio_version(find_label_studio())}"
        say(f"starting Label Studio in {work / 'ls'} ...")
        server = start_label_studio(work / "ls", timeout=600,
                                    template_dir=template if (template / "label_studio.sqlite3").exists() else None)
        client = connect(server.url, server.api_key)
    try:
        results = run(client, work, args)
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(results, indent=1))
    summary(results)


def run(client, work: Path, args) -> dict:
    sentences = list(read_conllu(SAMPLE))
    base, pool = sentences[:args.base], sentences[args.base:]
    needed = args.rounds * args.per_round
    if needed > len(pool):
        raise SystemExit(f"{args.rounds} rounds of {args.per_round} need {needed} sentences beyond BASE; the "
                         f"sample has {len(pool)}")
    base_file = work / "base.conllu"
    write_conllu(base, base_file)
    write_conllu(pool, work / "pool.conllu")

    say(f"training the {args.size} base model on {len(base)} sentences ...")
    t0 = time.monotonic()
    base_model = work / "base-model"
    if not (base_model / "manifest.json").is_file():
        train(base_file, base_model, size=args.size, steps=args.max_steps, threads=args.threads, name="base")
    base_seconds = round(time.monotonic() - t0, 1)
    say(f"tagging {len(pool)} sentences with it ...")
    tagged = work / "pool.tagged.conllu"
    tag_files([work / "pool.conllu"], tagged, model_dir=base_model, device="cpu")
    title = f"bench-retrain-{uuid.uuid4().hex[:6]}"
    pushed = push_corpus(client, tagged, title, layers=LAYERS)
    tasks = {t["meta"]["sent_id"]: t["id"] for t in list_tasks(client, pushed.project_id, include="id,meta")}
    say(f"pushed {pushed.imported} tasks to {title!r}")

    model_dir = work / "models" / "news"
    kept = work / "rounds"
    kept.mkdir(exist_ok=True)
    results = {"size": args.size, "base_sentences": len(base),
               "pushed": pushed.imported,
               "base_training_seconds": base_seconds, "rounds": []}
    for k in range(1, args.rounds + 1):
        batch = pool[(k - 1) * args.per_round:k * args.per_round]
        for g in batch:
            words, spans = display_words(g, root=True)
            client.annotations.create(tasks[g.sent_id], result=prediction_result(g, LAYERS, words, spans))
        keep = kept / f"round-{k}"

        def hook(description, done, total, keep=keep, k=k):
            round_dir = work_dir_for(model_dir) / f"round-{k}"
            if description == "train" and not keep.exists():  # the round's data, for train() alone below
                keep.mkdir()
                for name in ("train.conllu", "dev.conllu", "heldout.conllu", "ner-train.conllu", "ner-dev.conllu"):
                    if (round_dir / name).is_file():
                        shutil.copy(round_dir / name, keep / name)
            if description == "install" and (round_dir / "candidate").is_dir():
                shutil.copytree(round_dir / "candidate", keep / "model", dirs_exist_ok=True)

        say(f"round {k}: {k * args.per_round} corrected sentences; retrain ...")
        started = time.monotonic()
        # BASE's model pre-annotated the project; later rounds compare with the model the last round deployed
        result = retrain(client, title, base_file, model_dir, size=args.size,
                         previous_model=base_model if k == 1 else None,
                         threads=args.threads, max_steps=args.max_steps, min_new=1, progress=hook)
        round_wall = round(time.monotonic() - started, 1)
        say(f"  {result.message}")
        say("  train() alone on the same data ...")
        started = time.monotonic()
        r = result.record
        ner = ner_options(keep, r)  # the same NER training as the round's (none without entities)
        train(keep / "train.conllu", keep / "alone", dev=keep / "dev.conllu", size=args.size, steps=args.max_steps,
              threads=args.threads, name="alone", **ner)
        alone = round(time.monotonic() - started, 1)
        shutil.rmtree(keep / "alone")
        scores = r.get("heldout_scores") or {}
        results["rounds"].append({
            "round": k, "status": result.status, "corrections": r["data"]["corrections"]["sentences"],
            "trained_on_corrections": r["data"]["corrections_train"]["sentences"],
            "heldout_sentences": r["data"]["heldout"]["sentences"],
            "round_seconds": round_wall, "steps_seconds": r["seconds"], "train_alone_seconds": alone,
            "ratio": round(round_wall / alone, 3),
            # what the loop adds to the round's own training (same run, no noise between two trainings)
            "overhead": round((round_wall - r["seconds"]["train"]) / r["seconds"]["train"], 3),
            "repredicted_tasks": (r.get("repredicted") or {}).get("unannotated", 0),
            "tagged_ahead": (r.get("repredicted") or {}).get("tagged_ahead", 0),
            "scored_ahead": r.get("scored_ahead"),
            "ner": r.get("ner"),
            "heldout": {w: {s: scores.get(w, {}).get(s) for s in SHOWN} for w in ("previous", "new")},
            "gain": {s: _gain(scores, s) for s in SHOWN},
        })
    last = kept / f"round-{args.rounds}" / "heldout.conllu"
    heldout = list(read_conllu(last))
    say(f"scoring every model on the last held-out set ({len(heldout)} sentences) ...")
    common = {"base": score_end_to_end(base_model, heldout, threads=args.threads)}
    for k in range(1, args.rounds + 1):
        if (kept / f"round-{k}" / "model").is_dir():
            common[f"round {k}"] = score_end_to_end(kept / f"round-{k}" / "model", heldout, threads=args.threads)
    results["common_heldout"] = {"sentences": len(heldout),
                                 "scores": {m: {s: v.get(s) for s in SHOWN} for m, v in common.items()}}
    return results


def _gain(scores: dict, key: str):
    new, old = scores.get("new") or {}, scores.get("previous") or {}
    if key in new and key in old:
        return round(new[key] - old[key], 2)
    return None


def summary(results: dict) -> None:
    say("")
    say(f"{results['size']} models, BASE {results['base_sentences']} sentences, {results['pushed']} tasks pushed")
    say("round  corrections  held-out  round s  train alone s  ratio  overhead  re-predicted  "
        + "  ".join(f"{s} gain" for s in SHOWN))
    for r in results["rounds"]:
        say(f"{r['round']:>5}  {r['corrections']:>11}  {r['heldout_sentences']:>8}  {r['round_seconds']:>7}  "
            f"{r['train_alone_seconds']:>13}  {r['ratio']:>5}  {r['overhead']:>8.1%}  "
            f"{r['repredicted_tasks']:>12}  "
            + "  ".join(f"{'-' if r['gain'][s] is None else format(r['gain'][s], '+.2f'):>{len(s) + 5}}"
                        for s in SHOWN)
            + f"   steps: {r['steps_seconds']}")
    common = results["common_heldout"]
    say(f"all models on the last held-out set ({common['sentences']} sentences): "
        + "; ".join(f"{m}: " + ", ".join(f"{s} {v[s]}" for s in SHOWN) for m, v in common["scores"].items()))


if __name__ == "__main__":
    main()
