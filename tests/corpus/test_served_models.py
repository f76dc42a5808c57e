"""Stanza's official-models path, tested without the internet (issue 9).

A model set that `mudawwana train` wrote (the tiny fixture, plus a tiny NER model) is written in stanza's
resources layout (corpus/stanza_resources.py) and served by a real HTTP server on 127.0.0.1. With
`STANZA_RESOURCES_URL` pointing at it, `mudawwana tag` WITHOUT `--model-dir` runs the default path through
stanza's own download code (resources JSON, each model's md5 check), loads the package and tags. Every test uses
its own `STANZA_RESOURCES_DIR` under tmp_path, so nothing touches ~/.cache.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.data_model import UPOS_TAGS
from mudawwana.corpus.errors import InputError, ModelNotFoundError
from mudawwana.corpus.stanza_models import HOW_TO_GET_ONE, load_pipeline
from mudawwana.corpus.stanza_resources import write_stanza_resources
from fixtures_models import NER_TYPE, SAMPLE

MUDAWWANA = Path(sys.executable).parent / "mudawwana"
PACKAGE = "tiny-ar-pud-ner"  # the package name: the NER fixture's manifest name
MODELS = ("tokenize", "pos", "lemma", "depparse", "ner")
STANZA_VARIABLES = ("STANZA_RESOURCES_URL", "STANZA_RESOURCES_DIR", "STANZA_RESOURCES_VERSION", "STANZA_MODEL_URL")


class Server:
    """http.server on 127.0.0.1, a free port, in a thread; remembers the paths it was asked for."""

    def __init__(self, root: Path):
        requested = self.requested = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # quiet; record instead
                requested.append(self.path)

        self.root = root
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/stanza"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.running = False

    def start(self) -> None:
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.running = False
        self.httpd.server_close()  # the port refuses connections from now on


@pytest.fixture
def served(tiny_ner_model_dir, tmp_path):
    """The NER fixture's model set in stanza's layout under `www/stanza/`, served at `server.url`."""
    server = Server(tmp_path / "www")  # bound first: the resources JSON holds the absolute URL
    try:
        server.resources = write_stanza_resources(tiny_ner_model_dir, tmp_path / "www" / "stanza", server.url)
    except BaseException:
        server.stop()
        raise
    server.model_dir = tiny_ner_model_dir
    server.start()
    yield server
    server.stop()


def tag(tmp_path: Path, url: str, resources_dir: Path, output: Path) -> subprocess.CompletedProcess:
    """`mudawwana tag` on three sample sentences, no --model-dir, stanza pointed at `url` and `resources_dir`."""
    text = tmp_path / "news.txt"
    if not text.exists():  # training sentences with proper nouns: the silver NER model finds entities in them
        sentences = list(read_conllu(SAMPLE))[:3]
        text.write_text("".join(s.text + "\n" for s in sentences), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in STANZA_VARIABLES}
    env.update(STANZA_RESOURCES_URL=url, STANZA_RESOURCES_DIR=str(resources_dir), OMP_NUM_THREADS="1",
               HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    return subprocess.run([str(MUDAWWANA), "tag", str(text), "-o", str(output), "--device", "cpu"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def error_line(done: subprocess.CompletedProcess) -> str:
    """The command's one `error:` line; anything else on stderr may only be the progress bar's last frame."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("error: "), done.stderr
    assert all("Tagging" in line for line in lines if line != errors[0]), done.stderr
    return errors[0]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def served_md5s(server) -> dict[str, str]:
    entry = json.loads(server.resources.read_text(encoding="utf-8"))["ar"]
    return {p: entry[p][PACKAGE]["md5"] for p in MODELS}


# --- the layout, no server --------------------------------------------------------------------------------------

