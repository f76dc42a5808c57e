"""Sentence -> task -> (edited) annotation -> Sentence: the prediction maps back to the identical sentence, each
correction comes back as exactly that change, and what cannot be mapped is reported (never dropped)."""

from __future__ import annotations

import copy
import itertools

import pytest

from mudawwana.annotate.config import DEFAULT_LAYERS, LAYERS, build_config
from mudawwana.annotate.mapping import MappingProblem, annotation_to_sentence
from mudawwana.annotate.tasks import display_words, from_js, sentence_to_task, text_sha1, to_js, validate_task
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu, read_conllu
from mudawwana.corpus.data_model import Entity, Sentence, Token, Word, format_misc, parse_misc

from fixtures_models import SAMPLE

ALL = LAYERS
TOKEN_KEYS = ("SpaceAfter",)


def with_mwts(sentence: Sentence) -> Sentence:
    """PUD writes clitics as separate tokens glued by SpaceAfter=No (نشرت ها); stanza's Arabic models give
    multi-word tokens (نشرتها = نشرت + ها). Turn runs of 2-3 glued non-punctuation tokens into such tokens."""
    tokens, out, i = sentence.tokens, [], 0
    while i < len(tokens):
        j = i
        while j + 1 < len(tokens) and j - i < 2 and not tokens[j].space_after and \
                all(t.words[0].upos != "PUNCT" and not t.is_multiword for t in tokens[j:j + 2]):
            j += 1
        if j == i:
            out.append(tokens[i])
        else:
            run = tokens[i:j + 1]
            words = [copy.copy(t.words[0]) for t in run]
            last = parse_misc(run[-1].misc)
            for w in words:
                w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_KEYS})
            out.append(Token("".join(t.form for t in run), words,
                             mwt_misc=format_misc({k: v for k, v in last.items() if k in TOKEN_KEYS})))
        i = j + 1
    result = copy.deepcopy(sentence)
    result.tokens = out
    return parse_conllu(format_sentence(result))[0]  # canonical: offsets as the reader gives them


def with_entities(sentence: Sentence) -> Sentence:
    """Runs of PROPN tokens become entities (labels cycling through PER, LOC, ORG, MISC)."""
    result = copy.deepcopy(sentence)
    ents, start = [], None
    for i, tok in enumerate(result.tokens + [None]):
        is_propn = tok is not None and tok.words[-1].upos == "PROPN"
        if is_propn and start is None:
            start = i
        elif not is_propn and start is not None:
            ents.append(Entity(start, i, ("PER", "LOC", "ORG", "MISC")[len(ents) % 4]))
            start = None
    result.set_entities(ents)
    return parse_conllu(format_sentence(result))[0]


@pytest.fixture(scope="module")
def sample() -> list[Sentence]:
    return list(itertools.islice(read_conllu(SAMPLE), 400))


@pytest.fixture(scope="module")
def first(sample) -> Sentence:
    return sample[0]  # كتبت كوري شولمان, المساعدة الخاصة لأوباما في تدوينة نشرتها يوم الإثنين: ...


# --- helpers: a task, its prediction as an annotation result, and edits to it -------------------------------

def task_of(sentence: Sentence, layers=ALL) -> tuple[dict, list[dict]]:
    task = sentence_to_task(sentence, layers=layers, model_version="tiny@1")
    return task, copy.deepcopy(task["predictions"][0]["result"])


def mapped(task, result, layers=ALL) -> tuple[Sentence, list[MappingProblem]]:
    return annotation_to_sentence(task["data"], result, layers=layers)


def span(task, word_id: int) -> tuple[int, int]:
    return next((s, e) for w, s, e, _ in task["data"]["word_spans"] if w == word_id)


def item(result, rid: str, from_name: str = "upos") -> dict:
    return next(r for r in result if r.get("id") == rid and r.get("from_name") == from_name)


def drop(result, *rids: str) -> list[dict]:
    return [r for r in result if r.get("id") not in rids]


def add_word(task, result, rid: str, start: int, end: int, upos: str, lemma: str | None = None) -> None:
    words = task["data"]["words"]
    value = {"start": start, "end": end, "text": words[start:end]}
    result.append({"id": rid, "from_name": "upos", "to_name": "words", "type": "labels",
                   "value": {**value, "labels": [upos]}})
    if lemma is not None:
        result.append({"id": rid, "from_name": "lemma", "to_name": "words", "type": "textarea",
                       "value": {"start": start, "end": end, "text": [lemma]}})


