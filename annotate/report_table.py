"""The annotation report as Markdown: the `mudawwana report` file and the dataset card's section.

Light on purpose (no SDK, no stanza): export/card.py renders it too. Input: the dict of annotate/edit_rates.py
build_report (what `mudawwana report` writes as rounds.json).
"""

from __future__ import annotations

_RATE_COLUMNS = (("upos", "UPOS"), ("lemma", "lemma"), ("feats", "FEATS*"), ("head", "head"), ("deprel", "deprel"),
                 ("seg", "segm."), ("any", "any"))
_SCORES = ("UPOS", "Lemmas", "UAS", "LAS")


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _f1(scores: dict | None, key: str) -> str:
    if not scores or "error" in scores or key not in scores:
        return "–"
    return f"{scores[key]:.1f}"


def report_markdown(report: dict, level: int = 3) -> list[str]:
    """Markdown lines: the edit rates per model, then the held-out scores per retraining round."""
    h = "#" * level
    out = [f"{h} What annotators changed, per model", "",
           "Share of the predicted words (%) whose value the annotators changed, by the model whose prediction "
           "they were shown (`annotation.prediction` in Label Studio).", "",
           "| round | model | annotations | words | " + " | ".join(n for _, n in _RATE_COLUMNS)
           + " | entities +/− | held-out UPOS | held-out LAS |",
           "|---:|---|---:|---:|" + "---:|" * len(_RATE_COLUMNS) + "---:|---:|---:|"]
    for m in report.get("models") or []:
        ents = m.get("entities")
        ent = "–" if not ents else f"+{ents['added']} / −{ents['removed']}"
        out.append(f"| {'–' if m.get('round') is None else m['round']} | `{m['model_version']}` | "
                   f"{m['annotations']:,} | {m['words']:,} | "
                   + " | ".join(_pct(m["rates"].get(k)) for k, _ in _RATE_COLUMNS)
                   + f" | {ent} | {_f1(m.get('heldout_scores'), 'UPOS')} | {_f1(m.get('heldout_scores'), 'LAS')} |")
    out += ["", "Columns are over the words whose segmentation was kept; segm. and any over all predicted words. "
            "– : not shown in this project's labeling interface, or nothing to measure. *FEATS is not in the "
            "labeling interface: it changes only with the segmentation.", ""]
    extra = []
    if report.get("annotations_without_shown_prediction"):
        extra.append(f"{report['annotations_without_shown_prediction']:,} annotations had no recorded prediction "
                     "(none of the project's model version existed when they were made)")
    if report.get("unmappable_pairs"):
        extra.append(f"{report['unmappable_pairs']:,} annotations could not be mapped back and are not counted")
    if extra:
        out += ["; ".join(extra) + ".", ""]
    rounds = report.get("rounds") or []
    if rounds:
        out += [f"{h} Retraining rounds", "",
                "Each round trained on the base corpus plus the corrected sentences of the train documents, and "
                "scored the model that pre-annotated it and the new one, end to end from raw text with udeval "
                "(CoNLL 2018 metrics, F1), on the corrected sentences of the test documents, which no round "
                "trains on. The new model was deployed when it was better on LAS or UPOS.", "",
                "| round | corrections trained on | held-out sentences | "
                + " | ".join(f"{k} before → after" for k in _SCORES) + " | deployed |",
                "|---:|---:|---:|" + "---|" * len(_SCORES) + "---|"]
        for r in rounds:
            held = r.get("heldout") or {}
            scores = r.get("heldout_scores") or {}
            cells = [f"{_f1(scores.get('previous'), k)} → {_f1(scores.get('new'), k)}" for k in _SCORES]
            deployed = "yes" + (" (forced)" if r.get("forced") else "") if r.get("deployed") else "no"
            out.append(f"| {r['round']} | {r.get('corrections_trained_on') or 0:,} | {held.get('sentences', 0):,} | "
                       + " | ".join(cells) + f" | {deployed} |")
        out.append("")
    return out
