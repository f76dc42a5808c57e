"""The editor as an annotator uses it, in the real Label Studio UI through headless Chromium, pushed and pulled by
mudawwana itself: a glued-token split (و قّع) merged, a multi-word token split (و+يجعله -> و+يجعل+ه), one feature
and one UPOS corrected, Submit, the next task opens (the label stream) and gets a typed segmentation; the pull
gives exactly those changes, UD-valid, everything else unchanged. Each correction's actions (clicks and key
presses) are counted and printed; docs/labeling-interface.md quotes them.

The Arabic font is the one Chromium draws with (the DevTools protocol's platform fonts), not only the declared
one, and region labels are at least 12 px.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest

from mudawwana.annotate.mapping import annotation_to_sentence
from mudawwana.annotate.pull import pull_corpus, strip_added_meta
from mudawwana.annotate.push import push_corpus
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu, read_conllu, write_conllu
from mudawwana.corpus.ud_validator import validate_sentence

from fixtures_models import SAMPLE
from studio_browser import STYLE, WORDS, Actions, annotations_of, logged_in, open_stream, shown_task_id, used_font

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]

LAYERS = ("upos", "lemma", "seg", "feats", "ner")
MAX_ACTIONS = 3  # the bound for a merge, a split, a feature and a tag
COUNTS = Path(__file__).resolve().parents[2] / ".cache" / "editor-actions.json"


def _test_mapping():
    spec = importlib.util.spec_from_file_location("_mapping_tests", Path(__file__).with_name("test_mapping.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The first sentence after the four corrections: و قّع one word (قّع's tag, lemma, features, place in the tree; no
# XPOS), و+يجعل+ه in one multi-word token (ه a new PRON hanging from يجعل), الوزير Case=Gen, وانتقل VERB. The
# features no control showed (نافذا's Voice, hidden for an adjective; باريس's Foreign, in the closed "Rare features"
# panel) came back through Submit unchanged.
EXPECTED_FIRST = """# sent_id = demo-1
# text = وقّع الوزير الاتفاق ويجعله نافذا وانتقل إلى باريس.
1	وقّع	قَع	VERB	_	Aspect=Perf|Gender=Masc|Number=Sing|Person=3|Voice=Act	0	root	_	_
2	الوزير	وَزِير	NOUN	N------S1D	Case=Gen|Definite=Def|Gender=Masc|Number=Sing	1	nsubj	_	_
3	الاتفاق	اِتِّفَاق	NOUN	N------S4D	Case=Acc|Definite=Def|Gender=Masc|Number=Sing	1	obj	_	_
4-6	ويجعله	_	_	_	_	_	_	_	_
4	و	وَ	CCONJ	C---------	_	5	cc	_	_
5	يجعل	جَعَل	VERB	_	Aspect=Imp|Gender=Masc|Mood=Ind|Number=Sing|Person=3|Voice=Act	1	conj	_	_
6	ه	_	PRON	_	_	5	dep	_	_
7	نافذا	نَافِذ	ADJ	A-----MS4I	Case=Acc|Definite=Ind|Gender=Masc|Number=Sing|Voice=Act	5	xcomp	_	_
8	وانتقل	اِنتِقَال	VERB	N------S1I	Case=Nom|Definite=Ind|Gender=Masc|Number=Sing	1	conj	_	_
9	إلى	إِلَى	ADP	P---------	AdpType=Prep	10	case	_	_
10	باريس	بَارِيس	PROPN	X---------	Foreign=Yes	8	obl	_	SpaceAfter=No
11	.	.	PUNCT	G---------	_	1	punct	_	_

