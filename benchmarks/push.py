"""Throughput of `push_corpus` vs posting the same tasks to Label Studio's import endpoint with plain HTTP.

    .venv/bin/python benchmarks/push.py [--n 10000] [--batch-size 1000] [--repeat 1] [--sdk] [--no-pull] [--no-push]
                                        [--url URL --api-key KEY | --data-dir DIR]

The corpus is the bundled sample repeated with new sent_ids. Each run pushes into a fresh project:
- plain HTTP: the task JSON built beforehand (not timed), POSTed batch by batch with httpx; the server's own
  import time (the `duration` each import answers) gives the server's bulk rate;
- push_corpus: the whole job (read the file, list what is there, build and validate every task, import, set the
  project's model version), timed end to end;
- with --sdk also push_corpus through the SDK's typed `projects.import_tasks`.
Goal: push_corpus >= 0.9 x the plain HTTP rate. Runs alternate (plain, push, plain, push ...) so machine noise
hits both; the best of each is reported. Then pull throughput: the same tasks imported with one annotation
each (the prediction accepted), pulled in full, and pulled again incrementally with nothing changed, three times
(the median against the goal of 1 s at 10,000 tasks).

Without --url a Label Studio is started for the run (from the test template if one was built, else a first
start of ~75 s) in a temp dir, and stopped at the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

from mudawwana.annotate.client import connect
from mudawwana.annotate.config import DEFAULT_LAYERS, build_config, check_layers
from mudawwana.annotate.pull import pull_corpus
from mudawwana.annotate.projects import project_description
from mudawwana.annotate.push import file_model_version, push_corpus
from mudawwana.annotate.tasks import sentence_to_task
from mudawwana.corpus.conllu_io import read_conllu, write_conllu

SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"


def make_corpus(n: int, path: Path) -> list:
    base = list(read_conllu(SAMPLE))
    out = []
    for i in range(n):
        s = copy.deepcopy(base[i % len(base)])
        s.set_meta("sent_id", f"{s.sent_id}-r{i // len(base)}")
        out.append(s)
    write_conllu(out, path)
    return out


def plain_import(url: str, api_key: str, title: str, layers, tasks: list[dict], batch_size: int) -> tuple[float, float]:
    """(seconds, server seconds) to create a project and POST the ready-made tasks in batches."""
    headers = {"Authorization": f"Token {api_key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=900) as http:
        start = time.perf_counter()
        r = http.post("/api/projects/", json={"title": title, "label_config": build_config(layers),
                                              "description": project_description(layers)})
        r.raise_for_status()
        pid = r.json()["id"]
        server = 0.0
        for i in range(0, len(tasks), batch_size):
            body = json.dumps(tasks[i:i + batch_size], ensure_ascii=False, separators=(",", ":")).encode()
            r = http.post(f"/api/projects/{pid}/import", content=body)
            r.raise_for_status()
            server += float(r.json().get("duration") or 0.0)
        return time.perf_counter() - start, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000, help="sentences (tasks) per run")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--layers", default=",".join(DEFAULT_LAYERS))
    parser.add_argument("--sdk", action="store_true", help="also push through the SDK's typed import call")
    parser.add_argument("--no-pull", action="store_true", help="skip the pull measurement")
    parser.add_argument("--no-push", action="store_true", help="skip the push measurements (pull only)")
    parser.add_argument("--url")
    parser.add_argument("--api-key")
    parser.add_argument("--data-dir", type=Path, help="Label Studio data dir to start (default: a temp dir)")
    args = parser.parse_args()
    layers = check_layers(args.layers.split(","))

    work = Path(tempfile.mkdtemp(prefix="mudawwana-bench-push-"))
    server = None
    url, api_key = args.url, args.api_key
    if not url:
        from mudawwana.annotate.server import find_label_studio, label_studio_version, start_label_studio

        template = REPO / ".cache" / f"ls-template-{label_studio_version(find_label_studio())}"
        data_dir = args.data_dir or work / "ls"
        print(f"starting Label Studio in {data_dir} ...", file=sys.stderr, flush=True)
        server = start_label_studio(data_dir, timeout=600,
                                    template_dir=template if (template / "label_studio.sqlite3").exists() else None)
        url, api_key = server.url, server.api_key
    try:
        client = connect(url, api_key, timeout=900)
        corpus = work / "bench.conllu"
        sentences = make_corpus(args.n, corpus)
        version = file_model_version(corpus)
        tasks = []
        for s in sentences:
            t = sentence_to_task(s, layers=layers, model_version=version)
            t["meta"] = {"sent_id": s.sent_id, "text_sha1": t["data"]["text_sha1"]}
            tasks.append(t)
        tag = uuid.uuid4().hex[:6]
        best: dict[str, float] = {}
        server_rate = 0.0
        runs = [("plain HTTP", None), ("push_corpus", "http")] + ([("push_corpus via SDK", "sdk")] if args.sdk else [])
        for r in range(0 if args.no_push else args.repeat):
            for name, via in runs:
                title = f"bench-{tag}-{r}-{via or 'plain'}"
                if via is None:
                    secs, server_secs = plain_import(url, api_key, title, layers, tasks, args.batch_size)
                    server_rate = max(server_rate, args.n / server_secs if server_secs else 0.0)
                else:
                    start = time.perf_counter()
                    report = push_corpus(client, corpus, title, layers=layers, batch_size=args.batch_size, via=via)
                    secs = time.perf_counter() - start
                    assert report.imported == args.n and not report.invalid, report
                rate = args.n / secs
                best[name] = max(best.get(name, 0.0), rate)
                print(f"run {r + 1} {name:22s} {secs:7.1f} s {rate:7.1f} tasks/s", file=sys.stderr, flush=True)
        print(f"tasks: {args.n} ({len(sentences[0].words)}+ words each), batches of {args.batch_size}, "
              f"layers {','.join(layers)}")
        if best:
            print(f"{'server (its own import time)':32s} {server_rate:8.1f} tasks/s")
        for name, rate in best.items():
            print(f"{name:32s} {rate:8.1f} tasks/s")
        if best:
            ratio = best["push_corpus"] / best["plain HTTP"]
            print(f"ratio push_corpus / plain HTTP: {ratio:.3f} (goal >= 0.90)")
        if "push_corpus via SDK" in best:
            print(f"ratio push via SDK / plain HTTP: {best['push_corpus via SDK'] / best['plain HTTP']:.3f}")

        if not args.no_pull:
            annotated = []
            for t in tasks:
                t = dict(t)
                t["annotations"] = [{"result": t["predictions"][0]["result"]}]
                annotated.append(t)
            title = f"bench-{tag}-pull"
            plain_import(url, api_key, title, layers, annotated, args.batch_size)
            # A pull's watermark stops a second short of the server's clock (annotate/pull.py), so tasks written
            # in the last second are fetched again by the next pull: let that second pass, as it does between a
            # maintainer's pulls.
            time.sleep(2.2)
            out = work / "pulled.conllu"
            start = time.perf_counter()
            report = pull_corpus(client, title, out)
            secs = time.perf_counter() - start
            assert report.written == args.n, (report.written, report.unmappable[:3])
            print(f"{'pull (full: export + mapping)':32s} {args.n / secs:8.1f} tasks/s ({secs:.1f} s)")
            again = []
            for _ in range(3):
                start = time.perf_counter()
                report = pull_corpus(client, title, out)
                again.append(time.perf_counter() - start)
                assert report.incremental and report.fetched == 0 and report.total_written == args.n, report
            unchanged = statistics.median(again)
            print(f"{'pull again, nothing changed':32s} {unchanged:8.2f} s (median of 3: "
                  f"{', '.join(f'{x:.2f}' for x in again)}); ratio to the goal of 1 s: {unchanged / 1.0:.2f}; "
                  f"to the full pull: {unchanged / secs:.4f}")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
