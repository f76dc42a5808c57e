"""Agreement statistics against published worked examples, the `krippendorff` package and nltk (when installed),
the choice of statistic, the majority policy, and the project report."""

from __future__ import annotations

import re

import krippendorff
import numpy as np
import pytest

from mudawwana.annotate import pull as pull_mod
from mudawwana.annotate.agreement import (STATISTICS, chance_corrected, cohen_kappa, compute_agreement, fleiss_kappa,
                                          krippendorff_alpha, observed_agreement)
from mudawwana.annotate.policies import (Annotation, TaskRecord, is_tree, majority_sentence, ner_tags, normalize_task,
                               pseudonym, sentence_agreement)
from mudawwana.corpus.conllu_io import parse_conllu

# --- pure statistics -------------------------------------------------------------------------------------------


def _items_from_counts(table):
    """Rows of category counts (one row per subject) -> label lists."""
    return [[f"c{j}" for j, n in enumerate(row) for _ in range(n)] for row in table]


# Fleiss (1971) as worked through on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def _nltk_task(items):
    """nltk's AnnotationTask over label lists, the k-th label of an item from coder k (skips without nltk)."""
    agreement = pytest.importorskip("nltk.metrics.agreement")
    return agreement.AnnotationTask(data=[(k, i, label) for i, item in enumerate(items)
                                          for k, label in enumerate(item)])


def test_fleiss_textbook_example():
    items = _items_from_counts(WIKIPEDIA_FLEISS)
    # P-bar = 3.7802 / 10 = 0.37802; p_j = .143 .200 .279 .150 .229, P_e = 0.21275; kappa = 0.20993
    assert observed_agreement(items) == pytest.approx(0.37802, abs=1e-5)
    assert fleiss_kappa(items) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_matches_nltk_multi_pi():
    # nltk's pi() is Fleiss' kappa (Siegel & Castellan's K) when every coder rated every item; Fleiss' kappa does
    # not depend on which rater gave which label, so coder k = the k-th label of each item.
    items = _items_from_counts(WIKIPEDIA_FLEISS)
    assert fleiss_kappa(items) == pytest.approx(_nltk_task(items).pi())
    three = [["A", "A", "B"], ["B", "B", "B"], ["A", "C", "C"], ["C", "C", "C"], ["A", "B", "C"], ["A", "A", "A"]]
    assert fleiss_kappa(three) == pytest.approx(_nltk_task(three).pi())


def test_cohen_textbook_example():
    # Wikipedia "Cohen's kappa": 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    # p_o = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.4
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert observed_agreement([list(p) for p in pairs]) == pytest.approx(0.7)
    assert cohen_kappa(pairs) == pytest.approx(_nltk_task(pairs).kappa())  # nltk: Cohen (1960) for two coders


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units, missing
# values (None); nominal alpha = 0.743. Rows are observers, columns units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_krippendorff_published_example():
    items = [[row[u] for row in KRIPPENDORFF_2011 if row[u] is not None] for u in range(12)]
    assert krippendorff_alpha(items) == pytest.approx(0.743, abs=5e-4)
    # the package's value from the raters x units matrix (NaN = not rated), not from our per-item counts
    matrix = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011], dtype=float)
    assert krippendorff_alpha(items) == pytest.approx(krippendorff.alpha(reliability_data=matrix,
                                                                         level_of_measurement="nominal"))
    # nltk's alpha on the same data, the observers as coders and the missing values left out
    agreement = pytest.importorskip("nltk.metrics.agreement")
    task = agreement.AnnotationTask(data=[(f"o{k}", u, v) for k, row in enumerate(KRIPPENDORFF_2011)
                                          for u, v in enumerate(row) if v is not None])
    assert krippendorff_alpha(items) == pytest.approx(task.alpha())


