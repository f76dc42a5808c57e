"""The pull's guard: what annotators typed is made valid, and a sentence the UD validator still rejects is left
out and reported (never written, never silently dropped). In-process: the mapping needs no server."""

from __future__ import annotations

import itertools

from mudawwana.annotate.policies import Annotation, TaskRecord
from mudawwana.annotate.pull import map_annotation
from mudawwana.annotate.tasks import sentence_to_task
from mudawwana.corpus import SAMPLE_CONLLU, read_conllu, validate_sentence

LAYERS = ("upos", "lemma", "seg")


def _task_and_result(sentence):
    task = sentence_to_task(sentence, layers=LAYERS, model_version="test@0")
    return TaskRecord(id=7, data=task["data"]), task["predictions"][0]["result"]


def _sample_sentence():
    return next(itertools.islice(read_conllu(SAMPLE_CONLLU), 3, None))


def test_a_typed_lemma_with_stray_spaces_is_made_valid():
    task, result = _task_and_result(_sample_sentence())
    lemma = next(r for r in result if r.get("from_name") == "lemma")
    lemma["value"]["text"] = ["  كتب  "]
    sentence, failure = map_annotation(task, Annotation(1, 7, 3, result), LAYERS)
    assert failure is None
    assert "كتب" in [w.lemma for w in sentence.words]
    assert validate_sentence(sentence) == []


def test_a_sentence_the_validator_rejects_is_reported_not_written():
    sentence = _sample_sentence()
    sentence.words[0].feats = "Foo"  # malformed FEATS in the pushed CoNLL-U: the validator rejects it
    task, result = _task_and_result(sentence)
    mapped, failure = map_annotation(task, Annotation(1, 7, 3, result), LAYERS)
    assert mapped is None
    assert failure.task_id == 7 and failure.sent_id == sentence.sent_id
    assert "invalid-feature" in failure.reason and "udvalidate" in failure.reason
