"""Throughput of `mudawwana tag` vs stanza's own Pipeline on the same text and model, in one run.

    .venv/bin/python benchmarks/tag.py --model-dir MODEL_DIR [--sentences 300] [--repeat 6] [--device cpu]
    .venv/bin/python benchmarks/tag.py --model-dir MODEL_DIR --workers 2 [--copies 3] [--repeat 3]

One process (the default): both sides use the same loaded pipeline. The stanza side is
`Pipeline.bulk_process` over one Document per paragraph (what tag does internally); the mudawwana side is the
whole job: reading the file, normalizing, tagging, mapping offsets back, writing CoNLL-U with checkpoints.
Goal: overhead <= 10 % (ratio >= 0.90).

`--workers N` (Ray Data, corpus/tag_ray.py): `mudawwana tag --workers N` (N actors, one torch thread each)
against stanza's bulk_process with N torch threads in one process, same text, same model, same cores; stanza
with one thread is shown too, for reference. The mudawwana side is the whole job again, including the start
of its N workers (each imports torch and stanza and loads the model): only Ray itself is started beforehand,
once, as it would already be running on a cluster (its start-up time is printed). The text is the sample's
sentences (`--sentences`, default all 1000) repeated `--copies` times, as JSONL records of 10 sentences (one
paragraph each), so that it splits into many batches. Goal: >= 1.6x stanza's throughput with N threads.
With `--device cuda`, both sides run on the GPU (`--gpus-per-worker 0.5` puts two workers on one GPU).

Runs alternate (A B C A B C ..., each round starting one side later) so machine noise hits every side; the
median of each is reported, with its range.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import stanza
import torch

from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.stanza_models import load_pipeline
from mudawwana.corpus.tag_job import tag_files

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "data" / "ar_pud-sample.conllu"
SENTENCES_PER_RECORD = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: stanza's official Arabic models")
    parser.add_argument("--sentences", type=int, default=None,
                        help="raw sentences (the sample's last ones); default 300, with --workers all 1000")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each side (default 6, --workers: 3)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=1, help="> 1: the Ray Data side-by-side")
    parser.add_argument("--copies", type=int, default=3, help="--workers: the text repeated this many times")
    parser.add_argument("--gpus-per-worker", type=float, default=1.0)
    args = parser.parse_args()
    if args.workers > 1:
        workers_benchmark(args)
    else:
        one_process_benchmark(args)


def one_process_benchmark(args) -> None:
    texts = [s.text for s in read_conllu(SAMPLE)][-(args.sentences or 300):]
    repeat = args.repeat or 6
    nlp, info = load_pipeline(args.model_dir, device=args.device)
    work = Path(tempfile.mkdtemp(prefix="mudawwana-bench-"))
    source = work / "news.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")

    def run_stanza() -> int:
        docs = nlp.bulk_process([stanza.Document([], text=t) for t in texts])
        return sum(len(s.tokens) for d in docs for s in d.sentences)

    def run_mudawwana() -> int:
        out = work / "out.conllu"
        report = tag_files([source], out, pipeline=nlp, model_info=info)
        out.unlink()
        return report.tokens

    run_stanza()  # warm-up: first calls pay for lazy initialisation
    run_mudawwana()
    sides = {"stanza Pipeline.bulk_process": run_stanza, "mudawwana tag (whole job)": run_mudawwana}
    rates, tokens = alternate(sides, repeat)
    print(f"model: {info.model_version}   text: {len(texts)} sentences, {tokens} tokens, {repeat} runs each")
    report(rates)
    names = list(sides)
    ratio = statistics.median(rates[names[1]]) / statistics.median(rates[names[0]])
    print(f"ratio mudawwana/stanza (medians): {ratio:.3f}  (goal >= 0.90)")


def workers_benchmark(args) -> None:
    from mudawwana.corpus import tag_ray

    n = args.workers
    repeat = args.repeat or 3
    sentences = [s.text for s in read_conllu(SAMPLE)][-(args.sentences or 1000):] * args.copies
    work = Path(tempfile.mkdtemp(prefix="mudawwana-bench-"))
    source = work / "news.jsonl"
    with open(source, "w", encoding="utf-8") as f:
        for i in range(0, len(sentences), SENTENCES_PER_RECORD):
            record = {"id": f"news-{i // SENTENCES_PER_RECORD + 1}",
                      "text": "\n".join(sentences[i:i + SENTENCES_PER_RECORD])}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    nlp, info = load_pipeline(args.model_dir, device=args.device)
    start = time.perf_counter()
    tag_ray.connect(None, n)
    ray_start = time.perf_counter() - start

    def run_stanza(threads: int):
        def run() -> int:
            torch.set_num_threads(threads)
            docs = nlp.bulk_process([stanza.Document([], text=t) for t in sentences])
            return sum(len(s.tokens) for d in docs for s in d.sentences)
        return run

    first_batch: list[float] = []  # seconds from a job's start to its first batch written

    def run_workers() -> int:
        out = work / "out.conllu"
        start, first = time.perf_counter(), []
        report = tag_files([source], out, model_dir=args.model_dir, device=args.device, workers=n,
                           gpus_per_worker=args.gpus_per_worker,
                           progress=lambda done, total: first or first.append(time.perf_counter() - start))
        first_batch.append(first[0])
        out.unlink()
        return report.tokens

    cpu = not args.device.startswith("cuda")
    sides = {f"stanza bulk_process, {n} threads": run_stanza(n)}
    if cpu:
        sides["stanza bulk_process, 1 thread"] = run_stanza(1)
    sides[f"mudawwana tag --workers {n} (whole job)"] = run_workers
    threads = torch.get_num_threads()
    nlp.bulk_process([stanza.Document([], text=t) for t in sentences[:50]])  # warm-up: lazy initialisation
    rates, tokens = alternate(sides, repeat)
    torch.set_num_threads(threads)
    print(f"model: {info.model_version}   device: {args.device}   text: {len(sentences)} sentences "
          f"({args.copies} x {len(sentences) // args.copies}), {tokens} tokens, {repeat} runs each; "
          f"Ray started in {ray_start:.1f} s (not counted)")
    report(rates)
    print(f"  mudawwana: first batch written after {statistics.median(first_batch):.1f} s (median; min "
          f"{min(first_batch):.1f}, max {max(first_batch):.1f}): the workers' start (torch, stanza, the model) "
          "plus one batch")
    names = list(sides)
    ratio = statistics.median(rates[names[-1]]) / statistics.median(rates[names[0]])
    print(f"ratio mudawwana --workers {n} / stanza {n} threads (medians): {ratio:.2f}  (goal >= 1.6)")
    if cpu:
        ratio1 = statistics.median(rates[names[-1]]) / statistics.median(rates[names[1]])
        print(f"ratio mudawwana --workers {n} / stanza 1 thread (medians): {ratio1:.2f}")


def alternate(sides: dict, repeat: int) -> tuple[dict[str, list[float]], int]:
    """tokens/s of every side, `repeat` runs each, the order rotated every round; and the token count."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    counts = {}
    names = list(sides)
    for i in range(repeat):
        for name in names[i % len(names):] + names[:i % len(names)]:
            start = time.perf_counter()
            counts[name] = sides[name]()
            rates[name].append(counts[name] / (time.perf_counter() - start))
            print(f"  round {i + 1}: {name}: {rates[name][-1]:.0f} tokens/s", flush=True)
    if len(set(counts.values())) > 1:  # ours merges tokens cut inside one original character (a ligature)
        print("  tokens per side:", counts)
    return rates, next(iter(counts.values()))


def report(rates: dict[str, list[float]]) -> None:
    width = max(map(len, rates))
    for name, r in rates.items():
        print(f"{name:{width}s}  median {statistics.median(r):7.0f} tokens/s   (min {min(r):.0f}, max {max(r):.0f})")


if __name__ == "__main__":
    main()
