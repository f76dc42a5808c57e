"""Sentences/s through the ML backend's /predict against `mudawwana tag` on the same sentences, side by side.

    .venv/bin/python benchmarks/serve.py [--model-dir DIR] [--sentences 300] [--batch 100] [--repeat 2]
                                         [--studio]

Both sides use the same model and the same sentences of the bundled sample (its last --sentences), as raw text
and as CoNLL-U (a pushed task: its words tagged again):
- `tag`: corpus/tag_job.py tag_files (what `mudawwana tag` runs), the model loaded beforehand, one .txt line per
  sentence (raw) or the CoNLL-U file (words kept); the UD validator and the writing included;
- `/predict`: a real `mudawwana serve` process (model loaded at its start), the tasks posted as Label Studio
  posts them, --batch per request; the raw tasks' data writes go to a stub Label Studio that answers at once
  (this measures the backend; Label Studio's own PATCH cost is measured with --studio).
The ratio is /predict sentences/s over tag's (goal >= 0.9). Then one batch of 100 raw sentences against Label
Studio's predict timeout (ML_TIMEOUT_PREDICT, 100 s by default: label_studio/ml/api_connector.py), and with
--studio the same batch end to end: a real Label Studio (started from the test template, allowing a loopback
backend) asked to "Retrieve predictions" for 100 imported raw sentences, writes included.
Times are wall clock on this (shared, 2-core) machine: read the ratio, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"
LAYERS = ("upos", "lemma", "seg", "ner")

from mudawwana.annotate.config import build_config  # noqa: E402
from mudawwana.annotate.ml_backend import PREDICT_TIMEOUT  # noqa: E402
from mudawwana.annotate.ml_backend_connect import start_backend  # noqa: E402
from mudawwana.annotate.server import free_port  # noqa: E402
from mudawwana.annotate.tasks import sentence_to_task  # noqa: E402
from mudawwana.corpus.conllu_io import read_conllu, write_conllu  # noqa: E402
from mudawwana.corpus.stanza_models import load_pipeline  # noqa: E402
from mudawwana.corpus.tag_job import tag_files  # noqa: E402


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


class _StubStudio(BaseHTTPRequestHandler):
    """Just enough Label Studio for the backend's client: health, the login check, task updates."""

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._answer({"status": "UP"} if self.path.startswith("/health") else {"id": 1, "username": "bench"})

    def do_PATCH(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer({"id": int(self.path.rstrip("/").split("/")[-1])})

    def log_message(self, *args):
        pass


def post(url: str, body: dict, timeout: float = 600) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def predict_all(url: str, tasks: list[dict], config: str, batch: int) -> float:
    started = time.perf_counter()
    for k in range(0, len(tasks), batch):
        answer = post(f"{url}/predict", {"tasks": tasks[k:k + batch], "project": "1.1700000000",
                                         "label_config": config, "params": {"context": None}})
        assert len(answer["results"]) == len(tasks[k:k + batch]) and all(r["result"] for r in answer["results"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="default: the tests' tiny model (.cache/tiny-model-*)")
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for each side")
    parser.add_argument("--studio", action="store_true", help="also a real Label Studio round trip")
    args = parser.parse_args()
    model_dir = args.model_dir or next(iter(sorted((REPO / ".cache").glob("tiny-model-*"))), None)
    if model_dir is None:
        sys.exit("no --model-dir and no tiny model in .cache (run the tests once, or train one)")
    work = Path(tempfile.mkdtemp(prefix="mudawwana-bench-serve-"))
    sentences = list(read_conllu(SAMPLE))[-args.sentences:]
    txt = work / "news.txt"
    txt.write_text("".join(s.text + "\n" for s in sentences), encoding="utf-8")
    conllu = work / "pushed.conllu"
    write_conllu(sentences, conllu)
    config = build_config(LAYERS)
    raw_tasks = [{"id": k, "data": {"text": s.text, "words": ""}} for k, s in enumerate(sentences, 1)]
    pushed_tasks = [{"id": k, "data": sentence_to_task(s, layers=LAYERS, model_version="bench")["data"]}
                    for k, s in enumerate(sentences, 1)]

    stub = ThreadingHTTPServer(("127.0.0.1", 0), _StubStudio)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}"
    port = free_port()
    backend = start_backend(["--model-dir", str(model_dir)], port=port, log_file=work / "backend.log",
                            env={"LABEL_STUDIO_URL": stub_url, "LABEL_STUDIO_API_KEY": "bench-key"})
    say(f"{len(sentences)} sentences, model {model_dir.name}, backend pid {backend.pid}")
    try:
        nlp, info = load_pipeline(model_dir, device="cpu")
        words_nlp = load_pipeline(model_dir, device="cpu", pretokenized=True)
        # tag_files loads its words pipeline for CoNLL-U input itself, per run: hand it the loaded one, so both
        # sides are timed with their models loaded (the backend loads at its start)
        import mudawwana.corpus.stanza_models as stanza_models
        stanza_models.load_pipeline = lambda *a, pretokenized=False, **k: words_nlp if pretokenized else (nlp, info)
        predict_all(backend.url, raw_tasks[:10], config, args.batch)  # warm both sides
        tag_files([txt], work / "warm.conllu", pipeline=nlp, model_info=info, device="cpu")
        rows = []
        for name, tasks, source, tag_kwargs in (
                ("raw text", raw_tasks, txt, {"pipeline": nlp, "model_info": info}),
                ("pushed (CoNLL-U)", pushed_tasks, conllu, {"model_dir": model_dir, "pipeline": nlp,
                                                            "model_info": info})):
            tag_s = predict_s = float("inf")
            for _ in range(args.repeat):  # interleaved, best of N: the machine's load moves both alike
                out = work / "tagged.conllu"
                out.unlink(missing_ok=True)
                started = time.perf_counter()
                tag_files([source], out, device="cpu", **tag_kwargs)
                tag_s = min(tag_s, time.perf_counter() - started)
                predict_s = min(predict_s, predict_all(backend.url, tasks, config, args.batch))
            n = len(tasks)
            rows.append((name, n / tag_s, n / predict_s))
            say(f"{name}: tag {n / tag_s:.1f} sent/s, /predict {n / predict_s:.1f} sent/s")
        batch = raw_tasks[:100]
        started = time.perf_counter()
        predict_all(backend.url, batch, config, 100)
        batch_s = time.perf_counter() - started
    finally:
        backend.process.terminate()
        backend.process.wait(30)
        stub.shutdown()

    print("| input | `mudawwana tag` sent/s | `/predict` sent/s | ratio |")
    print("| --- | --- | --- | --- |")
    for name, tag_rate, predict_rate in rows:
        print(f"| {name} | {tag_rate:.1f} | {predict_rate:.1f} | {predict_rate / tag_rate:.2f} |")
    print(f"\none /predict of 100 raw sentences (data writes to a stub): {batch_s:.1f} s; Label Studio's predict "
          f"timeout: {PREDICT_TIMEOUT:.0f} s ({100 * batch_s / PREDICT_TIMEOUT:.0f}% of it)")
    if args.studio:
        studio_batch(model_dir, sentences[:100], work)
    shutil.rmtree(work, ignore_errors=True)


def studio_batch(model_dir: Path, sentences, work: Path) -> None:
    """Retrieve predictions for 100 raw sentences imported into a real Label Studio: the whole round trip."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures_studio import studio_template

    from mudawwana.annotate.client import connect, request
    from mudawwana.annotate.ml_backend_connect import connect_backend, loopback_backends_allowed
    from mudawwana.annotate.projects import import_tasks, list_tasks
    from mudawwana.annotate.push import push_corpus
    from mudawwana.annotate.server import start_label_studio

    with loopback_backends_allowed():
        studio = start_label_studio(work / "ls", template_dir=studio_template())
    backend = None
    try:
        client = connect(studio.url, studio.api_key)
        write_conllu(sentences[:1], work / "one.conllu")
        project = push_corpus(client, work / "one.conllu", "bench-serve", layers=LAYERS).project_id
        import_tasks(client, project, [{"data": {"text": s.text, "words": ""}} for s in sentences])
        backend = start_backend(["--model-dir", str(model_dir)], port=free_port(), log_file=work / "backend2.log",
                                env={"LABEL_STUDIO_URL": studio.url, "LABEL_STUDIO_API_KEY": studio.api_key})
        connect_backend(client, "bench-serve", backend.url)
        ids = sorted(t["id"] for t in list_tasks(client, project, include="id,data")
                     if not t["data"].get("conllu"))
        started = time.perf_counter()
        request(client, "POST", "api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project},
                body=json.dumps({"selectedItems": {"all": False, "included": ids}}).encode(),
                what="retrieve predictions", timeout=600)
        seconds = time.perf_counter() - started
        log = (work / "backend2.log").read_text()
        deferred = "left to the background writer" in log
        print(f"Label Studio 'Retrieve predictions' for {len(ids)} raw sentences, end to end (health, setup, one "
              f"/predict, {len(ids)} task data writes{', some deferred' if deferred else ''}, predictions saved): "
              f"{seconds:.1f} s of the {PREDICT_TIMEOUT:.0f} s timeout")
    finally:
        if backend is not None:
            backend.process.terminate()
        studio.stop()


if __name__ == "__main__":
    main()
