"""`pull_corpus` / `mudawwana pull` / `agreement` against a real Label Studio (the session fixture `studio`).

Annotations are created through the API as an annotator's Submit would store them: the prediction's result,
modified. Label Studio keeps region ids through Submit (docs/label-studio.md), so they are the join key here as in the UI.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from mudawwana.annotate.agreement import agreement
from mudawwana.annotate.policies import pseudonym
from mudawwana.annotate.pull import ADDED_META, PullError, pull_corpus, state_path_for, strip_added_meta
from mudawwana.annotate.projects import list_tasks
from mudawwana.annotate.push import push_corpus
from mudawwana.corpus.conllu_io import format_sentence, read_conllu, write_conllu
from mudawwana.corpus.data_model import (META_AGREEMENT, META_ANNOTATORS, META_STATUS, Entity, Token, Word, assign_offsets)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "data" / "ar_pud-sample.conllu"
ALL_LAYERS = ("upos", "lemma", "seg", "deps", "ner")

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]


# --- helpers ---------------------------------------------------------------------------------------------------

def sample(n: int):
    out = []
    for s in read_conllu(SAMPLE):
        out.append(s)
        if len(out) == n:
            break
    return out


def push(client, title, tmp_path, sentences, layers=ALL_LAYERS):
    path = tmp_path / "pushed.conllu"
    write_conllu(sentences, path)
    report = push_corpus(client, path, title, layers=layers)
    assert report.imported == len(sentences) and not report.invalid, report.invalid
    tasks = {t["meta"]["sent_id"]: t["id"] for t in list_tasks(client, report.project_id, include="id,meta")}
    return path, report.project_id, tasks


def prediction(client, task_id) -> list[dict]:
    return copy.deepcopy(client.predictions.list(task=task_id)[0].result)


def annotate(client, task_id, result, user=None, **kw):
    if user is not None:
        kw["completed_by"] = user
    return client.annotations.create(task_id, result=result, **kw)


def accept_all(client, tasks, user=None, skip=()):
    for sid, tid in tasks.items():
        if sid not in skip:
            annotate(client, tid, prediction(client, tid), user)


def without_added_meta(text: str) -> str:
    """A pulled file minus the comment lines pull adds: what "identical modulo metadata" means."""
    prefixes = tuple(f"# {key} =" for key in ADDED_META)
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(prefixes))


def region(result, text):
    """The word region (UPOS control) whose text is `text`."""
    matches = [r for r in result if r.get("from_name") == "upos" and r["value"].get("text") == text]
    assert len(matches) == 1, (text, matches)
    return matches[0]


def new_user(client):
    name = f"ann-{uuid.uuid4().hex[:8]}"
    return client.users.create(username=name, email=f"{name}@example.com", password=uuid.uuid4().hex).id


def merge_tokens(sentence, i):
    """The tagger's mistake to correct: single-word tokens i and i+1 (written together) as one word."""
    t1, t2 = sentence.tokens[i], sentence.tokens[i + 1]
    w1, w2 = t1.words[0], t2.words[0]
    for w in sentence.words:
        if w.head == w2.id and w is not w1:
            w.head = w1.id
    merged = Word(w1.id, w1.form + w2.form, w2.lemma, w2.upos, w2.xpos, w2.feats, w2.head, w2.deprel, "_", w2.misc)
    sentence.tokens[i:i + 2] = [Token(form=merged.form, words=[merged])]
    sentence.renumber()
    assign_offsets(sentence)
    return sentence


# --- accept everything: the pushed corpus comes back -------------------------------------------------------------

def test_accepted_predictions_give_back_the_pushed_corpus(ls_client, project_title, tmp_path):
    pushed, project_id, tasks = push(ls_client, project_title, tmp_path, sample(20))
    accept_all(ls_client, tasks)
    out = tmp_path / "pulled.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert (report.fetched, report.written, report.unannotated, report.unmappable) == (20, 20, 0, [])
    assert report.statuses == {"submitted": 20}
    text = out.read_text(encoding="utf-8")
    assert without_added_meta(text).encode() == pushed.read_bytes()
    me = ls_client.users.whoami().id
    for s in read_conllu(out):
        assert s.get_meta(META_STATUS) == "submitted"
        assert s.get_meta(META_ANNOTATORS) == pseudonym(project_id, me)
        assert s.get_meta(META_AGREEMENT) is None
    assert "@" not in text  # no emails anywhere
    state = json.loads(state_path_for(out).read_text())
    assert state["project_id"] == project_id and state["policy"] == "latest" and len(state["written"]) == 20
    assert "api_key" not in json.dumps(state) and "@example" not in json.dumps(state)