def relation(result, dep: str) -> dict:
    return next(r for r in result if r.get("type") == "relation" and r["to_id"] == dep)


def reasons(problems) -> list[str]:
    return [p.reason for p in problems]


def assert_same(got: Sentence, expected: Sentence) -> None:
    assert format_sentence(got) == format_sentence(expected)


# --- the task ------------------------------------------------------------------------------------------------

def test_task_data_schema(first):
    task, _ = task_of(first, ALL)
    data = task["data"]
    assert set(data) == {"sent_id", "doc_id", "text", "words", "word_spans", "conllu", "text_sha1",
                         "model_version", "layers"}
    assert data["sent_id"] == "n01001011" and data["doc_id"] == "n01001"
    assert data["text"] == first.text and data["text_sha1"] == text_sha1(first.text)
    assert data["conllu"] == format_sentence(first)
    assert data["words"].startswith("ROOT · كتبت · كوري · شولمان , · المساعدة")
    assert data["word_spans"][0] == [0, 0, 4, -1]
    for word_id, start, end, token in data["word_spans"][1:]:
        assert data["words"][start:end] == first.words[word_id - 1].form
        assert word_id in [w.id for w in first.tokens[token].words]
    assert task["predictions"][0]["model_version"] == "tiny@1" and "score" not in task["predictions"][0]
    assert sentence_to_task(first, model_version="m", score=0.5)["predictions"][0]["score"] == 0.5


def test_display_joins_clitics_with_plus_and_separates_tokens(first):
    words, spans = display_words(with_mwts(first))
    # PUD's glued tokens ل أوباما became one token of two words: ل+أوباما; tokens apart: " · ".
    assert "المساعدة · الخاصة · ل+أوباما · في · تدوينة · نشرت+ها · يوم" in words
    assert "الإثنين :" in words  # a token written against the next one (SpaceAfter=No): one space
    assert not words.startswith("ROOT")
    assert all(words[s.start:s.end] and "+" not in words[s.start:s.end] for s in spans)


def test_prediction_regions(first):
    task, result = task_of(first, ALL)
    assert item(result, "w1") == {"id": "w1", "from_name": "upos", "to_name": "words", "type": "labels",
                                  "value": {"start": 7, "end": 11, "text": "كتبت", "labels": ["VERB"]}}
    assert item(result, "w1", "lemma")["value"] == {"start": 7, "end": 11, "text": ["كَتَب"]}
    assert item(result, "w0", "root")["value"]["labels"] == ["ROOT"]
    assert relation(result, "w1") == {"type": "relation", "from_id": "w0", "to_id": "w1", "direction": "right",
                                      "labels": ["root"]}
    assert relation(result, "w2")["from_id"] == "w1"
    # Without deps: no ROOT, no relations.
    task, result = task_of(first, DEFAULT_LAYERS)
    assert not task["data"]["words"].startswith("ROOT")
    assert not [r for r in result if r.get("type") == "relation" or r.get("from_name") == "root"]


# --- round trip: the prediction maps back to exactly the input ------------------------------------------------

def round_trip_sentences(sample) -> list[Sentence]:
    """200 sentences: every other one with multi-word tokens, every third with entities."""
    out = []
    for i, s in enumerate(sample[:200]):
        s = with_mwts(s) if i % 2 else s
        out.append(with_entities(s) if i % 3 == 0 else s)
    return out


@pytest.mark.parametrize("layers", [ALL, DEFAULT_LAYERS, ("upos",), ("deps",), ("lemma", "seg"), ("ner",)],
                         ids=",".join)
def test_prediction_maps_back_to_the_identical_sentence(sample, layers):
    sentences = round_trip_sentences(sample)
    assert sum(t.is_multiword for s in sentences for t in s.tokens) > 100
    assert sum(len(t.words) == 3 for s in sentences for t in s.tokens) >= 3
    assert sum(bool(s.entities) for s in sentences) > 30
    config = build_config(layers)
    for sentence in sentences:
        task, result = task_of(sentence, layers)
        assert validate_task(config, task) == []
        got, problems = mapped(task, result, layers)
        assert problems == []
        assert format_sentence(got) == format_sentence(sentence)
        assert got == sentence  # offsets too


