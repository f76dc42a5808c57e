"""A re-predicted task in the real editor (headless Chromium): its prediction carries the new model's whole
sentence under a key of its own on its first result item (annotate/prediction_sentence.py). The editor shows the
new prediction as any other (the key draws nothing and breaks nothing), Submit does not store it, Label Studio
records it with the annotation's shown prediction, and the pull takes what the config hides (XPOS, FEATS, heads
without deps) from that sentence, not from the task's data, which was never written.
"""

from __future__ import annotations

import pytest

from mudawwana.annotate.prediction_sentence import SENTENCE_KEY, carried_conllu, with_sentence
from mudawwana.annotate.projects import exported_tasks, import_predictions, list_tasks, set_model_version
from mudawwana.annotate.pull import pull_corpus, strip_added_meta
from mudawwana.annotate.push import push_corpus
from mudawwana.annotate.tasks import sentence_to_task
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu, read_conllu, write_conllu
from mudawwana.corpus.ud_validator import validate_sentence

from studio_browser import WORDS, annotations_of, logged_in, open_task

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]

LAYERS = ("upos", "lemma", "seg")  # XPOS, FEATS, heads and relations hidden

FIRST = """# sent_id = repredicted-1
# text = وقّع الوزير الاتفاق وانتقل إلى باريس.
1	و	وَ	CCONJ	C---------	_	2	cc	_	SpaceAfter=No
2	قّع	قَع	VERB	VP-A-3MS--	Aspect=Perf|Gender=Masc|Number=Sing|Person=3|Voice=Act	0	root	_	_
3	الوزير	وَزِير	NOUN	N------S1D	Case=Nom|Definite=Def|Gender=Masc|Number=Sing	2	nsubj	_	_
4	الاتفاق	اِتِّفَاق	NOUN	N------S4D	Case=Acc|Definite=Def|Gender=Masc|Number=Sing	2	obj	_	_
5	وانتقل	اِنتِقَال	NOUN	N------S1I	Case=Nom|Definite=Ind|Gender=Masc|Number=Sing	2	conj	_	_
6	إلى	إِلَى	ADP	P---------	AdpType=Prep	7	case	_	_
7	باريس	بَارِيس	PROPN	X---------	Foreign=Yes	5	obl	_	SpaceAfter=No
8	.	.	PUNCT	G---------	_	2	punct	_	_

"""


def later_model_sentence():
    """What a later model makes of the same words: one visible change (الاتفاق PROPN) and hidden ones (its XPOS,
    الوزير's Case, باريس's head)."""
    new = parse_conllu(FIRST)[0]
    new.set_meta("model_version", "later@2")
    new.words[3].upos, new.words[3].xpos = "PROPN", "X---------"
    new.words[2].feats = "Case=Gen|Definite=Def|Gender=Masc|Number=Sing"
    new.words[6].head = 4
    return new


def test_the_editor_shows_a_carried_sentence_prediction_and_submit_leaves_the_item_out(
        studio, ls_client, project_title, tmp_path):
    pushed = tmp_path / "pushed.conllu"
    write_conllu(parse_conllu(FIRST), pushed)
    push = push_corpus(ls_client, pushed, project_title, layers=LAYERS, model_version="first@1")
    assert push.imported == 1 and not push.invalid
    [task] = list_tasks(ls_client, push.project_id, include="id,data")
    new = later_model_sentence()
    made = sentence_to_task(new, layers=LAYERS, model_version="later@2")
    assert made["data"]["words"] == task["data"]["words"]  # the same words view: re-predictable
    carried = format_sentence(new)
    assert import_predictions(ls_client, push.project_id, [
        {"task": task["id"], "result": with_sentence(made["predictions"][0]["result"], carried),
         "model_version": "later@2"}]) == 1
    set_model_version(ls_client, push.project_id, "later@2")

    with logged_in(studio, tmp_path) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_task(page, studio, push.project_id, task["id"])
        # the later model's prediction is the one shown, one region per word, nothing drawn for the item
        assert page.locator(WORDS).count() == len(new.words)
        page.wait_for_selector(f"{WORDS}[data-label$=':PROPN']:has-text('الاتفاق')", state="attached",
                               timeout=10_000)
        page.locator(WORDS, has_text="وانتقل").first.click()  # the annotator's one correction: NOUN -> VERB
        page.wait_for_timeout(250)
        page.keyboard.press("v")
        page.wait_for_selector(f"{WORDS}[data-label$=':VERB']:has-text('وانتقل')", state="attached",
                               timeout=10_000)
        page.keyboard.press("Control+Enter")
        [annotation] = annotations_of(ls_client, task["id"])
        assert not errors, errors

    assert all(SENTENCE_KEY not in item for item in annotation.result)  # Submit left it out
    _, chunks = exported_tasks(ls_client, push.project_id)  # the JSON export, as pull reads it
    [stored] = [t for chunk in chunks for t in chunk]
    assert stored["data"] == task["data"]  # the task's data was never written
    [exported] = stored["annotations"]
    assert exported["prediction"]["model_version"] == "later@2"  # what Label Studio recorded as shown
    assert carried_conllu(exported["prediction"]["result"]) == carried

    out = tmp_path / "pulled.conllu"
    report = pull_corpus(ls_client, project_title, out)
    assert report.written == 1 and not report.left_out
    [got] = read_conllu(out)
    assert validate_sentence(got) == []
    expected = later_model_sentence()
    expected.words[4].upos = "VERB"  # the correction; every hidden column is the later model's
    assert format_sentence(strip_added_meta(got)) == format_sentence(expected)
