"""Throughput of `mudawwana tag` vs stanza's own Pipeline on the same text and model, in one run.

    .venv/bin/python benchmarks/tag.py --model-dir MODEL_DIR [--sentences 100] [--repeat 3] [--device cpu]

Both sides use the same loaded pipeline. The stanza side is `Pipeline.bulk_process` over one Document per
paragraph (what tag does internally); the mudawwana side is the whole job: reading the file, normalizing,
tagging, mapping offsets back, writing CoNLL-U with checkpoints. Runs alternate (A B A B ...) so machine
noise hits both; the median of each is reported, with its range. Goal: overhead <= 10 % (ratio >= 0.90).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import stanza

from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.stanza_models import load_pipeline
from mudawwana.corpus.tag_job import tag_files

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "data" / "ar_pud-sample.conllu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: stanza's official Arabic models")
    parser.add_argument("--sentences", type=int, default=300, help="raw sentences (the sample's last ones)")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    texts = [s.text for s in read_conllu(SAMPLE)][-args.sentences:]
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
    rates: dict[str, list[float]] = {"stanza": [], "mudawwana": []}
    tokens = {}
    order = (("stanza", run_stanza), ("mudawwana", run_mudawwana))
    for i in range(args.repeat):
        for name, fn in (order if i % 2 == 0 else order[::-1]):  # alternate who goes first
            start = time.perf_counter()
            tokens[name] = fn()
            rates[name].append(tokens[name] / (time.perf_counter() - start))
    median = {name: statistics.median(r) for name, r in rates.items()}
    print(f"model: {info.model_version}   text: {len(texts)} sentences, {tokens['stanza']} tokens, "
          f"{args.repeat} runs each")
    for label, name in (("stanza Pipeline.bulk_process", "stanza"), ("mudawwana tag (whole job)", "mudawwana")):
        print(f"{label:32s} median {median[name]:7.0f} tokens/s   (min {min(rates[name]):.0f}, "
              f"max {max(rates[name]):.0f})")
    print(f"ratio mudawwana/stanza (medians): {median['mudawwana'] / median['stanza']:.3f}  (goal >= 0.90)")


if __name__ == "__main__":
    main()
