"""Inter-annotator agreement on a Label Studio project: per column, and the sentences that disagree most.

Only tasks with submitted annotations from two or more annotators count (each annotator's latest one).
Words are aligned by position, so a sentence is compared only when every annotator segmented it the same way;
sentences segmented differently are counted apart (their disagreement is in the segmentation itself).

Per column: observed agreement (mean over items of the share of agreeing annotator pairs) everywhere; a
chance-corrected kappa for the categorical columns (UPOS, deprel, NER): Cohen's when the project has exactly
two annotators, Fleiss' (for a varying number of raters per item) when more. Lemma and head get the observed
agreement only: a lemma or a head position is not a category drawn from a fixed set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Hashable, Sequence

from mudawwana.annotate.policies import TaskRecord, cells, columns_for, pairwise_agreement, pseudonym, segmentation_key

KAPPA_COLUMNS = ("upos", "deprel", "ner")


# --- statistics (pure) ------------------------------------------------------------------------------------------

def observed_agreement(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Mean over items of the share of agreeing rater pairs; items are label lists with >= 2 labels."""
    items = [i for i in items if len(i) >= 2]
    if not items:
        return None
    return sum(pairwise_agreement(list(i)) for i in items) / len(items)


def fleiss_kappa(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa; items may have different numbers of raters (>= 2 each).

    P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)); P-bar = mean P_i; p_j = sum_i n_ij / sum_i n_i;
    P_e = sum_j p_j^2; kappa = (P-bar - P_e) / (1 - P_e). With the same number of raters everywhere this is
    the textbook formula. None when undefined (no items, or every label the same category: P_e = 1).
    """
    items = [list(i) for i in items if len(i) >= 2]
    if not items:
        return None
    p_bar = sum(pairwise_agreement(i) for i in items) / len(items)
    totals: Counter = Counter()
    for i in items:
        totals.update(i)
    n = sum(totals.values())
    p_e = sum((c / n) ** 2 for c in totals.values())
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa for two raters: (p_o - p_e) / (1 - p_e), p_e from each rater's own label distribution."""
    if not pairs:
        return None
    n = len(pairs)
    p_o = sum(1 for a, b in pairs if a == b) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1 - p_e)


# --- the project report ----------------------------------------------------------------------------------------

@dataclass
class ColumnAgreement:
    column: str
    items: int
    observed: float | None
    kappa: float | None = None
    kappa_kind: str | None = None  # "cohen" | "fleiss" | None (not a categorical column)


@dataclass
class SentenceDisagreement:
    task_id: int
    sent_id: str | None
    annotators: int
    disagreeing: int  # cells (word x column, token x NER) where not every annotator agrees
    cells: int
    columns: dict[str, int] = field(default_factory=dict)  # disagreeing cells per column

    @property
    def score(self) -> float:
        return self.disagreeing / self.cells if self.cells else 0.0


@dataclass
class AgreementReport:
    project_id: int
    project_title: str
    layers: tuple[str, ...]
    tasks: int = 0                  # tasks in the project
    multi_annotated: int = 0        # tasks with >= 2 annotators
    compared: int = 0               # ... of which compared word by word (same segmentation)
    segmentation_differs: list[tuple[int, str | None]] = field(default_factory=list)  # (task id, sent id)
    annotators: list[str] = field(default_factory=list)  # pseudonyms of everyone who took part
    columns: dict[str, ColumnAgreement] = field(default_factory=dict)
    top: list[SentenceDisagreement] = field(default_factory=list)
    unmappable: list = field(default_factory=list)  # MappingFailure: left out of the comparison


def compute_agreement(tasks: Sequence[TaskRecord], *, project_id: int, project_title: str,
                      layers: Sequence[str], top_k: int = 10) -> AgreementReport:
    """The agreement report for already fetched tasks (see `agreement` for the server side)."""
    from mudawwana.annotate.pull import map_annotation  # pull imports policies only; no cycle at import time

    layers = tuple(layers)
    columns = columns_for(layers)
    report = AgreementReport(project_id=project_id, project_title=project_title, layers=layers, tasks=len(tasks))
    items: dict[str, list[list]] = {c: [] for c in columns}
    rated: dict[str, list[dict]] = {c: [] for c in columns}  # per item: {annotator: label}, for Cohen
    everyone: set[str] = set()
    disagreements: list[SentenceDisagreement] = []
    for task in tasks:
        anns = task.per_annotator()
        if len(anns) < 2:
            continue
        report.multi_annotated += 1
        sentences, raters, failed = [], [], False
        for a in anns:
            sentence, failure = map_annotation(task, a, layers, project_id=project_id)
            if failure is not None:
                report.unmappable.append(failure)
                failed = True
                continue
            sentences.append(sentence)
            raters.append(pseudonym(project_id, a.user_id))
        everyone.update(pseudonym(project_id, a.user_id) for a in anns)
        if failed or len(sentences) < 2:
            continue
        if len({segmentation_key(s) for s in sentences}) > 1:
            report.segmentation_differs.append((task.id, task.sent_id))
            continue
        report.compared += 1
        sd = SentenceDisagreement(task.id, task.sent_id, len(sentences), 0, 0)
        for column, values in cells(sentences, columns):
            items[column].append(values)
            rated[column].append(dict(zip(raters, values)))
            sd.cells += 1
            if len(set(values)) > 1:
                sd.disagreeing += 1
                sd.columns[column] = sd.columns.get(column, 0) + 1
        if sd.disagreeing:
            disagreements.append(sd)
    report.annotators = sorted(everyone)
    for column in columns:
        ca = ColumnAgreement(column, len(items[column]), observed_agreement(items[column]))
        if column in KAPPA_COLUMNS and items[column]:
            raters_seen = {r for item in rated[column] for r in item}
            if len(raters_seen) == 2:
                a, b = sorted(raters_seen)
                ca.kappa, ca.kappa_kind = cohen_kappa([(i[a], i[b]) for i in rated[column]]), "cohen"
            else:
                ca.kappa, ca.kappa_kind = fleiss_kappa(items[column]), "fleiss"
        report.columns[column] = ca
    disagreements.sort(key=lambda d: (-d.score, -d.disagreeing, d.task_id))
    report.top = disagreements[:top_k]
    return report


def agreement(client, project_title: str, *, top_k: int = 10) -> AgreementReport:
    """Fetch the project's annotations and compute the agreement report."""
    from mudawwana.annotate.client import get_project
    from mudawwana.annotate.pull import fetch_tasks, project_layers

    project = get_project(client, project_title)
    layers = project_layers(client, project)
    tasks = fetch_tasks(client, project.id)
    return compute_agreement(tasks, project_id=project.id, project_title=project.title, layers=layers, top_k=top_k)


__all__ = ["observed_agreement", "fleiss_kappa", "cohen_kappa", "compute_agreement", "agreement",
           "AgreementReport", "ColumnAgreement", "SentenceDisagreement"]
