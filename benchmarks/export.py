"""Time and peak memory of `export_corpus` on 1,000 / 10,000 / 100,000 sentences.

Usage: .venv/bin/python benchmarks/export.py [--sizes 1000,10000,100000] [--keep DIR]

Inputs are the bundled UD Arabic-PUD sample repeated, each copy with new sent_ids and doc_ids (so the
validator sees unique ids and the documents spread over the splits). Each size runs in a fresh child process,
so one run's memory cannot hide in another's; the child reports:
- peak RSS (VmHWM), which includes pages of memory-mapped Arrow files that datasets reads back;
- peak anonymous RSS (RssAnon, sampled every 20 ms): the heap, i.e. what streaming must keep flat.
The goal is a 100k/10k ratio of about 1 for the anonymous peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "data" / "ar_pud-sample.conllu"


def make_input(path: Path, sentences: int) -> None:
    """Write `sentences` sentences: copies of the sample with `-rK` appended to sent_id and newdoc id."""
    blocks = [b for b in SAMPLE.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i in range(sentences):
            copy, block = divmod(i, len(blocks))
            lines = []
            for line in blocks[block].split("\n"):
                if line.startswith(("# sent_id = ", "# newdoc id = ")):
                    line = f"{line}-r{copy}"
                lines.append(line)
            f.write("\n".join(lines) + "\n\n")


def _status(field: str) -> int:
    """A /proc/self/status field in kB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(input_path: str, out_dir: str) -> None:
    from mudawwana.export.export_job import export_corpus

    peak_anon = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak_anon[0] = max(peak_anon[0], _status("RssAnon"))
            stop.wait(0.02)

    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    result = export_corpus(input_path, out_dir, name="bench", license="cc-by-sa-3.0")
    seconds = time.perf_counter() - start
    stop.set()
    peak_anon[0] = max(peak_anon[0], _status("RssAnon"))
    size = sum(p.stat().st_size for p in Path(out_dir).rglob("*") if p.is_file())
    print(json.dumps({"sentences": result.sentences, "seconds": seconds, "peak_rss_kb": _status("VmHWM"),
                      "peak_anon_kb": peak_anon[0], "out_bytes": size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", type=Path, help="keep inputs and exports in this directory")
    parser.add_argument("--child", nargs=2, metavar=("INPUT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="mudawwana-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = {}
    for n in sizes:
        input_path = work / f"input-{n}.conllu"
        make_input(input_path, n)
        done = subprocess.run([sys.executable, __file__, "--child", str(input_path), str(work / f"out-{n}")],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"export of {n} sentences failed:\n{done.stderr[-3000:]}")
        rows[n] = json.loads(done.stdout.strip().splitlines()[-1])
        r = rows[n]
        print(f"{n:>8,} sentences: {r['seconds']:7.1f} s, peak RSS {r['peak_rss_kb'] / 1024:7.1f} MiB, "
              f"peak anon {r['peak_anon_kb'] / 1024:7.1f} MiB", file=sys.stderr, flush=True)
        if not args.keep:
            input_path.unlink()
            subprocess.run(["rm", "-rf", str(work / f"out-{n}")], check=True)

    print(f"\n{'sentences':>10} {'seconds':>8} {'sent/s':>8} {'peak RSS MiB':>13} {'peak anon MiB':>14} "
          f"{'output MiB':>11}")
    for n, r in rows.items():
        print(f"{n:>10,} {r['seconds']:>8.1f} {n / r['seconds']:>8.0f} {r['peak_rss_kb'] / 1024:>13.1f} "
              f"{r['peak_anon_kb'] / 1024:>14.1f} {r['out_bytes'] / 2**20:>11.1f}")
    if 10_000 in rows and 100_000 in rows:
        big, small = rows[100_000], rows[10_000]
        print(f"\npeak memory 100k / 10k: RSS {big['peak_rss_kb'] / small['peak_rss_kb']:.2f}, "
              f"anonymous {big['peak_anon_kb'] / small['peak_anon_kb']:.2f}")
    if not args.keep:
        os.rmdir(work)


if __name__ == "__main__":
    main()