# --- every kind of correction comes back exactly ----------------------------------------------------------------

def test_corrections_come_back_exactly_and_validate(ls_client, project_title, tmp_path):
    gold = sample(20)
    first = merge_tokens(copy.deepcopy(gold[0]), 6)  # ل + أوباما pushed as one word لأوباما
    assert any(w.form == "لأوباما" for w in first.words)
    pushed, project_id, tasks = push(ls_client, project_title, tmp_path, [first] + gold[1:])
    accept_all(ls_client, tasks, skip={first.sent_id})

    res = prediction(ls_client, tasks[first.sent_id])
    ids = {r["value"]["text"]: r["id"] for r in res if r.get("from_name") == "upos"}
    # UPOS: يوم ADV -> NOUN
    region(res, "يوم")["value"]["labels"] = ["NOUN"]
    # lemma: المساعدة مُساعِد -> مُساعِدَة
    lemma = next(r for r in res if r.get("from_name") == "lemma" and r["id"] == ids["المساعدة"])
    lemma["value"]["text"] = ["مُساعِدَة"]
    # head and deprel: يوم from نشرت (obl:tmod) to كتبت (obl)
    rel = next(r for r in res if r.get("type") == "relation" and r["to_id"] == ids["يوم"])
    rel["from_id"], rel["labels"] = ids["كتبت"], ["obl"]
    # clitic split: لأوباما -> ل + أوباما, with their tags, lemmas and heads
    merged = region(res, "لأوباما")
    start, end = merged["value"]["start"], merged["value"]["end"]
    res = [r for r in res if r.get("id") != merged["id"] and merged["id"] not in (r.get("to_id"), r.get("from_id"))]
    for rid, s, e, form, upos, lemma in (("s1", start, start + 1, "ل", "ADP", "لِ"),
                                         ("s2", start + 1, end, "أوباما", "PROPN", "اوباما")):
        span = {"start": s, "end": e}
        res.append({"id": rid, "from_name": "upos", "to_name": "words", "type": "labels",
                    "value": {**span, "text": form, "labels": [upos]}})
        res.append({"id": rid, "from_name": "lemma", "to_name": "words", "type": "textarea",
                    "value": {**span, "text": [lemma]}})
    res.append({"type": "relation", "from_id": "s2", "to_id": "s1", "direction": "right", "labels": ["case"]})
    res.append({"type": "relation", "from_id": ids["المساعدة"], "to_id": "s2", "direction": "right",
                "labels": ["nmod"]})
    # NER: كوري شولمان is a person
    s = first.text.index("كوري شولمان")
    res.append({"id": "e1", "from_name": "ner", "to_name": "text", "type": "labels",
                "value": {"start": s, "end": s + len("كوري شولمان"), "text": "كوري شولمان", "labels": ["PER"]}})
    annotate(ls_client, tasks[first.sent_id], res)

    out = tmp_path / "corrected.conllu"
    # The split word becomes a multi-word token (--clitics mwt); by default a PUD sentence's split gives glued
    # tokens, PUD's own convention (tests/annotate/test_mapping.py test_split_a_word).
    report = pull_corpus(ls_client, project_title, out, clitics="mwt")
    assert report.written == 20 and report.unmappable == [], report.unmappable

    expected = copy.deepcopy(gold[0])
    words = {w.form: w for w in expected.words}
    words["يوم"].upos = "NOUN"
    words["المساعدة"].lemma = "مُساعِدَة"
    words["يوم"].head, words["يوم"].deprel = 1, "obl"
    expected.tokens[6:8] = [Token(form="لأوباما", words=[Word(7, "ل", "لِ", "ADP", "_", "_", 8, "case"),
                                                         Word(8, "أوباما", "اوباما", "PROPN", "_", "_", 5, "nmod")])]
    expected.set_entities([Entity(1, 3, "PER")])
    expected_file = tmp_path / "expected.conllu"
    write_conllu([expected] + gold[1:], expected_file)
    assert without_added_meta(out.read_text(encoding="utf-8")) == expected_file.read_text(encoding="utf-8")

    run = subprocess.run([str(Path(sys.executable).with_name("udvalidate")), "--lang", "ar", "--level", "2", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


# --- incremental pulls ----------------------------------------------------------------------------------------------

def test_incremental_pull_fetches_only_changed_tasks(ls_client, project_title, tmp_path):
    sentences = sample(6)
    _, project_id, tasks = push(ls_client, project_title, tmp_path, sentences, layers=("upos", "lemma"))
    accept_all(ls_client, tasks, skip={sentences[5].sent_id})
    time.sleep(2.2)  # the watermark stops a second short of the server's clock at the start of a pull
    out = tmp_path / "inc.conllu"
    first = pull_corpus(ls_client, project_title, out)
    assert not first.incremental and first.fetched == 6 and first.written == 5 and first.unannotated == 1
    before = {s.sent_id: format_sentence(s) for s in read_conllu(out)}

    # one task corrected again, one annotated for the first time
    changed, new = sentences[2].sent_id, sentences[5].sent_id
    res = prediction(ls_client, tasks[changed])
    word = next(r for r in res if r.get("from_name") == "upos")
    word["value"]["labels"] = ["X"]
    annotate(ls_client, tasks[changed], res)
    accept_all(ls_client, {new: tasks[new]})
    time.sleep(2.2)

    second = pull_corpus(ls_client, project_title, out)
    assert second.incremental and second.since == first.watermark
    assert second.fetched == 2 and second.written == 2 and second.total_written == 6
    after = list(read_conllu(out))
    assert [s.sent_id for s in after] == [s.sent_id for s in sentences]  # the project's task order
    for s in after:
        if s.sent_id not in (changed, new):
            assert format_sentence(s) == before[s.sent_id]
    assert next(s for s in after if s.sent_id == changed).words[0].upos == "X"

    third = pull_corpus(ls_client, project_title, out)  # nothing changed since
    assert third.incremental and third.fetched == 0 and third.total_written == 6

    # another policy cannot be merged into this output: a full pull
    fourth = pull_corpus(ls_client, project_title, out, policy="majority")
    assert not fourth.incremental and fourth.fetched == 6 and "policy" in fourth.full_reason
    fifth = pull_corpus(ls_client, project_title, out, policy="majority", full=True)
    assert not fifth.incremental and fifth.fetched == 6 and fifth.total_written == 6


# --- several annotators: policies and agreement ---------------------------------------------------------------------

@pytest.fixture
def three_annotators(ls_client, project_title, tmp_path):
    """Tasks 1-3 annotated by A (the admin), C, then B (latest); B changes task 1's first word's UPOS and
    task 2's second word's lemma, and splits a word of task 3. Task 4 skipped, task 5 unannotated. A's
    annotation of task 1 is ground truth."""
    sentences = sample(5)
    _, project_id, tasks = push(ls_client, project_title, tmp_path, sentences, layers=("upos", "lemma", "seg"))
    sid = [s.sent_id for s in sentences]
    a, b, c = ls_client.users.whoami().id, new_user(ls_client), new_user(ls_client)
    for i in range(3):
        annotate(ls_client, tasks[sid[i]], prediction(ls_client, tasks[sid[i]]), a, ground_truth=(i == 0))
        annotate(ls_client, tasks[sid[i]], prediction(ls_client, tasks[sid[i]]), c)
    res1 = prediction(ls_client, tasks[sid[0]])
    upos_regions = [r for r in res1 if r.get("from_name") == "upos"]
    upos_regions[0]["value"]["labels"] = ["X"]
    annotate(ls_client, tasks[sid[0]], res1, b)
    res2 = prediction(ls_client, tasks[sid[1]])
    lemmas = [r for r in res2 if r.get("from_name") == "lemma"]
    lemmas[1]["value"]["text"] = ["غيره"]
    annotate(ls_client, tasks[sid[1]], res2, b)
    res3 = prediction(ls_client, tasks[sid[2]])
    long_word = next(r for r in res3 if r.get("from_name") == "upos" and len(r["value"]["text"]) >= 4)
    v = long_word["value"]
    res3 = [r for r in res3 if r.get("id") != long_word["id"]]
    for rid, s, e in (("p1", v["start"], v["start"] + 1), ("p2", v["start"] + 1, v["end"])):
        res3.append({"id": rid, "from_name": "upos", "to_name": "words", "type": "labels",
                     "value": {"start": s, "end": e, "text": v["text"][s - v["start"]:e - v["start"]],
                               "labels": v["labels"]}})
    annotate(ls_client, tasks[sid[2]], res3, b)
    annotate(ls_client, tasks[sid[3]], [], a, was_cancelled=True)
    return dict(project_id=project_id, tasks=tasks, sentences=sentences, users=(a, b, c),
                changes=(upos_regions[0]["value"]["text"], lemmas[1]["value"]["text"]))


def test_policies(ls_client, project_title, tmp_path, three_annotators):
    fx = three_annotators
    sentences, (a, b, c), pid = fx["sentences"], fx["users"], fx["project_id"]
    names = [pseudonym(pid, u) for u in (a, b, c)]

    latest = pull_corpus(ls_client, project_title, tmp_path / "latest.conllu", policy="latest")
    assert (latest.written, latest.skipped, latest.unannotated) == (3, 1, 1)
    got = {s.sent_id: s for s in read_conllu(tmp_path / "latest.conllu")}
    assert got[sentences[0].sent_id].words[0].upos == "X"  # B's, the latest
    assert got[sentences[0].sent_id].get_meta(META_ANNOTATORS) == names[1]
    assert len(got[sentences[2].sent_id].words) == len(sentences[2].words) + 1  # B's split
    assert got[sentences[2].sent_id].get_meta(META_AGREEMENT) is None  # words cannot be aligned
    # task 1, by hand: 2n cells (upos, lemma of n words); in one, B differs from A and C: 1 agreeing pair of 3
    n = len(sentences[0].words)
    assert float(got[sentences[0].sent_id].get_meta(META_AGREEMENT)) == pytest.approx(
        (2 * n - 1 + 1 / 3) / (2 * n), abs=5e-4)

    majority = pull_corpus(ls_client, project_title, tmp_path / "majority.conllu", policy="majority")
    got = {s.sent_id: s for s in read_conllu(tmp_path / "majority.conllu")}
    assert majority.statuses == {"majority": 3}
    first = got[sentences[0].sent_id]
    assert first.words[0].upos == sentences[0].words[0].upos  # A and C outvote B
    assert first.get_meta(META_STATUS) == "majority"
    assert first.get_meta(META_ANNOTATORS).split(",") == [names[0], names[2], names[1]]
    assert got[sentences[1].sent_id].words[1].lemma == sentences[1].words[1].lemma
    # task 3: segmentations differ -> B's (latest), with a note
    assert len(got[sentences[2].sent_id].words) == len(sentences[2].words) + 1
    assert [(task, sid) for task, sid, _ in majority.notes] == [(fx["tasks"][sentences[2].sent_id],
                                                                  sentences[2].sent_id)]
    assert "segmented" in majority.notes[0][2]

    reviewed = pull_corpus(ls_client, project_title, tmp_path / "reviewed.conllu", policy="reviewed")
    assert (reviewed.written, reviewed.unreviewed, reviewed.skipped, reviewed.unannotated) == (1, 2, 1, 1)
    (only,) = read_conllu(tmp_path / "reviewed.conllu")
    assert only.sent_id == sentences[0].sent_id and only.get_meta(META_STATUS) == "reviewed"
    assert format_sentence(strip_added_meta(only)) == format_sentence(sentences[0])


def test_agreement_two_annotators_by_hand(ls_client, studio, project_title, tmp_path):
    sentences = sample(3)
    _, project_id, tasks = push(ls_client, project_title, tmp_path, sentences, layers=("upos", "lemma", "deps"))
    a, b = ls_client.users.whoami().id, new_user(ls_client)
    accept_all(ls_client, tasks, a)
    # B: task 1 two UPOS changed (to X), task 2 one deprel changed, task 3 the same as A
    res1 = prediction(ls_client, tasks[sentences[0].sent_id])
    changed_upos = [r for r in res1 if r.get("from_name") == "upos"][:2]
    for r in changed_upos:
        r["value"]["labels"] = ["X"]
    annotate(ls_client, tasks[sentences[0].sent_id], res1, b)
    res2 = prediction(ls_client, tasks[sentences[1].sent_id])
    rel = next(r for r in res2 if r.get("type") == "relation" and r["labels"] != ["dep"] and r["labels"] != ["root"])
    rel["labels"] = ["dep"]
    annotate(ls_client, tasks[sentences[1].sent_id], res2, b)
    annotate(ls_client, tasks[sentences[2].sent_id], prediction(ls_client, tasks[sentences[2].sent_id]), b)

    report = agreement(ls_client, project_title, top_k=2)
    assert (report.multi_annotated, report.compared, len(report.annotators)) == (3, 3, 2)
    words = [w for s in sentences for w in s.words]
    n = len(words)
    # UPOS, by hand: A's labels are the gold ones, B's the same but X for the first two words of sentence 1
    a_upos = [w.upos for w in words]
    b_upos = ["X", "X"] + a_upos[2:]
    p_o = (n - 2) / n
    ca, cb = Counter(a_upos), Counter(b_upos)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    upos = report.columns["upos"]
    assert upos.items == n and upos.observed == pytest.approx(p_o)
    assert upos.kappa_kind == "cohen" and upos.kappa == pytest.approx((p_o - p_e) / (1 - p_e))
    # deprel: one of n differs; Cohen from the two distributions
    a_rel = [w.deprel for w in words]
    changed_index = len(sentences[0].words) + int(rel["to_id"][1:]) - 1
    b_rel = list(a_rel)
    b_rel[changed_index] = "dep"
    ca, cb = Counter(a_rel), Counter(b_rel)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    deprel = report.columns["deprel"]
    assert deprel.observed == pytest.approx((n - 1) / n)
    assert deprel.kappa == pytest.approx(((n - 1) / n - p_e) / (1 - p_e))
    assert report.columns["lemma"].observed == 1.0 and report.columns["lemma"].kappa is None
    assert report.columns["head"].observed == 1.0 and report.columns["head"].kappa is None
    # the sentences that disagree most: sentence 1 (2 cells), then sentence 2 (1 cell)
    assert [d.sent_id for d in report.top] == [sentences[0].sent_id, sentences[1].sent_id]
    assert report.top[0].columns == {"upos": 2} and report.top[1].columns == {"deprel": 1}

    cli = subprocess.run([sys.executable, "-m", "mudawwana", "agreement", "--project", project_title, "--json",
                          "--url", studio.url, "--api-key", studio.api_key],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    data = json.loads(cli.stdout)
    assert data["columns"]["upos"]["kappa"] == pytest.approx(upos.kappa)


# --- unmappable annotations ------------------------------------------------------------------------------------------

def test_unmappable_annotation_is_reported_and_strict_fails(ls_client, studio, project_title, tmp_path):
    sentences = sample(3)
    _, project_id, tasks = push(ls_client, project_title, tmp_path, sentences, layers=("upos", "lemma"))
    accept_all(ls_client, tasks, skip={sentences[1].sent_id})
    bad = prediction(ls_client, tasks[sentences[1].sent_id])
    r = next(r for r in bad if r.get("from_name") == "upos")
    r["value"]["labels"] = ["NOUN", "VERB"]  # two tags on one word
    annotate(ls_client, tasks[sentences[1].sent_id], bad)

    out = tmp_path / "out.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert report.written == 2 and len(report.unmappable) == 1
    failure = report.unmappable[0]
    assert failure.task_id == tasks[sentences[1].sent_id] and failure.sent_id == sentences[1].sent_id
    assert "two labels" in failure.reason and failure.used
    assert [s.sent_id for s in read_conllu(out)] == [sentences[0].sent_id, sentences[2].sent_id]
    state = json.loads(state_path_for(out).read_text())
    assert [f["task_id"] for f in state["unmappable"]] == [failure.task_id]

    strict_out = tmp_path / "strict.conllu"
    with pytest.raises(PullError, match=f"task {failure.task_id}"):
        pull_corpus(ls_client, project_title, strict_out, strict=True)
    assert not strict_out.exists() and not state_path_for(strict_out).exists()

    cmd = [sys.executable, "-m", "mudawwana", "pull", "--project", project_title, "-o", str(strict_out),
           "--strict", "--url", studio.url, "--api-key", studio.api_key]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "error:" in run.stderr and "Traceback" not in run.stderr
    assert not strict_out.exists()
    run = subprocess.run(cmd[:-5] + cmd[-4:], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "unmappable" in run.stderr and strict_out.exists()


def test_since_must_be_a_timestamp(ls_client, project_title, tmp_path):
    push(ls_client, project_title, tmp_path, sample(1), layers=("upos",))
    from mudawwana.corpus.errors import InputError
    with pytest.raises(InputError, match="ISO 8601"):
        pull_corpus(ls_client, project_title, tmp_path / "x.conllu", since="yesterday")
    report = pull_corpus(ls_client, project_title, tmp_path / "x.conllu", since="2000-01-01 00:00")
    assert report.since == "2000-01-01T00:00:00.000000Z" and report.fetched == 1