def test_what_label_studio_stores_on_submit_maps_back(first):
    """Submit adds "origin" to each region (measured with the real UI in test_screenshot.py)."""
    task, result = task_of(with_entities(first), ALL)
    for r in result:
        if r.get("type") != "relation":
            r["origin"] = "prediction"
    assert_same(mapped(task, result)[0], with_entities(first))


def test_astral_characters_use_javascript_offsets():
    sentence = parse_conllu(
        "# sent_id = e1\n# text = رأيت 😀 محمد\n"
        "1\tرأيت\tرَأَى\tVERB\t_\t_\t0\troot\t_\t_\n"
        "2\t😀\t😀\tSYM\t_\t_\t1\tdep\t_\t_\n"
        "3\tمحمد\tمحمد\tPROPN\t_\t_\t1\tobj\t_\tNER=B-PER\n\n")[0]
    task, result = task_of(sentence, ALL)
    ner = item(result, "n2", "ner")["value"]
    assert (ner["start"], ner["end"]) == (8, 12)  # code points 7-11; the emoji is two UTF-16 units
    assert to_js(sentence.text, 7) == 8 and from_js(sentence.text, 8) == 7 and from_js(sentence.text, 6) is None
    assert validate_task(build_config(ALL), task) == []
    got, problems = mapped(task, result)
    assert problems == [] and got == sentence


# --- corrections come back as exactly those changes ---------------------------------------------------------

def test_change_upos(first):
    task, result = task_of(first, DEFAULT_LAYERS)
    item(result, "w2")["value"]["labels"] = ["NOUN"]
    expected = copy.deepcopy(first)
    expected.words[1].upos = "NOUN"
    got, problems = mapped(task, result, DEFAULT_LAYERS)
    assert problems == []
    assert_same(got, expected)


def test_change_lemma(first):
    task, result = task_of(first, DEFAULT_LAYERS)
    item(result, "w5", "lemma")["value"]["text"] = ["مُساعِدَة"]
    expected = copy.deepcopy(first)
    expected.words[4].lemma = "مُساعِدَة"
    got, problems = mapped(task, result, DEFAULT_LAYERS)
    assert problems == []
    assert_same(got, expected)


def test_merge_two_words_of_a_multiword_token(first):
    sentence = with_mwts(first)  # token لأوباما = ل (7, case of 8) + أوباما (8, nmod of 5)
    task, result = task_of(sentence, DEFAULT_LAYERS)
    start, end = span(task, 7)[0], span(task, 8)[1]
    assert task["data"]["words"][start:end] == "ل+أوباما"
    result = drop(result, "w7", "w8")
    add_word(task, result, "merged", start, end, "PROPN", "أوباما")

    expected = copy.deepcopy(sentence)
    tok = next(t for t in expected.tokens if t.form == "لأوباما")
    tok.words = [Word(8, "لأوباما", "أوباما", "PROPN", head=5, deprel="nmod")]  # id 8: takes أوباما's place
    for w in expected.words:
        w.head = 8 if w.head == 7 else w.head
    expected.renumber()
    got, problems = mapped(task, result, DEFAULT_LAYERS)
    assert problems == []
    assert_same(got, expected)
    assert not got.tokens[next(i for i, t in enumerate(got.tokens) if t.form == "لأوباما")].is_multiword


def test_merge_two_of_three_words(sample):
    sentence = with_mwts(sample[29])  # وبحلول = و + ب + حلول
    tok_index = next(i for i, t in enumerate(sentence.tokens) if len(t.words) == 3)
    w_and, w_bi, w_noun = sentence.tokens[tok_index].words
    task, result = task_of(sentence, ALL)
    start, end = span(task, w_bi.id)[0], span(task, w_noun.id)[1]
    result = drop(result, f"w{w_bi.id}", f"w{w_noun.id}")
    add_word(task, result, "m", start, end, "NOUN")
    # The merged word takes the head of the part attached outside it, and the relations of both parts.
    for r in result:
        if r.get("type") == "relation":
            for key in ("from_id", "to_id"):
                if r[key] in (f"w{w_bi.id}", f"w{w_noun.id}"):
                    r[key] = "m"
    result = [r for r in result if not (r.get("type") == "relation" and r["from_id"] == r["to_id"] == "m")]

    expected = copy.deepcopy(sentence)
    tok = expected.tokens[tok_index]
    tok.words = [tok.words[0], Word(w_noun.id, "بحلول", "_", "NOUN", head=w_noun.head, deprel=w_noun.deprel)]
    for w in expected.words:
        w.head = w_noun.id if w.head == w_bi.id else w.head
    expected.renumber()
    got, problems = mapped(task, result, ALL)
    assert problems == []
    assert_same(got, expected)
    assert got.tokens[tok_index].is_multiword and got.tokens[tok_index].form == "وبحلول"


