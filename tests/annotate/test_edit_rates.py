"""Edit rates without a server: comparing a predicted and an annotated sentence, the report and its tables.

The counts against a real Label Studio project (annotations submitted through the API, checked against a count
made independently from the gold sentences) are in tests/annotate/test_retrain.py.
"""

from __future__ import annotations

import copy

from mudawwana.annotate.edit_rates import EditCounts, EditReport, VersionEdits, build_report, compare_sentences
from mudawwana.annotate.report_table import report_markdown
from mudawwana.corpus.conllu_io import parse_conllu

SENTENCE = """# sent_id = d1-s1
# text = وبه كتب الولد
1-2	وبه	_	_	_	_	_	_	_	_
1	و	و	CCONJ	_	_	3	cc	_	_
2	به	به	ADP	_	_	3	obl	_	_
3	كتب	كتب	VERB	_	Aspect=Perf	0	root	_	_
4	الولد	ولد	NOUN	_	Case=Nom	3	nsubj	_	NER=B-PER

"""


def sentence():
    return parse_conllu(SENTENCE)[0]


def test_unchanged_sentence_has_no_edits():
    c = compare_sentences(sentence(), sentence())
    assert (c.sentences, c.words, c.compared, c.resegmented, c.any_changed) == (1, 4, 4, 0, 0)
    assert c.changed == {"upos": 0, "lemma": 0, "feats": 0, "head": 0, "deprel": 0}
    assert (c.entities_predicted, c.entities_added, c.entities_removed) == (1, 0, 0)


def test_column_changes_are_counted_per_word():
    annotated = sentence()
    annotated.words[3].upos = "PROPN"
    annotated.words[3].head, annotated.words[3].deprel = 1, "obj"  # head: another word, and another relation
    annotated.words[2].lemma = "كَتَب"
    c = compare_sentences(sentence(), annotated)
    assert c.changed == {"upos": 1, "lemma": 1, "feats": 0, "head": 1, "deprel": 1}
    assert (c.compared, c.any_changed) == (4, 2)
    rates = c.rates()
    assert rates["upos"] == 0.25 and rates["any"] == 0.5 and rates["seg"] == 0.0


def test_resegmented_token_counts_its_predicted_words_apart():
    predicted = sentence()
    annotated = parse_conllu(SENTENCE.replace("1-2\tوبه\t_\t_\t_\t_\t_\t_\t_\t_\n1\tو\tو\tCCONJ\t_\t_\t3\tcc\t_\t_\n"
                                              "2\tبه\tبه\tADP\t_\t_\t3\tobl\t_\t_\n",
                                              "1\tوبه\tوبه\tADP\t_\t_\t2\tobl\t_\t_\n")
                             .replace("3\tكتب\tكتب\tVERB\t_\tAspect=Perf\t0", "2\tكتب\tكتب\tVERB\t_\tAspect=Perf\t0")
                             .replace("4\tالولد\tولد\tNOUN\t_\tCase=Nom\t3", "3\tالولد\tولد\tNOUN\t_\tCase=Nom\t2"))[0]
    c = compare_sentences(predicted, annotated)
    # the clitic group (2 words) was joined; the renumbered heads of the other words did not change
    assert (c.words, c.tokens_resegmented, c.resegmented, c.compared) == (4, 1, 2, 2)
    assert c.changed == {"upos": 0, "lemma": 0, "feats": 0, "head": 0, "deprel": 0}
    assert c.any_changed == 2 and c.rates()["seg"] == 0.5


def test_entities_added_and_removed():
    annotated = sentence()
    from mudawwana.corpus.data_model import Entity
    annotated.set_entities([Entity(1, 2, "PER"), Entity(2, 3, "ORG")])  # الولد relabelled, كتب added
    c = compare_sentences(sentence(), annotated)
    assert (c.entities_predicted, c.entities_added, c.entities_removed) == (1, 2, 1)


def test_rates_of_layers_not_shown_are_none():
    c = EditCounts(sentences=1, words=10, compared=10)
    rates = c.rates(("upos", "lemma"))
    assert rates["upos"] == 0.0 and rates["lemma"] == 0.0
    assert rates["feats"] is None and rates["head"] is None and rates["deprel"] is None and rates["seg"] is None
    assert c.rates(("upos", "lemma", "feats"))["feats"] == 0.0  # the feats layer lets annotators change FEATS
    assert EditCounts().rates()["upos"] is None  # nothing compared


ROUNDS = {"rounds": [
    {"round": 1, "previous_model": {"model_version": "base@1"}, "new_model": {"model_version": "base-r1@2"},
     "deployed": True, "decision": "better on LAS", "data": {"corrections": {"sentences": 80},
                                                             "corrections_train": {"sentences": 59},
                                                             "heldout": {"sentences": 6, "documents": 2}},
     "heldout_scores": {"previous": {"UPOS": 50.0, "LAS": 5.0, "CLAS": 1.0}, "new": {"UPOS": 60.0, "LAS": 9.5}},
     "repredicted": {"unannotated": 40}, "seconds": {"total": 60}},
    {"round": 2, "previous_model": {"model_version": "base-r1@2"}, "new_model": {"model_version": "base-r2@3"},
     "deployed": False, "decision": "not better", "data": {}, "heldout_scores": {
         "previous": {"UPOS": 61.0, "LAS": 9.0}, "new": {"error": "udeval refused"}}}]}


def test_report_joins_rounds_and_edits_in_round_order():
    edits = EditReport(1, "news", ("upos", "lemma", "seg", "deps"))
    counts = compare_sentences(sentence(), sentence())
    for version, first in (("other@9", "2026-01-01"), ("base@1", "2026-02-01"), ("base-r1@2", "2026-03-01")):
        edits.versions[version] = VersionEdits(version, 1, copy.deepcopy(counts), first)
    report = build_report(edits, ROUNDS)
    assert [(m["model_version"], m["round"], m["deployed"]) for m in report["models"]] == [
        ("base@1", 0, True), ("base-r1@2", 1, True), ("base-r2@3", 2, False), ("other@9", None, None)]
    assert report["models"][0]["heldout_scores"] == {"UPOS": 50.0, "LAS": 5.0}  # the scores a report shows
    assert report["models"][2]["annotations"] == 0 and report["models"][2]["heldout_scores"] == {
        "error": "udeval refused"}
    assert report["models"][0]["entities"] is None  # ner is not a layer of this project
    assert report["rounds"][0]["repredicted_tasks"] == 40 and report["rounds"][1]["repredicted_tasks"] == 0

    lines = report_markdown(report, level=2)
    text = "\n".join(lines)
    assert "## What annotators changed, per model" in text and "## Retraining rounds" in text
    assert "| 0 | `base@1` | 1 | 4 | 0.0 | 0.0 | – | 0.0 | 0.0 | 0.0 | 0.0 | – | 50.0 | 5.0 |" in lines  # no feats layer: –
    assert "| 1 | 59 | 6 | 50.0 → 60.0 | – → – | – → – | 5.0 → 9.5 | yes |" in lines
    assert any(line.startswith("| 2 |") and line.endswith("| no |") for line in lines)
