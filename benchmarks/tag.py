"""Throughput of `mudawwana tag` vs stanza's own Pipeline on the same text and model, in one run.

    .venv/bin/python benchmarks/tag.py --model-dir MODEL_DIR [--sentences 100] [--repeat 3] [--device cpu]

Both sides use the same loaded pipeline. The stanza side is `Pipeline.bulk_process` over one Document per
paragraph (what tag does internally); the mudawwana side is the whole job: reading the file, normalizing,
tagging, mapping offsets back, writing CoNLL-U with checkpoints. Runs alternate (A B A B ...) so machine
noise hits both; the best run of each is reported. Goal: overhead <= 10 % (ratio >= 0.90).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import stanza

from corpus.conllu_io import read_conllu
from corpus.models import load_pipeline
from corpus.tag import tag_files

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "data" / "ar_pud-sample.conllu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: stanza's official Arabic models")
    parser.add_argument("--sentences", type=int, default=100, help="raw sentences (the sample's last ones)")
    parser.add_argument("--repeat", type=int, default=3)
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
    best = {"stanza": 0.0, "mudawwana": 0.0}
    tokens = {}
    for _ in range(args.repeat):
        for name, fn in (("stanza", run_stanza), ("mudawwana", run_mudawwana)):
            start = time.perf_counter()
            tokens[name] = fn()
            best[name] = max(best[name], tokens[name] / (time.perf_counter() - start))
    print(f"model: {info.model_version}   text: {len(texts)} sentences, {tokens['stanza']} tokens")
    print(f"{'stanza Pipeline.bulk_process':32s} {best['stanza']:10.0f} tokens/s")
    print(f"{'mudawwana tag (whole job)':32s} {best['mudawwana']:10.0f} tokens/s")
    print(f"ratio mudawwana/stanza: {best['mudawwana'] / best['stanza']:.3f}  (goal >= 0.90)")


if __name__ == "__main__":
    main()