"""


def second_sentence():
    """PUD n01076006 with its clitics as multi-word tokens: م+ما (مما) is the one the annotator types together."""
    sentence = _test_mapping().with_mwts(next(itertools.islice(read_conllu(SAMPLE), 185, None)))
    assert any(t.form == "مما" and len(t.words) == 2 for t in sentence.tokens)
    return sentence


def test_corrections_in_the_editor_come_back_exactly(studio, ls_client, project_title, tmp_path, capsys):
    first = parse_conllu(_test_mapping().GLUED_DEMO)[0]
    second = second_sentence()
    pushed = tmp_path / "pushed.conllu"
    write_conllu([first, second], pushed)
    push = push_corpus(ls_client, pushed, project_title, layers=LAYERS)
    assert push.imported == 2 and not push.invalid
    tasks = {t.meta["sent_id"]: t.id for t in ls_client.tasks.list(project=push.project_id)}

    with logged_in(studio, tmp_path) as page:
        open_stream(page, studio, push.project_id)
        assert shown_task_id(page) == tasks["demo-1"]
        # The Arabic font is the one drawn (Label Studio's own `font-family ... !important` used to win), and the
        # n:TAG labels are readable.
        word = page.locator(WORDS).first
        assert word.evaluate(STYLE, "font-family").startswith('"Noto Naskh Arabic"')
        assert used_font(page, WORDS)[0] == "Noto Naskh Arabic"
        assert float(word.evaluate("el => getComputedStyle(el, '::after').fontSize")[:-2]) >= 12

        act = Actions(page)
        # 1. و قّع (two glued tokens) -> one word: select و, press j (join with the next word).
        act.correction("merge glued tokens و قّع")
        act.click(page.locator(WORDS).first)
        act.press("j")
        # 2. و+يجعله -> و+يجعل+ه: select يجعله, press l (split off the pronoun suffix).
        act.correction("split a multi-word token's word يجعله")
        act.click(act.word("يجعله"))
        act.press("l")
        # 3. a feature: الوزير Case=Nom -> Gen.
        act.correction("feature Case of الوزير")
        act.click(act.word("الوزير"))
        act.click(page.locator(".mdw-feat", has_text="Case").locator("label", has_text="Gen").first)
        # 4. a tag: وانتقل NOUN -> VERB (its key).
        act.correction("UPOS of وانتقل")
        act.click(act.word("وانتقل"))
        act.press("v")
        page.wait_for_selector(f"{WORDS}[data-label$=':VERB']:has-text('وانتقل')", state="attached", timeout=10_000)
        act.correction("submit")
        act.press("Control+Enter")  # Label Studio's Submit key
        annotations_of(ls_client, tasks["demo-1"])

        # Submit opened the next task of the stream.
        page.wait_for_function("id => { const e = document.querySelector('.lsf-current-task__task-id'); "
                               "return e && e.firstChild && e.firstChild.textContent.trim() === String(id) }",
                               arg=tasks[second.sent_id], timeout=60_000)
        page.wait_for_timeout(1500)
        assert shown_task_id(page) == tasks[second.sent_id]
        # 5. the typed way, for comparison: م+ما -> مما in the segmentation box.
        act.correction("typed merge م+ما")
        act.click(act.word("ما"))
        box = page.locator(".mdw-seg .lsf-text-area").first
        act.click(box.locator("[data-testid=htx-textbox-edit-button]"))
        for key in ("Home", "ArrowLeft", "Delete", "Enter"):  # in right-to-left text ArrowLeft moves forward
            act.press(key)
        page.keyboard.press("Escape")
        page.click("button:has-text('Submit')")
        annotations_of(ls_client, tasks[second.sent_id])

    counts = act.counts
    with capsys.disabled():
        print("\nactions per correction (clicks and key presses):", json.dumps(counts, ensure_ascii=False))
    COUNTS.parent.mkdir(exist_ok=True)
    COUNTS.write_text(json.dumps(counts, ensure_ascii=False, indent=1), encoding="utf-8")
    for name in ("merge glued tokens و قّع", "split a multi-word token's word يجعله", "feature Case of الوزير",
                 "UPOS of وانتقل"):
        assert counts[name] <= MAX_ACTIONS, (name, counts[name])

    out = tmp_path / "pulled.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert report.written == 2 and report.left_out == [], report.left_out
    got = {s.sent_id: s for s in read_conllu(out)}
    for s in got.values():
        assert validate_sentence(s) == []
    assert format_sentence(strip_added_meta(got["demo-1"])) == EXPECTED_FIRST
    # The second: exactly the typed merge, as the mapping gives it for that one edit.
    tm = _test_mapping()
    task, result = tm.task_of(second, LAYERS)
    m = next(w.id for w in second.words if w.form == "م")
    tm.type_segmentation(task, result, m, "مما")
    expected, problems = annotation_to_sentence(task["data"], result, layers=LAYERS)
    assert problems == []
    assert format_sentence(strip_added_meta(got[second.sent_id])) == format_sentence(expected)
    merged = next(w for w in got[second.sent_id].words if w.form == "مما")
    assert (merged.upos, merged.lemma) == ("PRON", "ما")