def test_varying_numbers_of_raters_use_krippendorff_not_fleiss():
    items = [["A", "A", "A"], ["A", "B"], ["B", "B", "A"]]
    # Coincidences (ordered pairs within an item, each weighted 1 / (m_u - 1)): o_AA = 6/2, o_AB = o_BA = 1/1 + 2/2
    # = 2, o_BB = 2/2. n = 8, n_A = 5, n_B = 3. D_o = (o_AB + o_BA) / n = 1/2; D_e = 2 n_A n_B / (n (n - 1)) = 15/28;
    # alpha = 1 - D_o / D_e = 1/15.
    assert krippendorff_alpha(items) == pytest.approx(1 / 15)
    assert krippendorff_alpha(items) == pytest.approx(0.067, abs=5e-4)
    assert chance_corrected([dict(zip("xyz", i)) for i in items]) == (pytest.approx(1 / 15), "krippendorff")
    # Fleiss' formula fed varying numbers of raters gave -0.185: no recognised statistic, so it refuses
    with pytest.raises(ValueError, match="same number of ratings"):
        fleiss_kappa(items)


def test_two_raters_by_hand():
    items = [("A", "A"), ("A", "B"), ("B", "B"), ("B", "B")]
    # observed: (1 + 0 + 1 + 1) / 4 = 0.75
    assert observed_agreement(items) == pytest.approx(0.75)
    # Fleiss (= Scott's pi for two raters): p_A = 3/8, p_B = 5/8, P_e = 34/64; (0.75 - 0.53125) / 0.46875
    assert fleiss_kappa(items) == pytest.approx(7 / 15)
    # Cohen: rater 1 A A B B, rater 2 A B B B: p_e = (2*1 + 2*3) / 16 = 0.5; (0.75 - 0.5) / 0.5
    assert cohen_kappa(items) == pytest.approx(0.5)


def test_which_statistic_for_which_ratings():
    two = [{"x": "A", "y": "A"}, {"x": "A", "y": "B"}, {"x": "B", "y": "B"}, {"x": "B", "y": "B"}]
    assert chance_corrected(two) == (pytest.approx(0.5), "cohen")  # the same two raters everywhere
    three = [{"x": "A", "y": "A", "z": "B"}, {"x": "B", "y": "B", "z": "B"}, {"x": "A", "y": "A", "z": "A"}]
    assert chance_corrected(three) == (pytest.approx(fleiss_kappa([list(i.values()) for i in three])), "fleiss")
    # two raters per item, but not always the same two: no rater 1 / rater 2 for Cohen; Fleiss holds (n fixed)
    pairs = [{"x": "A", "y": "A"}, {"y": "A", "z": "B"}, {"x": "B", "z": "B"}]
    assert chance_corrected(pairs) == (pytest.approx(fleiss_kappa([["A", "A"], ["A", "B"], ["B", "B"]])), "fleiss")
    mixed = three + [{"x": "A", "z": "A"}]
    assert chance_corrected(mixed)[1] == "krippendorff"
    assert chance_corrected([{"x": "A"}]) == (None, None)  # nothing to pair
    assert set(STATISTICS) == {"cohen", "fleiss", "krippendorff"}


def test_undefined_and_empty():
    assert fleiss_kappa([["A", "A"], ["A", "A"]]) is None  # one category only: chance agreement is 1
    assert krippendorff_alpha([["A", "A"], ["A", "A", "A"]]) is None  # ... and no expected disagreement
    assert krippendorff_alpha([["A", "A"], ["B"]]) is None  # B is in no pairable item: still one category
    assert cohen_kappa([("A", "A")]) is None
    assert fleiss_kappa([]) is None and cohen_kappa([]) is None and observed_agreement([]) is None
    assert krippendorff_alpha([]) is None
    assert observed_agreement([["A"]]) is None  # one rater is no agreement at all


