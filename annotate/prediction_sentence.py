"""The sentence a re-made prediction was tagged as, carried inside the prediction itself.

Why: a prediction's result holds only what the labeling config shows (the layers); everything it hides (XPOS and
FEATS without the feats layer, heads and relations without deps, MISC) comes, when an annotation is pulled, from
the sentence the mapping starts from (annotate/mapping.py). For a pushed task that is its data's `conllu`, written
by the model that made its first prediction. When a later model re-predicts the task (`retrain`, the ML backend's
`/predict`), its hidden columns must be the new model's too, or the pulled sentence mixes two models. Label
Studio 1.23 updates task data only one task per request (~0.07-0.14 s each, docs/label-studio.md "Re-predicting
existing tasks"), which cost a round up to +43 % of its training. So the new sentence travels in the new
prediction instead, on its first result item:

- under a key of its own (`mudawwana_sentence`, beside `id`, `value`, ...): Label Studio checks a prediction's
  items against the config (an item naming no control is dropped on import: 1.23's legacy import validates with
  the SDK's LabelInterface) but not their extra keys, and stores the result as sent; the editor ignores the key
  when it draws the prediction (tests/annotate/test_editor_repredicted.py);
- Label Studio records with every annotation the prediction of the project's model version (`prediction`, its
  whole result), so pull and report start from the sentence the annotator was shown (`base_task_data`);
- an annotation that has no such sentence (made before, or from push's own prediction, whose sentence is the
  task's `conllu`) starts from the task's `conllu` as before; so does one whose sentence does not describe the
  task's words view (it cannot be its words). A prediction with no item at all (only the ner layer, no entity
  predicted) carries nothing: its hidden columns stay the task's.

The key is added after the prediction was checked against the config (annotate/tasks.py validate_task), and
`strip` takes it out of anything that is mapped as a result (an API client that copies a prediction's result
into an annotation copies the key too).
"""

from __future__ import annotations

SENTENCE_KEY = "mudawwana_sentence"  # the result item's key that holds the sentence (no Label Studio key is so)


def with_sentence(result: list[dict], conllu: str) -> list[dict]:
    """A copy of the prediction's result whose first item carries the sentence (its CoNLL-U, as the task's
    `conllu` would be); an empty result stays empty."""
    out = strip(result)
    if out:
        out[0] = {**out[0], SENTENCE_KEY: conllu}
    return out


def strip(result: list[dict] | None) -> list[dict]:
    """The result without the sentence (a copy where it was there): what the mapping reads."""
    return [{k: v for k, v in item.items() if k != SENTENCE_KEY} if _carries(item) else item
            for item in result or []]


def carried_conllu(result: list[dict] | None) -> str | None:
    """The CoNLL-U a result carries, or None."""
    for item in result or []:
        if _carries(item) and isinstance(item[SENTENCE_KEY], str):
            return item[SENTENCE_KEY]
    return None


def shown_conllu(annotation: dict) -> str | None:
    """The sentence the prediction recorded with an annotation (Label Studio's `prediction`) carries, or None."""
    shown = annotation.get("prediction")
    return carried_conllu(shown.get("result")) if isinstance(shown, dict) else None


def base_task_data(task_data: dict, conllu: str | None) -> dict:
    """The task data an annotation is mapped from: the task's, with `conllu` the sentence the prediction the
    annotator was shown carries (`conllu`, from shown_conllu) when it is one for the task's words view."""
    if not conllu or conllu == task_data.get("conllu"):
        return task_data
    from mudawwana.corpus.conllu_io import parse_conllu

    from .mapping_common import WordsView

    try:
        sentences = parse_conllu(conllu)
        fits = len(sentences) == 1 and WordsView.of(task_data).describes(sentences[0])
    except Exception:  # noqa: BLE001 - an item edited by hand, a task not made by push: the task's own sentence
        fits = False
    return {**task_data, "conllu": conllu} if fits else task_data


def _carries(item) -> bool:
    return isinstance(item, dict) and SENTENCE_KEY in item
