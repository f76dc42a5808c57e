"""Time and peak memory of `export_corpus` on 1,000 / 10,000 / 100,000 sentences, and the incremental export.

Usage: .venv/bin/python benchmarks/export.py [--sizes 1000,10000,100000] [--changed 0.01] [--repeat 3]
                                             [--baseline] [--check] [--keep DIR]

Inputs are the bundled UD Arabic-PUD sample repeated, each copy with new sent_ids and doc_ids (so the
validator sees unique ids and the documents spread over the splits). Each export runs in a fresh child process,
so one run's memory cannot hide in another's, after os.sync() (so no run waits on the previous one's writes); the
child reports:
- peak RSS (VmHWM), which includes pages of memory-mapped Arrow files that datasets reads back;
- peak anonymous RSS (RssAnon, sampled every 20 ms): the heap, i.e. what streaming must keep flat.
The goal is a 100k/10k ratio of about 1 for the anonymous peak.

Per size: a full export (its sentence cache empty: export/sentence_cache.py), then the same input with --changed
of its sentences edited (a lemma, every 1/changed-th sentence) exported again with that cache: the incremental
export, --repeat times (alternately the edited and the original input, so each run finds that share changed), the
median reported, in wall-clock and in CPU seconds (the machine's other jobs disturb the latter least). Goal:
incremental / full <= 0.10 at 1 % changed. --baseline also times a full export without any cache
(the cache's cost on a first export); --check also exports the edited input without the cache and compares the
files (they must be byte-identical).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import statistics
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


def edit_input(source: Path, path: Path, share: float) -> int:
    """Copy `source` with every round(1/share)-th sentence corrected (its first word's lemma set to another
    value, as an annotator would); returns how many sentences changed."""
    every = max(1, round(1 / share))
    changed = 0
    with open(source, encoding="utf-8") as f, open(path, "w", encoding="utf-8", newline="\n") as out:
        for i, block in enumerate(b for b in f.read().split("\n\n") if b.strip()):
            if i % every == every // 2:
                lines = block.split("\n")
                for j, line in enumerate(lines):
                    cols = line.split("\t")
                    if len(cols) == 10 and cols[0].isdigit():
                        cols[2] = cols[1] if cols[2] != cols[1] else cols[1] + "ة"
                        lines[j] = "\t".join(cols)
                        break
                block = "\n".join(lines)
                changed += 1
            out.write(block + "\n\n")
    return changed


def _status(field: str) -> int:
    """A /proc/self/status field in kB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(input_path: str, out_dir: str, cache: str) -> None:
    from mudawwana.export.export_job import export_corpus

    peak_anon = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak_anon[0] = max(peak_anon[0], _status("RssAnon"))
            stop.wait(0.02)

    threading.Thread(target=sample, daemon=True).start()
    cache_log: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: cache_log.append(record.getMessage())
    logging.getLogger("mudawwana.export.export_job").addHandler(handler)
    logging.getLogger("mudawwana.export.export_job").setLevel(logging.INFO)
    start, cpu = time.perf_counter(), time.process_time()
    result = export_corpus(input_path, out_dir, name="bench", license="cc-by-sa-3.0",
                           cache=False if cache == "-" else cache)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stop.set()
    peak_anon[0] = max(peak_anon[0], _status("RssAnon"))
    size = sum(p.stat().st_size for p in Path(out_dir).rglob("*") if p.is_file())
    print(json.dumps({"sentences": result.sentences, "seconds": seconds, "cpu": cpu, "peak_rss_kb": _status("VmHWM"),
                      "peak_anon_kb": peak_anon[0], "out_bytes": size, "cache": cache_log[-1:]}))