def test_split_a_word(first):
    task, result = task_of(first, DEFAULT_LAYERS)  # الإثنين: word 14, obl of 13, SpaceAfter=No
    start, end = span(task, 14)
    result = drop(result, "w14")
    add_word(task, result, "a", start, start + 2, "DET")
    add_word(task, result, "b", start + 2, end, "PROPN", "إثنين")

    expected = copy.deepcopy(first)
    tok = expected.tokens[13]
    old = tok.words[0]
    tok.words = [Word(-1, "ال", "_", "DET", head=14, deprel="dep"),
                 Word(14, "إثنين", "إثنين", "PROPN", head=13, deprel="obl")]
    tok.mwt_misc = "SpaceAfter=No"
    expected.renumber()
    got, problems = mapped(task, result, DEFAULT_LAYERS)
    assert problems == []
    assert_same(got, expected)
    assert "LId=" in old.misc  # LId=... described the old word; the new words start clean
    assert [w.misc for w in got.tokens[13].words] == ["_", "_"]
    assert "14-15\tالإثنين\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No" in format_sentence(got)


def test_split_without_the_seg_layer_is_reported(first):
    layers = ("upos", "lemma", "ner")
    task, result = task_of(first, layers)
    start, end = span(task, 14)
    result = drop(result, "w14")
    add_word(task, result, "a", start, start + 2, "DET")
    add_word(task, result, "b", start + 2, end, "PROPN")
    got, problems = mapped(task, result, layers)
    assert reasons(problems) == ["words of token 'الإثنين' were resegmented but the seg layer is off"]
    assert_same(got, first)


def test_change_head_and_deprel(first):
    task, result = task_of(first, ALL)
    rel = relation(result, "w3")  # شولمان: flat of كوري
    rel["from_id"], rel["labels"] = "w1", ["obj"]
    expected = copy.deepcopy(first)
    expected.words[2].head, expected.words[2].deprel = 1, "obj"
    got, problems = mapped(task, result, ALL)
    assert problems == []
    assert_same(got, expected)


def test_relation_drawn_backwards_is_read_by_its_direction(first):
    task, result = task_of(first, ALL)
    rel = relation(result, "w3")
    rel["from_id"], rel["to_id"], rel["direction"] = "w3", "w2", "left"
    got, problems = mapped(task, result, ALL)
    assert problems == []
    assert_same(got, first)


def test_add_and_remove_entities(first):
    task, result = task_of(first, ALL)
    text = first.text
    start = text.index("كوري شولمان")
    result.append({"id": "e1", "from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": start, "end": start + len("كوري شولمان"), "labels": ["PER"]}})
    expected = copy.deepcopy(first)
    expected.set_entities([Entity(1, 3, "PER")])
    got, problems = mapped(task, result, ALL)
    assert problems == []
    assert_same(got, expected)
    assert got.tokens[1].misc == "LId=كوري_0|NER=B-PER"

    task, result = task_of(expected, ALL)
    got, problems = mapped(task, drop(result, "n1"), ALL)
    assert problems == []
    assert_same(got, first)


def test_entity_inside_a_glued_token_sequence(first):
    """PUD's ل أوباما are two tokens: أوباما alone can be an entity although the text writes لأوباما."""
    task, result = task_of(first, ALL)
    start = first.text.index("أوباما")
    result.append({"id": "e1", "from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": start, "end": start + 6, "labels": ["PER"]}})
    got, problems = mapped(task, result, ALL)
    assert problems == [] and got.entities == [Entity(7, 8, "PER")]


# --- problems are reported with their reason (and region) ---------------------------------------------------

def problem_for(sentence, edit, layers=ALL) -> list[MappingProblem]:
    task, result = task_of(sentence, layers)
    result = edit(task, result) or result
    got, problems = mapped(task, result, layers)
    assert problems, "expected a problem"
    return problems


