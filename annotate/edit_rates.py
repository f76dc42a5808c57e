"""What annotators actually changed: edit rates per model version, the cost each model made annotators pay.

For every submitted annotation Label Studio stores, besides its result, the prediction the annotator was shown
(`prediction`: the one of the project's model version when the annotation was created; docs/label-studio.md).
Both are mapped back to sentences with the same mapping pull uses (annotate/mapping.py) on the task's data, and
compared word by word:

- tokens are aligned by their span of the sentence text; a predicted token whose span is gone (tokens merged)
  or whose words changed (clitics split or joined) is *resegmented*, and so is every predicted word in it;
- the words of the other tokens are compared column by column: UPOS, lemma, FEATS, DEPREL, and HEAD (the head
  word's token span and place in it, so renumbering elsewhere does not count);
- entities are spans of the text with a label: in the annotation but not the prediction is *added*, the
  other way round *removed* (a relabelled entity is one of each).

Rates per model version: a column's rate is over the compared words (those whose segmentation was kept),
segmentation and "any" (any column or the segmentation) over all predicted words. A column whose layer the
project does not show is None: annotators could not change it. FEATS is in no layer of the labeling
interface (docs/labeling-interface.md): it changes only where words are resegmented, and its rate says so.

Annotations whose shown prediction was not recorded (none of the project's model version existed when it was
created) are counted apart, as are annotations (or predictions) that cannot be mapped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

from mudawwana.corpus.data_model import Sentence

COLUMNS = ("upos", "lemma", "feats", "head", "deprel")
RATES = (*COLUMNS, "seg", "any")
# The layer (annotate/config.py LAYERS) that lets an annotator change each measure.
LAYER_OF = {"upos": "upos", "lemma": "lemma", "feats": "feats", "head": "deps", "deprel": "deps", "seg": "seg",
            "entities": "ner"}


@dataclass
class EditCounts:
    """Counts over one or many (prediction, annotation) pairs."""

    sentences: int = 0
    words: int = 0           # predicted words
    compared: int = 0        # predicted words in tokens whose segmentation the annotator kept
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    resegmented: int = 0     # predicted words in resegmented tokens
    any_changed: int = 0     # predicted words with any change (resegmented ones included)
    tokens: int = 0
    tokens_resegmented: int = 0
    entities_predicted: int = 0
    entities_added: int = 0
    entities_removed: int = 0

    def add(self, other: "EditCounts") -> None:
        for name in ("sentences", "words", "compared", "resegmented", "any_changed", "tokens", "tokens_resegmented",
                     "entities_predicted", "entities_added", "entities_removed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for c in COLUMNS:
            self.changed[c] += other.changed[c]

    def rates(self, layers: Sequence[str] | None = None) -> dict[str, float | None]:
        """Share (0-1) of words changed per measure; None where the layer is not shown or nothing was compared."""
        out: dict[str, float | None] = {}
        for c in COLUMNS:
            out[c] = self.changed[c] / self.compared if self.compared else None
        out["seg"] = self.resegmented / self.words if self.words else None
        out["any"] = self.any_changed / self.words if self.words else None
        if layers is not None:
            for measure in list(out):
                layer = LAYER_OF.get(measure)
                if layer is not None and layer not in layers:
                    out[measure] = None
        return out


def compare_sentences(predicted: Sentence, annotated: Sentence) -> EditCounts:
    """What the annotator changed in one sentence (see the module docstring)."""
    counts = EditCounts(sentences=1, words=len(predicted.words), tokens=len(predicted.tokens))
    ann_tokens = {_span(t, i): t for i, t in enumerate(annotated.tokens)}
    pred_place, ann_place = _places(predicted), _places(annotated)
    for i, tok in enumerate(predicted.tokens):
        other = ann_tokens.get(_span(tok, i))
        if other is None or [w.form for w in other.words] != [w.form for w in tok.words]:
            counts.tokens_resegmented += 1
            counts.resegmented += len(tok.words)
            counts.any_changed += len(tok.words)
            continue
        for w, v in zip(tok.words, other.words):
            counts.compared += 1
            changed = False
            for c in ("upos", "lemma", "feats", "deprel"):
                if getattr(w, c) != getattr(v, c):
                    counts.changed[c] += 1
                    changed = True
            if pred_place.get(w.head, w.head) != ann_place.get(v.head, v.head):
                counts.changed["head"] += 1
                changed = True
            counts.any_changed += changed
    pred_ents, ann_ents = _entity_spans(predicted), _entity_spans(annotated)
    counts.entities_predicted = len(pred_ents)
    counts.entities_added = len(ann_ents - pred_ents)
    counts.entities_removed = len(pred_ents - ann_ents)
    return counts


def _span(token, index: int) -> tuple:
    return (token.start, token.end) if token.start is not None else ("index", index)


def _places(sentence: Sentence) -> dict[int, tuple]:
    """word id -> (its token's span, its place in the token): a head that survives renumbering; 0 is the root."""
    out: dict[int, tuple] = {0: ("root",)}
    for i, tok in enumerate(sentence.tokens):
        for k, w in enumerate(tok.words):
            out[w.id] = (_span(tok, i), k)
    return out


def _entity_spans(sentence: Sentence) -> set[tuple]:
    tokens = sentence.tokens
    out = set()
    for e in sentence.entities:
        first, last = tokens[e.start_token], tokens[e.end_token - 1]
        if first.start is None or last.end is None:
            out.add((("token", e.start_token), ("token", e.end_token), e.label))
        else:
            out.add((first.start, last.end, e.label))
    return out


# --- a project's annotations ----------------------------------------------------------------------------------

@dataclass
class VersionEdits:
    model_version: str
    annotations: int = 0
    counts: EditCounts = field(default_factory=EditCounts)
    first_annotated: str | None = None  # the earliest annotation's created_at (orders versions without rounds)


@dataclass
class EditReport:
    project_id: int
    project_title: str
    layers: tuple[str, ...]
    versions: dict[str, VersionEdits] = field(default_factory=dict)
    tasks: int = 0
    annotated_tasks: int = 0
    no_prediction: int = 0   # submitted annotations with no recorded prediction shown
    unmappable: int = 0      # pairs where the prediction or the annotation could not be mapped
    cancelled: int = 0       # skipped annotations (not counted)


def edit_rates(client, project_title: str) -> EditReport:
    """Fetch every task with its annotations (annotate/projects.py exported_tasks) and count the edits."""
    from mudawwana.annotate.projects import exported_tasks, get_project, project_layers

    project = get_project(client, project_title)
    layers = project_layers(client, project)
    report = EditReport(project.id, project.title, tuple(layers))
    _, chunks = exported_tasks(client, project.id)
    for chunk in chunks:
        for task in chunk:
            add_task(report, task)
    return report


def add_task(report: EditReport, task: dict) -> None:
    """Count one exported task's submitted annotations against the predictions they were shown."""
    from mudawwana.annotate.mapping import annotation_to_sentence
    from mudawwana.annotate.prediction_sentence import base_task_data, shown_conllu

    report.tasks += 1
    annotations = task.get("annotations") or []
    submitted = [a for a in annotations if not a.get("was_cancelled")]
    report.cancelled += len(annotations) - len(submitted)
    if submitted:
        report.annotated_tasks += 1
    data = task.get("data") or {}
    for a in submitted:
        shown = a.get("prediction") or {}
        if not isinstance(shown, dict) or shown.get("result") is None or not shown.get("model_version"):
            report.no_prediction += 1
            continue
        try:
            base = base_task_data(data, shown_conllu(a))  # a re-predicted task: the sentence shown
            predicted, p_problems = annotation_to_sentence(base, shown["result"], layers=report.layers)
            annotated, a_problems = annotation_to_sentence(base, a.get("result") or [], layers=report.layers)
        except Exception:  # noqa: BLE001 - a task not made by push, a broken result: one more unmappable pair
            report.unmappable += 1
            continue
        if p_problems or a_problems:
            report.unmappable += 1
            continue
        version = shown["model_version"]
        entry = report.versions.setdefault(version, VersionEdits(version))
        entry.annotations += 1
        entry.counts.add(compare_sentences(predicted, annotated))
        created = a.get("created_at")
        if created and (entry.first_annotated is None or created < entry.first_annotated):
            entry.first_annotated = created


# --- the report: edit rates joined with the retraining rounds --------------------------------------------------

def build_report(edits: EditReport, rounds_state: dict | None = None) -> dict:
    """The data of `rounds.json`: one entry per model version (edit rates, and the round that made or used it)
    and one per retraining round (held-out scores of both models). Nothing time-dependent: the same
    annotations and rounds give the same bytes."""
    rounds = list((rounds_state or {}).get("rounds") or [])
    round_of: dict[str, int] = {}
    deployed: dict[str, bool] = {}
    heldout_of: dict[str, dict] = {}
    for r in rounds:
        prev = (r.get("previous_model") or {}).get("model_version")
        new = (r.get("new_model") or {}).get("model_version")
        scores = r.get("heldout_scores") or {}
        if prev and prev not in round_of:
            round_of[prev], deployed[prev] = r["round"] - 1, True
            if scores.get("previous"):
                heldout_of[prev] = _shown_scores(scores["previous"])
        if new:
            round_of[new], deployed[new] = r["round"], bool(r.get("deployed"))
            if scores.get("new"):
                heldout_of[new] = _shown_scores(scores["new"])
    versions = set(edits.versions) | set(round_of)
    order = sorted(versions, key=lambda v: (round_of.get(v, 10**6), (edits.versions.get(v) or VersionEdits(v))
                                            .first_annotated or "", v))
    models = []
    for v in order:
        entry = edits.versions.get(v) or VersionEdits(v)
        c = entry.counts
        models.append({
            "model_version": v, "round": round_of.get(v), "deployed": deployed.get(v),
            "annotations": entry.annotations, "words": c.words, "compared_words": c.compared,
            "rates": {k: None if x is None else round(x, 4) for k, x in c.rates(edits.layers).items()},
            "changed": {**c.changed, "seg": c.resegmented, "any": c.any_changed},
            "entities": ({"predicted": c.entities_predicted, "added": c.entities_added,
                          "removed": c.entities_removed} if "ner" in edits.layers else None),
            "heldout_scores": heldout_of.get(v),
        })
    return {
        "project": edits.project_title, "layers": list(edits.layers),
        "tasks": edits.tasks, "annotated_tasks": edits.annotated_tasks,
        "annotations_without_shown_prediction": edits.no_prediction, "unmappable_pairs": edits.unmappable,
        "models": models,
        "rounds": [_round_summary(r) for r in rounds],
    }


def _shown_scores(scores: dict) -> dict:
    from mudawwana.annotate.retrain import SCORES

    if "error" in scores:
        return {"error": scores["error"]}
    return {k: scores[k] for k in SCORES if k in scores}


def _round_summary(r: dict) -> dict:
    data = r.get("data") or {}
    scores = r.get("heldout_scores") or {}
    return {
        "round": r.get("round"),
        "previous_model": (r.get("previous_model") or {}).get("model_version"),
        "new_model": (r.get("new_model") or {}).get("model_version"),
        "size": (r.get("new_model") or {}).get("size"),
        "deployed": bool(r.get("deployed")), "forced": bool(r.get("forced")), "decision": r.get("decision"),
        "corrections": (data.get("corrections") or {}).get("sentences"),
        "corrections_trained_on": (data.get("corrections_train") or {}).get("sentences"),
        "training_sentences": (data.get("train") or {}).get("sentences"),
        "heldout": data.get("heldout"),
        "heldout_scores": {k: _shown_scores(v) for k, v in scores.items()},
        "repredicted_tasks": (r.get("repredicted") or {}).get("unannotated", 0) if r.get("deployed") else 0,
        "seconds": r.get("seconds"),
    }


def write_report(report: dict, out_dir) -> list:
    """rounds.json, report.md, edit_rates.png and (with rounds) heldout_scores.png in out_dir; their paths."""
    from pathlib import Path

    from mudawwana.annotate.report_table import report_markdown
    from mudawwana.corpus.files import write_json_atomic, write_text_atomic
    from mudawwana.corpus.plots import line_plot

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "rounds.json", out_dir / "report.md"]
    write_json_atomic(written[0], report, indent=1)
    write_text_atomic(written[1], "\n".join([f"# Annotation report: {report['project']}", "",
                                              *report_markdown(report, level=2)]) + "\n")
    models = [m for m in report["models"] if m["annotations"]]
    if models:
        labels = [_label(m) for m in models]
        written.append(line_plot(
            out_dir / "edit_rates.png", list(range(len(models))),
            {name: [None if m["rates"][key] is None else 100 * m["rates"][key] for m in models]
             for key, name in (("upos", "UPOS"), ("lemma", "lemma"), ("head", "head"), ("deprel", "deprel"),
                               ("seg", "segmentation"), ("any", "any"))
             if any(m["rates"][key] is not None for m in models)},
            title="What annotators changed, by the model that pre-annotated",
            xlabel="model (round)", ylabel="% of predicted words changed", xticklabels=labels))
    rounds = [r for r in report["rounds"] if r["heldout_scores"].get("new")]
    if rounds:
        series = {}
        for which, name in (("previous", "previous model"), ("new", "new model")):
            for key in ("UPOS", "LAS"):
                series[f"{key}, {name}"] = [r["heldout_scores"].get(which, {}).get(key) for r in rounds]
        written.append(line_plot(out_dir / "heldout_scores.png", [r["round"] for r in rounds], series,
                                 title="Held-out corrections, end to end (udeval)", xlabel="round",
                                 ylabel="F1", xticklabels=[str(r["round"]) for r in rounds]))
    return written


def _label(model: dict) -> str:
    name = model["model_version"]
    short = name if len(name) <= 24 else name[:21] + "..."
    return short if model["round"] is None else f"{model['round']}: {short}"


def counts_dict(counts: EditCounts) -> dict:
    return asdict(counts)


__all__ = ["compare_sentences", "EditCounts", "edit_rates", "add_task", "EditReport", "build_report",
           "write_report", "COLUMNS", "RATES"]