def run_child(input_path: Path, out_dir: Path, cache: Path | None) -> dict:
    # The previous run's ~600 MB (at 100k sentences) still being written back would slow this one's reads and
    # fsyncs: a maintainer's next export comes hours later. Start every run on a disk with nothing pending.
    os.sync()
    done = subprocess.run([sys.executable, __file__, "--child", str(input_path), str(out_dir),
                           str(cache) if cache else "-"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"export of {input_path} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def file_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--changed", type=float, default=0.01, help="share of sentences edited before the "
                        "incremental export (default 0.01)")
    parser.add_argument("--repeat", type=int, default=3, help="incremental exports per size (median reported)")
    parser.add_argument("--baseline", action="store_true", help="also time a full export without the cache")
    parser.add_argument("--check", action="store_true", help="check that the incremental export's files are "
                        "those of a full export of the edited input")
    parser.add_argument("--keep", type=Path, help="keep inputs and exports in this directory")
    parser.add_argument("--child", nargs=3, metavar=("INPUT", "OUT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="mudawwana-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = {}
    for n in sizes:
        input_path, edited = work / f"input-{n}.conllu", work / f"edited-{n}.conllu"
        out, cache = work / f"out-{n}", work / f"cache-{n}.sqlite"
        make_input(input_path, n)
        changed = edit_input(input_path, edited, args.changed)
        if cache.exists():
            cache.unlink()
        r = rows[n] = run_child(input_path, out, cache)
        r["changed"] = changed
        # Edited, original, edited ...: each run finds 1 % of its sentences changed since the one before.
        runs = [run_child(edited if k % 2 == 0 else input_path, out, cache) for k in range(args.repeat)]
        for run in runs:
            print(f"{n:>8,} sentences, incremental: {run['seconds']:.1f} s ({run['cpu']:.1f} s CPU); "
                  f"{' '.join(run['cache'])}", file=sys.stderr, flush=True)
        r["incremental"] = statistics.median(run["seconds"] for run in runs)
        r["incremental_cpu"] = statistics.median(run["cpu"] for run in runs)
        if args.repeat % 2 == 0:  # the last run exported the original: the output to check is the edited one's
            run_child(edited, out, cache)
        if args.baseline:
            baseline = run_child(input_path, work / f"nocache-{n}", None)
            r["no_cache"], r["no_cache_cpu"] = baseline["seconds"], baseline["cpu"]
        if args.check:
            run_child(edited, work / f"check-{n}", None)
            r["identical"] = file_hashes(out) == file_hashes(work / f"check-{n}")
        r["cache_bytes"] = cache.stat().st_size
        print(f"{n:>8,} sentences: full {r['seconds']:7.1f} s, incremental ({changed:,} changed) "
              f"{r['incremental']:6.1f} s, peak RSS {r['peak_rss_kb'] / 1024:7.1f} MiB, "
              f"peak anon {r['peak_anon_kb'] / 1024:7.1f} MiB", file=sys.stderr, flush=True)
        if not args.keep:
            for path in (input_path, edited, cache):
                path.unlink()
            for path in (out, work / f"nocache-{n}", work / f"check-{n}"):
                subprocess.run(["rm", "-rf", str(path)], check=True)

    print(f"\n{'sentences':>10} {'seconds':>8} {'sent/s':>8} {'peak RSS MiB':>13} {'peak anon MiB':>14} "
          f"{'output MiB':>11} {'cache MiB':>10}")
    for n, r in rows.items():
        print(f"{n:>10,} {r['seconds']:>8.1f} {n / r['seconds']:>8.0f} {r['peak_rss_kb'] / 1024:>13.1f} "
              f"{r['peak_anon_kb'] / 1024:>14.1f} {r['out_bytes'] / 2**20:>11.1f} {r['cache_bytes'] / 2**20:>10.1f}")
    if 10_000 in rows and 100_000 in rows:
        big, small = rows[100_000], rows[10_000]
        print(f"\npeak memory 100k / 10k: RSS {big['peak_rss_kb'] / small['peak_rss_kb']:.2f}, "
              f"anonymous {big['peak_anon_kb'] / small['peak_anon_kb']:.2f}")
    print(f"\nincremental export, {args.changed:.0%} of the sentences changed (goal: <= 0.10 of a full export; "
          f"median of {args.repeat}; CPU time is what other jobs on the machine disturb least):")
    for n, r in rows.items():
        line = (f"{n:>10,} sentences: {r['incremental']:6.1f} s / {r['seconds']:6.1f} s full = "
                f"{r['incremental'] / r['seconds']:.3f}; CPU {r['incremental_cpu']:.1f} s / {r['cpu']:.1f} s = "
                f"{r['incremental_cpu'] / r['cpu']:.3f}")
        if "no_cache" in r:
            line += (f"; full without cache {r['no_cache']:.1f} s, {r['no_cache_cpu']:.1f} s CPU (a first export "
                     f"with the cache: {r['seconds'] / r['no_cache']:.2f}x, CPU {r['cpu'] / r['no_cache_cpu']:.2f}x)")
        if "identical" in r:
            line += "; files identical to a full export" if r["identical"] else "; FILES DIFFER from a full export"
        print(line)
    if not args.keep:
        os.rmdir(work)


if __name__ == "__main__":
    main()