def test_problem_entity_not_aligned_to_tokens(first):
    def edit(task, result):
        result.append({"id": "e1", "from_name": "ner", "to_name": "text", "type": "labels",
                       "value": {"start": 0, "end": 3, "labels": ["PER"]}})  # كتب of كتبت
    [p] = problem_for(first, edit)
    assert p.reason == "entity 'كتب' is not aligned to tokens" and p.region_id == "e1"
    assert p.sent_id == "n01001011" and "n01001011" in str(p)


def test_problem_two_labels_on_one_word(first):
    def edit(task, result):
        item(result, "w2")["value"]["labels"] = ["PROPN", "NOUN"]
    [p] = problem_for(first, edit)
    assert p.reason.startswith("two labels on one word 'كوري'") and p.region_id == "w2"

    def duplicate(task, result):
        add_word(task, result, "dup", *span(task, 2), "NOUN")
    [p] = problem_for(first, duplicate)
    assert p.reason.startswith("two labels on one word 'كوري'") and p.region_id == "dup"


def test_problem_region_crossing_a_token_gap(first):
    def edit(task, result):
        add_word(task, result, "x", span(task, 2)[0], span(task, 3)[1], "PROPN")
    problems = problem_for(first, edit)
    assert reasons(problems) == ["region 'كوري · شولمان' crosses a token gap"]
    assert problems[0].region_id == "x"


def test_problem_part_of_a_token_not_covered(first):
    def edit(task, result):
        return drop(result, "w5")
    problems = problem_for(first, edit)
    assert "part of token 'المساعدة' is not covered by any word: 'المساعدة'" in reasons(problems)

    def shrink(task, result):
        item(result, "w5")["value"].update(start=span(task, 5)[0] + 2, text=None)
    assert "part of token 'المساعدة' is not covered by any word: 'ال'" in reasons(problem_for(first, shrink))


def test_problem_overlapping_regions(first):
    def edit(task, result):
        add_word(task, result, "o", span(task, 5)[0], span(task, 5)[0] + 3, "DET")
    assert reasons(problem_for(first, edit))[0] == "regions 'الم' and 'المساعدة' overlap"


def test_problem_word_with_no_head(first):
    def edit(task, result):
        return [r for r in result if not (r.get("type") == "relation" and r["to_id"] == "w3")]
    problems = problem_for(first, edit)
    assert reasons(problems) == ["word 'شولمان' has no head; the predicted one kept"]
    assert problems[0].region_id == "w3"


def test_problem_cycle(first):
    def edit(task, result):
        relation(result, "w1").update(from_id="w2", labels=["ccomp"])  # كتبت <- كوري <- كتبت
    problems = problem_for(first, edit)
    # The cycle is the one problem: that no word is left on ROOT is the cycle itself, not a second report.
    assert len(problems) == 1
    assert problems[0].reason in ("cycle: كتبت -> كوري", "cycle: كوري -> كتبت")
    assert problems[0].region_id in ("w1", "w2")


def test_problem_relation_to_an_unknown_region(first):
    def edit(task, result):
        relation(result, "w3")["from_id"] = "nowhere"
    problems = problem_for(first, edit)
    assert problems[0] == MappingProblem("n01001011", "relation to an unknown region (not a word) ignored",
                                         "nowhere")
    assert "word 'شولمان' has no head; the predicted one kept" in reasons(problems)


def test_problem_relation_labels_and_direction(first):
    def no_label(task, result):
        relation(result, "w3")["labels"] = []
    assert reasons(problem_for(first, no_label))[0] == "relation to 'شولمان' needs exactly one known deprel, has []"

    def both_ways(task, result):
        relation(result, "w3")["direction"] = "bi"
    assert "has direction 'bi'" in reasons(problem_for(first, both_ways))[0]

    def second_root(task, result):
        relation(result, "w3").update(from_id="w0", labels=["root"])
    assert "2 words hang from ROOT: كتبت, شولمان" in reasons(problem_for(first, second_root))

    def root_label(task, result):
        relation(result, "w3")["labels"] = ["root"]
    assert "word 'شولمان': only a relation from ROOT is labelled root" in reasons(problem_for(first, root_label))


def test_problem_relations_without_the_deps_layer(first):
    def edit(task, result):
        result.append({"type": "relation", "from_id": "w1", "to_id": "w2", "direction": "right"})
    problems = problem_for(first, edit, DEFAULT_LAYERS)
    assert reasons(problems) == ["1 relation(s) ignored: the deps layer is off"]