def test_perfect_agreement_is_kappa_one():
    items = [["A", "A"], ["B", "B"], ["C", "C"]]
    assert fleiss_kappa(items) == pytest.approx(1.0)
    assert cohen_kappa([tuple(i) for i in items]) == pytest.approx(1.0)
    assert krippendorff_alpha(items + [["A", "A", "A"]]) == pytest.approx(1.0)


# --- sentences: majority, agreement -------------------------------------------------------------------------------

BASE = """# sent_id = s1
# text = كتب الولد درسه.
1\tكتب\tكتب\tVERB\t_\t_\t0\troot\t_\t_
2\tالولد\tولد\tNOUN\t_\t_\t1\tnsubj\t_\tNER=B-PER
3-4\tدرسه\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No
3\tدرس\tدرس\tNOUN\t_\t_\t1\tobj\t_\t_
4\tه\tهو\tPRON\t_\t_\t3\tnmod\t_\t_
5\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_

"""


def sent(**changes):
    """BASE with (word id, column) -> value changes; ("ner", token index) -> tag."""
    s = parse_conllu(BASE)[0]
    for (wid, col), value in changes.get("c", {}).items():
        if col == "ner":
            from mudawwana.corpus.data_model import set_misc
            tok = s.tokens[wid]
            tok.misc = set_misc(tok.misc, "NER", None if value == "O" else value)
            continue
        w = s.words[wid - 1]
        setattr(w, col, int(value) if col == "head" else value)
    return s


def test_majority_votes_per_column_and_breaks_ties_by_latest():
    a = sent(c={(1, "upos"): "NOUN", (2, "lemma"): "ولد1"})
    b = sent(c={(1, "upos"): "NOUN", (2, "lemma"): "ولد2"})
    c = sent(c={(2, "lemma"): "ولد3"})  # the latest: upos VERB (outvoted), lemma a three-way tie -> its own
    merged, notes = majority_sentence([a, b, c], ("upos", "lemma", "head", "deprel", "ner"))
    assert notes == []
    assert merged.words[0].upos == "NOUN"
    assert merged.words[1].lemma == "ولد3"
    # two versions: a tie everywhere they differ -> the latest's value
    merged, _ = majority_sentence([a, b], ("upos", "lemma"))
    assert merged.words[1].lemma == "ولد2"


def test_majority_ner_per_token_with_bio_repair():
    a = sent(c={(1, "ner"): "O", (2, "ner"): "I-PER"})   # tokens: كتب الولد درسه .
    b = sent(c={(1, "ner"): "B-ORG", (2, "ner"): "I-PER"})
    c = sent(c={(1, "ner"): "O", (2, "ner"): "I-ORG"})
    merged, _ = majority_sentence([a, b, c], ("ner",))
    # token 1: O (2 of 3); token 2: I-PER (2 of 3) after O -> repaired to B-PER
    assert ner_tags(merged) == ["O", "O", "B-PER", "O"]


def test_majority_falls_back_to_latest_on_different_segmentation():
    a, b = sent(), _resegmented()
    merged, notes = majority_sentence([a, b], ("upos",))
    assert len(merged.words) == 4 and "segmented" in notes[0]
    assert sentence_agreement([a, b], ("upos",)) is None


def test_majority_heads_that_form_no_tree_fall_back_to_latest():
    # a and b (2 of 3) give word 3 the head 4 and word 4 the head 3: a cycle, so the vote is no tree
    a = sent(c={(3, "head"): "4", (4, "head"): "3"})
    b = sent(c={(3, "head"): "4", (4, "head"): "3"})
    c = sent()
    assert not is_tree([w.head for w in a.words])
    merged, notes = majority_sentence([a, b, c], ("head", "deprel"))
    assert [w.head for w in merged.words] == [w.head for w in c.words]
    assert "tree" in notes[0]


