"""The sentence a re-made prediction carries (annotate/prediction_sentence.py), without a server: what the config
hides is pulled and measured from it, the mapping never reads it as a correction, validation checks it.

Against the real Label Studio: tests/annotate/test_retrain.py (a round's predictions carry the new sentence and a
pull takes every column from it) and tests/annotate/test_editor_repredicted.py (the editor skips the item and
Submit does not store it).
"""

from __future__ import annotations

from mudawwana.annotate.config import build_config
from mudawwana.annotate.edit_rates import EditReport, add_task
from mudawwana.annotate.mapping import annotation_to_sentence
from mudawwana.annotate.policies import normalize_task
from mudawwana.annotate.prediction_sentence import SENTENCE_KEY, base_task_data, carried_conllu, strip, with_sentence
from mudawwana.annotate.pull import map_annotation
from mudawwana.annotate.tasks import sentence_to_task, validate_task
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu

LAYERS = ("upos", "lemma", "seg")  # XPOS, FEATS, heads and relations are hidden

FIRST = """# sent_id = d1-s1
# text = وبه كتب الولد
# model_version = old@1
1-2	وبه	_	_	_	_	_	_	_	_
1	و	و	CCONJ	C---------	_	3	cc	_	_
2	به	ب	ADP	P---------	AdpType=Prep	3	obl	_	_
3	كتب	كتب	VERB	VP-A-3MS--	Aspect=Perf	0	root	_	_
4	الولد	ولد	NOUN	N------S1D	Case=Nom	3	nsubj	_	_

"""


def old_and_new():
    """The task's sentence (the first model's) and a re-prediction of the same words by a later model: other
    tags everywhere, visible (UPOS of كتب) and hidden (XPOS, FEATS, a head)."""
    old = parse_conllu(FIRST)[0]
    new = parse_conllu(FIRST)[0]
    new.set_meta("model_version", "new@2")
    new.words[2].upos, new.words[2].xpos = "NOUN", "N------S1I"
    new.words[3].feats, new.words[3].head, new.words[3].deprel = "Case=Gen", 3, "nmod"
    return old, new


def task_and_prediction():
    old, new = old_and_new()
    task = sentence_to_task(old, layers=LAYERS, model_version="old@1")
    made = sentence_to_task(new, layers=LAYERS, model_version="new@2")
    return task, made["predictions"][0]["result"], format_sentence(new)


def test_the_sentence_rides_on_the_first_item_and_is_stripped():
    _, result, conllu = task_and_prediction()
    carrying = with_sentence(result, conllu)
    assert len(carrying) == len(result) and carrying[0] == {**result[0], SENTENCE_KEY: conllu}
    assert all(SENTENCE_KEY not in item for item in [*result, *carrying[1:]])  # a copy: the result is as it was
    assert carried_conllu(carrying) == conllu and carried_conllu(result) is None
    assert strip(carrying) == result and with_sentence(carrying, conllu) == carrying  # one sentence, never two
    assert with_sentence([], conllu) == []  # nothing to carry it (only the ner layer, no entity)


def test_the_base_is_the_carried_sentence_only_when_it_is_one_of_the_tasks_words():
    task, _, conllu = task_and_prediction()
    data = task["data"]
    assert base_task_data(data, conllu) == {**data, "conllu": conllu}
    assert base_task_data(data, None) is data
    other = parse_conllu(FIRST)[0]
    other.words[3].form = "البنت"  # other words: the offsets would land on the wrong ones
    assert base_task_data(data, format_sentence(other)) is data
    assert base_task_data(data, "not CoNLL-U at all\t") is data
    assert base_task_data(data, FIRST + FIRST.replace("d1-s1", "d1-s2")) is data  # two sentences


def test_an_annotation_is_mapped_from_the_sentence_its_prediction_carried():
    task, result, conllu = task_and_prediction()
    shown = {"result": with_sentence(result, conllu), "model_version": "new@2"}
    # accepted as shown (the API copy of the prediction, its sentence included): the new model's sentence, every
    # column
    raw = {"id": 7, "data": task["data"], "annotations": [
        {"id": 1, "completed_by": 3, "result": shown["result"], "prediction": shown}]}
    record = normalize_task(raw)
    assert record.annotations[0].shown_conllu == conllu
    sentence, failure = map_annotation(record, record.annotations[0], LAYERS, project_id=1)
    assert failure is None and format_sentence(sentence) == conllu
    # without the item (a prediction made before, or push's own) the task's sentence is the base, as ever
    raw["annotations"][0]["prediction"] = {"result": result, "model_version": "new@2"}
    record = normalize_task(raw)
    sentence, failure = map_annotation(record, record.annotations[0], LAYERS, project_id=1)
    assert failure is None and sentence.words[2].xpos == "VP-A-3MS--" and sentence.words[2].upos == "NOUN"


def test_the_mapping_never_reads_the_item_as_a_correction():
    task, result, conllu = task_and_prediction()
    plain, problems = annotation_to_sentence(task["data"], result, layers=LAYERS)
    carrying, carrying_problems = annotation_to_sentence(task["data"], with_sentence(result, conllu), layers=LAYERS)
    assert not problems and not carrying_problems and format_sentence(plain) == format_sentence(carrying)


def test_edit_rates_compare_against_the_sentence_shown():
    task, result, conllu = task_and_prediction()
    shown = {"result": with_sentence(result, conllu), "model_version": "new@2"}
    fixed = [dict(item) for item in result]  # the annotator gives كتب back its VERB
    for item in fixed:
        if item.get("from_name") == "upos" and item["value"].get("text") == "كتب":
            item["value"] = {**item["value"], "labels": ["VERB"]}
    report = EditReport(1, "p", LAYERS)
    add_task(report, {"id": 7, "data": task["data"], "annotations": [
        {"id": 1, "result": fixed, "prediction": shown, "created_at": "2026-12-02T10:00:00Z"}]})
    counts = report.versions["new@2"].counts
    assert report.unmappable == 0 and counts.words == 4 and counts.changed["upos"] == 1
    assert counts.changed["feats"] == counts.changed["head"] == 0  # hidden: the same base on both sides


def test_validation_checks_the_carried_sentence():
    task, result, conllu = task_and_prediction()
    config = build_config(LAYERS)
    good = {"data": task["data"], "predictions": [{"result": with_sentence(result, conllu), "model_version": "n"}]}
    assert validate_task(config, good) == []
    other = parse_conllu(FIRST)[0]
    other.words[0].form = "ف"
    bad = {"data": task["data"], "predictions": [{"result": with_sentence(result, format_sentence(other)),
                                                  "model_version": "n"}]}
    assert validate_task(config, bad) == ["prediction 0: the sentence it carries is not one of the task's words view"]