def test_layout_is_stanzas(tmp_path):
    """Package entries with md5s, dependencies on pretrain.pt, the default package and zip, the url template."""
    model_dir = tmp_path / "models" / "My Set"
    model_dir.mkdir(parents=True)
    for name in ("tokenize", "mwt", "pos", "lemma", "depparse", "pretrain"):
        (model_dir / f"{name}.pt").write_bytes(name.encode() * 10)
    resources_file = write_stanza_resources(model_dir, tmp_path / "www", "http://mirror.example:8080/stanza/")
    assert resources_file.name == "resources_1.15.0.json"  # what stanza 1.15 asks for
    resources = json.loads(resources_file.read_text(encoding="utf-8"))
    assert resources["url"] == "http://mirror.example:8080/stanza/{lang}/models/{filename}"
    assert resources["arabic"] == {"alias": "ar"}
    ar = resources["ar"]
    assert ar["lang_name"] == "Arabic"
    package = "my_set"  # the folder's name (no manifest), lowercased and file-name safe
    expected = {p: package for p in ("tokenize", "mwt", "pos", "lemma", "depparse")}
    assert ar["default_processors"] == expected and ar["packages"]["default"] == expected
    for name in ("tokenize", "mwt", "pos", "lemma", "depparse", "pretrain"):
        served = tmp_path / "www" / "ar" / "models" / name / f"{package}.pt"
        assert served.read_bytes() == (model_dir / f"{name}.pt").read_bytes()
        assert ar[name][package]["md5"] == md5(served)
        needs = [{"model": "pretrain", "package": package}] if name in ("pos", "depparse") else None
        assert ar[name][package].get("dependencies") == needs
    assert "ner" not in ar
    default_zip = tmp_path / "www" / "ar" / "models" / "default.zip"
    assert ar["default_md5"] == md5(default_zip)
    with zipfile.ZipFile(default_zip) as z:
        assert sorted(z.namelist()) == sorted(f"{n}/{package}.pt" for n in
                                              ("tokenize", "mwt", "pos", "lemma", "depparse", "pretrain"))
    # rewriting the same tree is fine; a folder holding something else is not replaced
    write_stanza_resources(model_dir, tmp_path / "www", "http://127.0.0.1:1/x", package="other")
    assert json.loads(resources_file.read_text())["ar"]["default_processors"]["pos"] == "other"
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(InputError, match="not a stanza resources tree"):
        write_stanza_resources(model_dir, tmp_path / "notes", "http://127.0.0.1:1")


def test_layout_refuses_what_is_not_a_model_set(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "pos.pt").write_bytes(b"x")
    with pytest.raises(InputError, match="tokenize.pt, lemma.pt, depparse.pt"):
        write_stanza_resources(tmp_path / "half", tmp_path / "www", "http://127.0.0.1:1")
    with pytest.raises(InputError, match="does not exist"):
        write_stanza_resources(tmp_path / "nothing", tmp_path / "www", "http://127.0.0.1:1")
    with pytest.raises(InputError, match="http"):
        write_stanza_resources(tmp_path / "half", tmp_path / "www", "/srv/stanza")


# --- the default path through stanza's download code, from a real server -----------------------------------------

@pytest.mark.slow
def test_default_path_downloads_checks_loads_and_tags_then_fails_offline(served, tmp_path):
    resources_dir = tmp_path / "stanza-resources"
    done = tag(tmp_path, served.url, resources_dir, tmp_path / "out.conllu")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    # downloaded over HTTP: the JSON, then each model of the default package, md5-checked by stanza
    assert sorted(served.requested) == sorted(["/stanza/resources_1.15.0.json"]
                                              + [f"/stanza/ar/models/{p}/{PACKAGE}.pt" for p in MODELS])
    assert json.loads((resources_dir / "resources.json").read_text()) == \
        json.loads(served.resources.read_text())
    for processor, expected_md5 in served_md5s(served).items():
        downloaded = resources_dir / "ar" / processor / f"{PACKAGE}.pt"
        assert md5(downloaded) == expected_md5 == md5(served.model_dir / f"{processor}.pt")

    # loaded and tagged by the official path: its model_version, not the model directory's
    sentences = list(read_conllu(tmp_path / "out.conllu"))
    assert len(sentences) >= 3
    versions = {s.get_meta("model_version") for s in sentences}
    assert len(versions) == 1 and re.fullmatch(r"stanza-ar@[0-9a-f]{12}", versions.pop())
    assert all(w.upos in UPOS_TAGS and w.lemma for s in sentences for w in s.words)
    entities = [e for s in sentences for e in s.entities]
    assert entities and {e.label for e in entities} == {NER_TYPE}  # the served (silver) NER model ran
    conllu = (tmp_path / "out.conllu").read_text(encoding="utf-8")
    assert f"NER=B-{NER_TYPE}" in conllu

    # the server stopped: what was downloaded loads without the network, the same model version
    served.stop()
    again = tag(tmp_path, served.url, resources_dir, tmp_path / "again.conllu")
    assert again.returncode == 0, again.stderr
    assert [s.get_meta("model_version") for s in read_conllu(tmp_path / "again.conllu")] == \
        [s.get_meta("model_version") for s in sentences]

    # ... and with nothing downloaded: one line saying the download failed, offline, and what to do
    offline = tag(tmp_path, served.url, tmp_path / "empty-resources", tmp_path / "offline.conllu")
    line = error_line(offline)
    assert "downloading it from " + served.url + " failed" in line
    assert "ConnectionError" in line and "offline" in line
    assert str(tmp_path / "empty-resources") in line and HOW_TO_GET_ONE in line
    assert not (tmp_path / "offline.conllu").exists()