def test_sentence_agreement_by_hand():
    a, b = sent(), sent(c={(1, "upos"): "NOUN"})
    # 5 words x (upos, lemma) + 4 tokens x ner = 14 cells, one disagreeing -> 13/14
    assert sentence_agreement([a, b], ("upos", "lemma", "ner")) == pytest.approx(13 / 14)
    # three versions, one differs in one cell: that cell's pairwise agreement is 1/3
    assert sentence_agreement([a, a, b], ("upos",)) == pytest.approx((4 + 1 / 3) / 5)


def test_pseudonym_is_salted_by_project_and_hides_the_id():
    p = pseudonym(7, 3)
    assert p == pseudonym(7, 3) and p != pseudonym(8, 3) and p != pseudonym(7, 4)
    assert re.fullmatch(r"a[0-9a-f]{8}", p)
    # the id cannot be read off the pseudonym: a long id does not show up in it (8 hash digits contain a given
    # 7-digit string by chance with odds of about 1e-8), and distinct users get distinct pseudonyms
    assert "4815162" not in pseudonym(7, 4815162)
    assert len({pseudonym(7, user) for user in range(1, 1001)}) == 1000


def test_normalize_task_drops_emails():
    raw = {"id": 5, "data": {"sent_id": "s"}, "updated_at": "2026-01-01T00:00:00.000001Z",
           "annotations": [{"id": 1, "completed_by": {"id": 2, "email": "x@example.com"}, "result": [],
                            "created_username": " x@example.com, 2", "ground_truth": True}]}
    task = normalize_task(raw)
    assert task.annotations[0].user_id == 2 and task.annotations[0].reviewed
    assert "example.com" not in repr(task)


# --- the project report, with a stand-in for the mapping --------------------------------------------------------

def _task(task_id, versions, users=None):
    anns = [Annotation(id=task_id * 10 + i, task_id=task_id, user_id=(users or [1, 2, 3])[i],
                       result=[{"conllu": v}], updated_at=f"2026-01-01T00:00:0{i}.000000Z")
            for i, v in enumerate(versions)]
    return TaskRecord(id=task_id, data={"sent_id": f"s{task_id}"}, annotations=anns)


@pytest.fixture
def fake_mapping(monkeypatch):
    def fake(task, annotation, layers, *, project_id=None):
        return parse_conllu(annotation.result[0]["conllu"])[0], None
    monkeypatch.setattr(pull_mod, "map_annotation", fake)


def _conllu(s):
    from mudawwana.corpus.conllu_io import format_sentence
    return format_sentence(s)


def test_compute_agreement_two_annotators_by_hand(fake_mapping):
    base = _conllu(sent())
    t1 = _task(1, [base, _conllu(sent(c={(1, "upos"): "NOUN", (2, "deprel"): "obj"}))])
    t2 = _task(2, [base, base])
    t3 = _task(3, [base])  # one annotator: not counted
    report = compute_agreement([t1, t2, t3], project_id=1, project_title="p", layers=("upos", "deps", "ner"))
    assert report.multi_annotated == 2 and report.compared == 2 and len(report.annotators) == 2
    upos = report.columns["upos"]
    # 10 word pairs (5 words x 2 tasks), one differs. Rater 1: VERB NOUN NOUN PRON PUNCT twice;
    # rater 2 the same except word 1 of task 1 (NOUN).
    r1 = ["VERB", "NOUN", "NOUN", "PRON", "PUNCT"] * 2
    r2 = ["NOUN", "NOUN", "NOUN", "PRON", "PUNCT"] + ["VERB", "NOUN", "NOUN", "PRON", "PUNCT"]
    # p_o = 0.9; p1: VERB .2 NOUN .4 PRON .2 PUNCT .2; p2: VERB .1 NOUN .5 PRON .2 PUNCT .2
    p_e = 0.2 * 0.1 + 0.4 * 0.5 + 0.2 * 0.2 + 0.2 * 0.2
    assert upos.observed == pytest.approx(0.9)
    assert upos.kappa_kind == "cohen" and upos.kappa == pytest.approx((0.9 - p_e) / (1 - p_e))
    assert upos.statistic == "Cohen's kappa"
    assert cohen_kappa(list(zip(r1, r2))) == pytest.approx(upos.kappa)
    assert report.columns["head"].kappa is None and report.columns["head"].observed == 1.0
    assert report.columns["deprel"].observed == pytest.approx(0.9)
    assert report.columns["ner"].observed == 1.0
    assert [d.task_id for d in report.top] == [1] and report.top[0].disagreeing == 2
    assert report.top[0].columns == {"upos": 1, "deprel": 1}