def test_problem_region_of_a_layer_that_is_off(first):
    def edit(task, result):
        result.append({"id": "e1", "from_name": "ner", "to_name": "text", "type": "labels",
                       "value": {"start": 0, "end": 4, "labels": ["PER"]}})
    problems = problem_for(first, edit, ("upos", "lemma"))
    assert reasons(problems) == ["ner region ignored: its layer is not on"]


def test_problem_offsets_that_do_not_match_the_text(first):
    def edit(task, result):
        item(result, "w2")["value"]["start"] += 1
    problems = problem_for(first, edit)
    assert problems[0].reason == "region text 'كوري' does not match its offsets; ignored"


def test_problem_overlapping_entities_and_bad_labels(first):
    def edit(task, result):
        for rid, (s, e), labels in (("e1", (5, 16), ["PER"]), ("e2", (10, 16), ["LOC"]), ("e3", (0, 4), [])):
            result.append({"id": rid, "from_name": "ner", "to_name": "text", "type": "labels",
                           "value": {"start": s, "end": e, "labels": labels}})
    problems = problem_for(first, edit)
    assert reasons(problems) == ["entity 'كتبت' needs exactly one of PER, LOC, ORG, MISC, has []",
                                 "entity LOC over tokens 2-2 overlaps another; ignored"]


def test_inconsistent_task_data_applies_nothing(first):
    task, result = task_of(first, ALL)
    task["data"]["words"] = task["data"]["words"].replace("كتبت", "كتبن")
    item(result, "w2")["value"]["labels"] = ["NOUN"]
    got, problems = mapped(task, result)
    assert "nothing from the annotation was applied" in problems[0].reason
    assert_same(got, first)


def test_validate_task_reports_what_label_studio_would_only_log(first):
    config = build_config(ALL)
    task, _ = task_of(first, ALL)
    result = task["predictions"][0]["result"]
    item(result, "w2")["value"]["labels"] = ["NOUNISH"]
    item(result, "w3")["value"]["start"] += 1
    relation(result, "w4")["labels"] = ["subject"]
    relation(result, "w5")["to_id"] = "w99"
    task["predictions"][0]["score"] = 7
    del task["data"]["text"]
    errors = validate_task(config, task)
    assert errors[0] == "data has no text for $text"
    joined = "\n".join(errors)
    for expected in ("Invalid value for control 'upos'", "region w3: offsets 22-27 do not select 'شولمان'",
                     "labels ['subject'] not in the config", "'to_id' 'w99' not found",
                     "Score must be between 0.00 and 1.00"):
        assert expected in joined


def test_a_word_spelled_with_plus_is_not_cut_at_it():
    sentence = parse_conllu(
        "# sent_id = p1\n# text = تعلم C++ ولغات\n"
        "1\tتعلم\tتَعَلَّم\tVERB\t_\t_\t0\troot\t_\t_\n"
        "2\tC++\tC++\tPROPN\t_\t_\t1\tobj\t_\t_\n"
        "3-4\tولغات\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "3\tو\tوَ\tCCONJ\t_\t_\t4\tcc\t_\t_\n"
        "4\tلغات\tلُغَة\tNOUN\t_\t_\t2\tconj\t_\t_\n\n")[0]
    task, result = task_of(sentence, ALL)
    assert task["data"]["words"] == "ROOT · تعلم · C++ · و+لغات"
    got, problems = mapped(task, result)
    assert problems == [] and got == sentence
    # Merge و+لغات: the "+" between the words goes, the ones inside C++ stay.
    start, end = span(task, 3)[0], span(task, 4)[1]
    result = [r for r in drop(result, "w3", "w4") if r.get("type") != "relation" or r["to_id"] != "w3"]
    add_word(task, result, "m", start, end, "NOUN")
    relation(result, "w4")["to_id"] = "m"
    got, problems = mapped(task, result)
    assert problems == []
    assert [w.form for w in got.words] == ["تعلم", "C++", "ولغات"]
    assert [(w.head, w.deprel) for w in got.words] == [(0, "root"), (1, "obj"), (2, "conj")]


def test_layers_default_to_those_the_task_was_built_for(first):
    task, result = task_of(first, ("upos", "deps"))
    relation(result, "w3")["labels"] = ["obj"]
    got, problems = annotation_to_sentence(task["data"], result)
    assert problems == [] and got.words[2].deprel == "obj"