@pytest.mark.slow
def test_a_file_that_fails_stanzas_md5_check_is_refused_then_fetched_again(served, tmp_path, monkeypatch):
    pos = served.root / "stanza" / "ar" / "models" / "pos" / f"{PACKAGE}.pt"
    good = pos.read_bytes()
    pos.write_bytes(good[:1000] + bytes([good[1000] ^ 0xFF]) + good[1001:])  # one byte changed on the server
    resources_dir = tmp_path / "stanza-resources"
    done = tag(tmp_path, served.url, resources_dir, tmp_path / "out.conllu")
    line = error_line(done)
    expected = served_md5s(served)["pos"]
    assert "md5 check refused" in line
    assert f"md5 for {resources_dir / 'ar' / 'pos' / PACKAGE}.pt is {md5(pos)}, expected {expected}" in line
    assert not (tmp_path / "out.conllu").exists()

    # the server fixed: the next load fetches the refused file again and the ones after it, not the JSON nor the
    # tokenizer (in this process: the variables are read when load_pipeline runs, long after stanza's import)
    pos.write_bytes(good)
    served.requested.clear()
    for name in ("STANZA_RESOURCES_VERSION", "STANZA_MODEL_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STANZA_RESOURCES_URL", served.url)
    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(resources_dir))
    nlp, info = load_pipeline(None, device="cpu")
    assert served.requested == [f"/stanza/ar/models/{p}/{PACKAGE}.pt" for p in MODELS if p != "tokenize"]
    assert info.name == "stanza-ar" and info.has_ner and info.path == resources_dir
    assert info.processors == MODELS
    assert nlp(list(read_conllu(SAMPLE))[0].text).sentences


@pytest.mark.slow
def test_stanza_alone_downloads_the_default_zip_and_mudawwana_loads_it(served, tmp_path, monkeypatch):
    """What a mirror's users do without mudawwana: stanza.download("ar") fetches default.zip (default_md5)."""
    import stanza

    resources_dir = tmp_path / "stanza-resources"
    stanza.download("ar", model_dir=str(resources_dir), resources_url=served.url, logging_level="WARN")
    assert sorted(served.requested) == ["/stanza/ar/models/default.zip", "/stanza/resources_1.15.0.json"]
    for processor, expected_md5 in served_md5s(served).items():
        assert md5(resources_dir / "ar" / processor / f"{PACKAGE}.pt") == expected_md5
    served.stop()
    # resources_url= as an argument (no variable); the server is gone: everything is already there
    monkeypatch.delenv("STANZA_RESOURCES_URL", raising=False)
    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(resources_dir))
    nlp, info = load_pipeline(None, device="cpu", processors="tokenize,ner", resources_url=served.url)
    assert info.processors == ("tokenize", "ner")
    assert [e.type for s in nlp(list(read_conllu(SAMPLE))[0].text).sentences for e in s.ents]
    # a fresh resources dir and the server gone: the one-line error, naming the URL given as an argument
    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(tmp_path / "fresh"))
    with pytest.raises(ModelNotFoundError, match="ConnectionError") as e:
        load_pipeline(None, device="cpu", resources_url=served.url)
    assert served.url in str(e.value) and "\n" not in str(e.value)