def _resegmented():
    """BASE with درسه as one word (no clitic split): a different segmentation."""
    return parse_conllu(BASE.replace("3-4\tدرسه\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n", "")
                        .replace("3\tدرس\tدرس\tNOUN\t_\t_\t1\tobj\t_\t_\n4\tه\tهو\tPRON\t_\t_\t3\tnmod\t_\t_\n",
                                 "3\tدرسه\tدرس\tNOUN\t_\t_\t1\tobj\t_\tSpaceAfter=No\n")
                        .replace("5\t.\t.\tPUNCT\t_\t_\t1", "4\t.\t.\tPUNCT\t_\t_\t1"))[0]


def test_compute_agreement_varying_annotators_uses_krippendorff(fake_mapping):
    base = _conllu(sent())
    t1 = _task(1, [base, base, _conllu(sent(c={(1, "upos"): "NOUN"}))])
    t2 = _task(2, [base, base])
    t3 = _task(3, [base, _conllu(_resegmented())])
    report = compute_agreement([t1, t2, t3], project_id=1, project_title="p", layers=("upos",), top_k=1)
    assert report.multi_annotated == 3 and report.compared == 2
    assert report.segmentation_differs == [(3, "s3")]
    upos = report.columns["upos"]
    # by hand: P_i = 1/3 for word 1 of task 1, 1 for the other 9 items; P-bar = 9.3333 / 10
    assert upos.observed == pytest.approx((9 + 1 / 3) / 10)
    # 3 annotators on task 1, 2 on task 2: alpha. The only disagreeing item, VERB VERB NOUN, gives the
    # coincidences o_VN = o_NV = 2/2; n = 25 ratings: D_o = 2/25. Label totals VERB 4, NOUN 11, PRON 5, PUNCT 5:
    # D_e = (25^2 - (16 + 121 + 25 + 25)) / (25 * 24) = 438/600.
    assert upos.kappa_kind == "krippendorff" and upos.statistic == "Krippendorff's alpha (nominal)"
    assert upos.kappa == pytest.approx(1 - (2 / 25) / (438 / 600))
    assert len(report.top) == 1 and report.top[0].task_id == 1


def test_compute_agreement_three_annotators_everywhere_uses_fleiss(fake_mapping):
    base = _conllu(sent())
    t1 = _task(1, [base, base, _conllu(sent(c={(1, "upos"): "NOUN"}))])
    t2 = _task(2, [base, base, base])
    report = compute_agreement([t1, t2], project_id=1, project_title="p", layers=("upos", "ner"))
    upos = report.columns["upos"]
    assert upos.kappa_kind == "fleiss" and upos.statistic == "Fleiss' kappa"
    # by hand: P-bar = (9 + 1/3) / 10; label totals over 30 ratings: VERB 5, NOUN 13, PRON 6, PUNCT 6
    p_bar, p_e = (9 + 1 / 3) / 10, (25 + 169 + 36 + 36) / 900
    assert upos.observed == pytest.approx(p_bar)
    assert upos.kappa == pytest.approx((p_bar - p_e) / (1 - p_e))
    # NER: all agree, over two tags (O, B-PER): kappa 1 (over one tag only it would be undefined, None)
    assert report.columns["ner"].kappa_kind == "fleiss" and report.columns["ner"].kappa == pytest.approx(1.0)
