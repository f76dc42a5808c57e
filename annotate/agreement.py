"""Inter-annotator agreement on a Label Studio project: per column, and the sentences that disagree most.

Only tasks with submitted annotations from two or more annotators count (each annotator's latest one).
Words are aligned by position, so a sentence is compared only when every annotator segmented it the same way;
sentences segmented differently are counted apart (their disagreement is in the segmentation itself).

Per column: observed agreement (mean over items of the share of agreeing annotator pairs) everywhere, and for
the categorical columns (UPOS, deprel, NER) a chance-corrected coefficient chosen by how the items were rated:

- Cohen's kappa when the same two annotators rated every item;
- Fleiss' kappa when every item has the same number of annotators, but not always the same two (three or
  more, or pairs drawn from a larger pool: Cohen's rater 1 / rater 2 then mean nothing);
- Krippendorff's alpha (nominal) when the number of annotators varies from item to item. Fleiss' kappa is
  defined for a fixed number of ratings per item; plugging varying numbers into its formula gives no recognised
  statistic (on [[A,A,A],[A,B],[B,B,A]] it says -0.185 where alpha, built for missing ratings, says 0.067).

Alpha comes from the `krippendorff` package (vectorised; it takes the per-item label counts we have as they
are, and refuses the undefined cases instead of returning a number). Lemma and head get the observed agreement
only: a lemma or a head position is not a category drawn from a fixed set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mudawwana.annotate.policies import TaskRecord, cells, columns_for, pairwise_agreement, pseudonym, segmentation_key

KAPPA_COLUMNS = ("upos", "deprel", "ner")

# ColumnAgreement.kappa_kind -> the statistic in ColumnAgreement.kappa
COHEN, FLEISS, KRIPPENDORFF = "cohen", "fleiss", "krippendorff"
STATISTICS = {COHEN: "Cohen's kappa", FLEISS: "Fleiss' kappa", KRIPPENDORFF: "Krippendorff's alpha (nominal)"}


# --- statistics (pure) ------------------------------------------------------------------------------------------

def observed_agreement(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Mean over items of the share of agreeing rater pairs; items are label lists with >= 2 labels."""
    items = [i for i in items if len(i) >= 2]
    if not items:
        return None
    return sum(pairwise_agreement(list(i)) for i in items) / len(items)


def fleiss_kappa(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa (1971): every item rated by the same number n >= 2 of raters (not necessarily the same ones).

    P_i = sum_j n_ij (n_ij - 1) / (n (n - 1)); P-bar = mean P_i; p_j = sum_i n_ij / (N n); P_e = sum_j p_j^2;
    kappa = (P-bar - P_e) / (1 - P_e). None when undefined (no items, or every label the same category: P_e = 1).
    Items with different numbers of ratings are a ValueError: use `krippendorff_alpha`.
    """
    items = [list(i) for i in items if len(i) >= 2]
    if not items:
        return None
    if len({len(i) for i in items}) > 1:
        raise ValueError("Fleiss' kappa needs the same number of ratings on every item; "
                         "use Krippendorff's alpha when it varies")
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


def krippendorff_alpha(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha for nominal labels; items may have any number of ratings (those with fewer than two
    cannot be paired and do not count). Computed by the `krippendorff` package from the items' label counts.
    None when undefined: no item with two ratings, or a single category among them (no expected disagreement).
    """
    items = [list(i) for i in items if len(i) >= 2]
    categories = {label: k for k, label in enumerate(dict.fromkeys(label for i in items for label in i))}
    if len(categories) < 2:
        return None
    # value_counts (items x categories) rather than a raters x items matrix: alpha does not depend on who gave
    # which label, and counts need no NaN for "not rated" (a label could be any string, "nan" included).
    counts = np.zeros((len(items), len(categories)))
    for row, item in enumerate(items):
        for label in item:
            counts[row, categories[label]] += 1
    import krippendorff  # numpy: 0.4 s, paid only when agreement is measured

    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def chance_corrected(rated: Sequence[Mapping[Hashable, Hashable]]) -> tuple[float | None, str | None]:
    """(value, kind) of the chance-corrected agreement on items given as {rater: label}: Cohen's kappa when two
    raters rated everything, Fleiss' kappa when every item has the same number of raters, Krippendorff's alpha
    when that number varies. (None, None) when no item has two ratings."""
    rated = [r for r in rated if len(r) >= 2]
    if not rated:
        return None, None
    raters = {r for item in rated for r in item}
    if len(raters) == 2:  # then every item has both
        a, b = sorted(raters, key=str)
        return cohen_kappa([(item[a], item[b]) for item in rated]), COHEN
    items = [list(item.values()) for item in rated]
    if len({len(i) for i in items}) == 1:
        return fleiss_kappa(items), FLEISS
    return krippendorff_alpha(items), KRIPPENDORFF


# --- the project report ----------------------------------------------------------------------------------------

@dataclass
class ColumnAgreement:
    column: str
    items: int
    observed: float | None
    kappa: float | None = None  # chance-corrected agreement by the statistic kappa_kind names (a kappa or alpha)
    kappa_kind: str | None = None  # a key of STATISTICS ("cohen", "fleiss", "krippendorff"); None: observed only

    @property
    def statistic(self) -> str | None:
        """The name of the statistic in `kappa`, e.g. "Krippendorff's alpha (nominal)"."""
        return STATISTICS.get(self.kappa_kind)


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
    rated: dict[str, list[dict]] = {c: [] for c in columns}  # per item: {annotator: label}
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
            # Annotations without a user are told apart by id, as per_annotator does: one pseudonym for all of
            # them would merge their labels into one rater.
            raters.append(pseudonym(project_id, a.user_id) if a.user_id is not None else f"annotation-{a.id}")
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
        if column in KAPPA_COLUMNS:
            ca.kappa, ca.kappa_kind = chance_corrected(rated[column])
        report.columns[column] = ca
    disagreements.sort(key=lambda d: (-d.score, -d.disagreeing, d.task_id))
    report.top = disagreements[:top_k]
    return report


def agreement(client, project_title: str, *, top_k: int = 10) -> AgreementReport:
    """Fetch the project's annotations and compute the agreement report."""
    from mudawwana.annotate.projects import get_project, project_layers
    from mudawwana.annotate.pull import fetch_tasks

    project = get_project(client, project_title)
    layers = project_layers(client, project)
    tasks = fetch_tasks(client, project.id)
    return compute_agreement(tasks, project_id=project.id, project_title=project.title, layers=layers, top_k=top_k)


__all__ = ["observed_agreement", "fleiss_kappa", "cohen_kappa", "krippendorff_alpha", "chance_corrected",
           "compute_agreement", "agreement", "AgreementReport", "ColumnAgreement", "SentenceDisagreement",
           "STATISTICS"]


# The name the package exports: `mudawwana.annotate.agreement` is this module, so the function needs another.
measure_agreement = agreement
