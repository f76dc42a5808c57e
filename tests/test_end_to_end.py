"""The whole loop as a user runs it, through the `mudawwana` command only (annotators simulated via the API).

train a tiny model -> tag raw news text -> push to the real Label Studio -> three annotators (A and B disagree
on a few words, C sides with A on one sentence) -> pull with each policy -> agreement -> export (pull + export
in one step) -> load the dataset in a fresh process -> udvalidate -> export again: nothing changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mudawwana.corpus.conllu_io import read_conllu, write_conllu

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]

BIN = Path(sys.executable).parent
SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "data" / "ar_pud-sample.conllu"
LAYERS = "upos,lemma,seg,ner,deps"


def run(*args: str, env: dict, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "mudawwana"), *args], capture_output=True, text=True, env=env, timeout=900)
    if ok:
        assert result.returncode == 0, f"mudawwana {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def sentence_upos(path: Path) -> dict[str, list[str]]:
    return {s.sent_id: [w.upos for w in s.words] for s in read_conllu(path)}


def other_tag(tag: str) -> str:
    return "NOUN" if tag != "NOUN" else "VERB"


@pytest.fixture(scope="module")
def env(studio, tmp_path_factory):
    e = dict(os.environ, LABEL_STUDIO_URL=studio.url, LABEL_STUDIO_API_KEY=studio.api_key, OMP_NUM_THREADS="1")
    e.pop("HF_TOKEN", None)
    return e


def test_the_whole_loop_through_the_cli(env, ls_client, tmp_path):
    # 1. train a tiny model on part of the sample
    sentences = list(read_conllu(SAMPLE))
    write_conllu(sentences[:800], tmp_path / "train.conllu")
    write_conllu(sentences[800:900], tmp_path / "dev.conllu")
    run("train", str(tmp_path / "train.conllu"), "--dev", str(tmp_path / "dev.conllu"), "-o",
        str(tmp_path / "model"), "--size", "tiny", "--threads", "1", env=env)
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["size"] == "tiny"

    # 2. tag raw news text (sentences the model never saw), one paragraph per line
    news = tmp_path / "news.txt"
    news.write_text("\n".join(s.text for s in sentences[900:906]) + "\n", encoding="utf-8")
    corpus = tmp_path / "corpus.conllu"
    run("tag", str(news), "-o", str(corpus), "--model-dir", str(tmp_path / "model"), env=env)
    tagged = list(read_conllu(corpus))
    assert len(tagged) >= 6

    # 3. push, twice: the second push creates nothing
    project = f"e2e-{uuid.uuid4().hex[:8]}"
    run("push", str(corpus), "--project", project, "--layers", LAYERS, env=env)
    run("push", str(corpus), "--project", project, env=env)
    [proj] = [p for p in ls_client.projects.list() if p.title == project]
    tasks = sorted(ls_client.tasks.list(project=proj.id), key=lambda t: t.id)
    assert len(tasks) == len(tagged)

    # 4. annotators: A accepts every prediction; C (on the first task only) agrees with A; B, last, changes the
    #    UPOS of the first word of the first two tasks.
    def new_user(name):
        return ls_client.users.create(username=name, email=f"{name}-{uuid.uuid4().hex[:6]}@example.com",
                                      password=uuid.uuid4().hex).id

    a, b, c = ls_client.users.whoami().id, new_user("ann-b"), new_user("ann-c")
    predictions = {t.id: ls_client.predictions.list(task=t.id)[0].result for t in tasks}
    changed = {}
    for t in tasks:
        ls_client.annotations.create(t.id, result=copy.deepcopy(predictions[t.id]), completed_by=a)
    ls_client.annotations.create(tasks[0].id, result=copy.deepcopy(predictions[tasks[0].id]), completed_by=c)
    for i, t in enumerate(tasks):
        result = copy.deepcopy(predictions[t.id])
        if i < 2:
            first = next(r for r in result if r.get("id") == "w1" and r.get("from_name") == "upos")
            first["value"]["labels"] = [other_tag(first["value"]["labels"][0])]
            changed[t.data["sent_id"]] = first["value"]["labels"][0]
        ls_client.annotations.create(t.id, result=result, completed_by=b)

    # 5. pull with each policy
    predicted = sentence_upos(corpus)
    first_sid, second_sid = tasks[0].data["sent_id"], tasks[1].data["sent_id"]
    pulled = run("pull", "--project", project, "-o", str(tmp_path / "latest.conllu"), "--policy", "latest", env=env)
    latest = sentence_upos(tmp_path / "latest.conllu")
    assert set(latest) == set(predicted), pulled.stderr
    for sid, upos in predicted.items():
        expected = [changed[sid]] + upos[1:] if sid in changed else upos
        assert latest[sid] == expected, sid

    run("pull", "--project", project, "-o", str(tmp_path / "majority.conllu"), "--policy", "majority", env=env)
    majority = sentence_upos(tmp_path / "majority.conllu")
    assert majority[first_sid] == predicted[first_sid]      # A and C outvote B
    assert majority[second_sid] == latest[second_sid]       # a tie goes to the latest (B)

    ls_client.annotations.update(ls_client.annotations.list(id=tasks[2].id)[0].id, ground_truth=True)
    run("pull", "--project", project, "-o", str(tmp_path / "reviewed.conllu"), "--policy", "reviewed", env=env)
    reviewed = sentence_upos(tmp_path / "reviewed.conllu")
    assert list(reviewed) == [tasks[2].data["sent_id"]]

    # 6. agreement: only UPOS disagrees, on the two changed words
    report = json.loads(run("agreement", "--project", project, "--json", env=env).stdout)
    upos = report["columns"]["upos"]
    assert 0 < upos["observed"] < 1
    assert report["columns"]["lemma"]["observed"] == 1
    assert {d["sent_id"] for d in report["top"] if d["disagreeing"]} == {first_sid, second_sid}

    # 7. pull + export in one step, then load it as a researcher would, in a fresh process
    out = tmp_path / "dataset"
    run("export", "--project", project, "-o", str(out), "--name", "e2e", env=env)
    loader = ("import json, sys; from datasets import load_from_disk, load_dataset\n"
              "d = load_from_disk(sys.argv[1]); p = load_dataset('parquet', data_dir=sys.argv[1] + '/data')\n"
              "rows = [r for s in d for r in d[s]]\n"
              "names = d[list(d)[0]].features['words'].feature['upos'].names\n"
              "print(json.dumps({'n': len(rows), 'np': sum(len(p[s]) for s in p), 'names': names,\n"
              "  'upos': {r['sent_id']: [names[w['upos']] for w in r['words']] for r in rows}}))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", loader, str(out)], capture_output=True, text=True,
                                       check=True, env=env).stdout)
    assert loaded["n"] == loaded["np"] == len(tagged)
    assert len(loaded["names"]) == 17
    assert loaded["upos"] == latest

    # 8. the exported CoNLL-U is UD-valid
    conllu_files = sorted(out.glob("ar_e2e-ud-*.conllu"))
    assert conllu_files
    for path in conllu_files:
        result = subprocess.run([str(BIN / "udvalidate"), "--lang", "ar", "--level", "2", str(path)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr

    # 9. export again with nothing changed: every file byte-identical
    before = file_hashes(out)
    run("export", "--project", project, "-o", str(out), "--name", "e2e", env=env)
    assert file_hashes(out) == before
