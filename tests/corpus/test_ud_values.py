"""corpus.ud_values: each rule by example, checked against the real UD validator; then random values."""

from __future__ import annotations

import logging
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mudawwana.corpus import ud_values as uv
from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.corpus.ud_validator import validate_conllu_text, validate_sentence

FATHA, FATHATAN, SHADDA, KASRA = "\u064e", "\u064b", "\u0651", "\u0650"
SENTENCE = ("# sent_id = s1\n# text = كتب الولد\n"
            "1\tكتب\tكتب\tVERB\t_\t_\t0\troot\t_\t_\n"
            "2\tالولد\tولد\tNOUN\t_\t_\t1\tnsubj\t_\t_\n\n")


def with_word(**columns) -> str:
    """SENTENCE with word 1's columns replaced (lemma=..., feats=...)."""
    names = ["id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc"]
    lines = SENTENCE.split("\n")
    cols = lines[2].split("\t")
    for name, value in columns.items():
        cols[names.index(name)] = value
    lines[2] = "\t".join(cols)
    return "\n".join(lines)


def rules_broken(**columns) -> list[str]:
    return [p.testid for p in validate_conllu_text(with_word(**columns))]


# --- the facts the rules rest on -------------------------------------------------------------------

def test_what_the_validator_rejects_in_a_lemma():
    assert rules_broken(lemma="ك تب") == []  # one inner space is allowed
    assert rules_broken(lemma="كتب ") == ["trailing-whitespace"]
    assert rules_broken(lemma=" كتب") == ["leading-whitespace"]
    assert rules_broken(lemma="ك  تب") == ["repeated-whitespace"]
    assert rules_broken(lemma="") == ["empty-column"]
    assert rules_broken(lemma="مهم" + FATHA + FATHATAN) == ["unicode-normalization"]


def test_what_the_validator_rejects_elsewhere():
    assert rules_broken(feats="Foo") == ["invalid-feature"]
    assert rules_broken(feats="Gender=Masc|Case=Nom") == ["unsorted-features"]
    assert rules_broken(xpos="N N") == ["invalid-whitespace"]
    assert "empty-column" in rules_broken(xpos="")
    assert rules_broken(upos="_") == ["unknown-upos"]
    assert rules_broken(deprel="nsubj:ءا", head="2") != []
    assert rules_broken(misc="Norm=a b") == []  # spaces inside MISC values are allowed


# --- one rule at a time ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("كتب ", "كتب"), (" كتب", "كتب"), ("ك  تب", "ك تب"), ("ك\tتب\n", "ك تب"), ("ك\u00a0\u00a0تب", "ك تب"),
    ("", "_"), ("   ", "_"), ("\t\n", "_"), (None, "_"), ("_", "_"),
    ("مهم" + FATHA + FATHATAN, "مهم" + FATHATAN + FATHA),  # NFC puts FATHATAN (ccc 27) before FATHA (30)
    ("ب" + SHADDA + KASRA, "ب" + KASRA + SHADDA),
])
def test_lemma(raw, expected):
    assert uv.lemma(raw) == expected
    assert rules_broken(lemma=expected) == []


def test_word_form_inside_a_multiword_token():
    assert uv.word_form("") == "_" and uv.word_form(" ه ") == "ه"
    assert uv.word_form("ب" + SHADDA + KASRA) == "ب" + KASRA + SHADDA


@pytest.mark.parametrize("raw, expected, warns", [
    ("NOUN", "NOUN", False), (" VERB ", "VERB", False), ("Noun", "X", True), ("", "X", True), (None, "X", True),
    ("_", "X", True),
])
def test_upos(raw, expected, warns):
    value, problem = uv.upos(raw)
    assert value == expected and bool(problem) == warns
    assert rules_broken(upos=value) == []


@pytest.mark.parametrize("raw, expected, warns", [
    ("N------S1D", "N------S1D", False), (" N------ ", "N------", False), ("", "_", False), (None, "_", False),
    ("N S", "_", True), ("N\tS", "_", True),
])
def test_xpos(raw, expected, warns):
    value, problem = uv.xpos(raw)
    assert value == expected and bool(problem) == warns
    assert rules_broken(xpos=value) == []


@pytest.mark.parametrize("raw, expected, warns", [
    ("_", "_", False), ("", "_", False), (None, "_", False),
    ("Case=Nom|Gender=Masc", "Case=Nom|Gender=Masc", False),
    ("Gender=Masc|Case=Nom", "Case=Nom|Gender=Masc", False),  # sorted
    ("number=Sing", "_", True), ("Foo", "_", True), ("Case=nom", "_", True), ("Case=Nom|", "_", True),
    ("Case=Nom|Case=Gen", "_", True),  # a feature named twice
    ("PronType=Prs,Dem,Prs", "PronType=Dem,Prs", False),  # values sorted, repeats once
    ("Gender=Fem|Gender[psor]=Masc|Abbr=Yes", "Abbr=Yes|Gender=Fem|Gender[psor]=Masc", False),
    ("VerbForm=Fin|voice=Act", "_", True), ("Case=Nom Gender=Masc", "_", True),
])
def test_feats(raw, expected, warns):
    value, problem = uv.feats(raw)
    assert value == expected and bool(problem) == warns
    assert rules_broken(feats=value) == []


@pytest.mark.parametrize("raw, head, expected, warns", [
    ("nsubj", 1, "nsubj", False), ("nmod:poss", 1, "nmod:poss", False), ("obj", 0, "root", False),
    ("NSUBJ", 1, "dep", True), ("foo", 1, "dep", True), ("nsubj:ءا", 1, "dep", True), ("", 1, "dep", True),
    (None, 1, "dep", True), ("nsubj ", 1, "nsubj", False), ("_", None, "_", False),
])
def test_deprel(raw, head, expected, warns):
    value, problem = uv.deprel(raw, head)
    assert value == expected and bool(problem) == warns


def test_deprel_replacement_passes_the_validator():
    text = SENTENCE.replace("1\tnsubj", "1\t" + uv.deprel("NSUBJ", 1)[0])
    assert validate_conllu_text(text) == []


@pytest.mark.parametrize("raw, expected, warns", [
    ("_", "_", False), ("0:root", "0:root", False), ("3:obl|0:root", "0:root|3:obl", False),
    ("3:obl:ب|3:nmod", "3:nmod|3:obl:ب", False), ("3:obl|3:obl", "3:obl", False), ("8.1:nsubj", "8.1:nsubj", False),
    ("root", "_", True), ("0:ROOT", "_", True), ("x:obl", "_", True), ("2:nsubj", "_", True),  # self-loop
    ("9:obl", "_", True), ("0:root|", "_", True), ("3:foo", "_", True),
])
def test_deps(raw, expected, warns):
    value, problem = uv.deps(raw, "2", {"1", "2", "3", "8.1"})
    assert value == expected and bool(problem) == warns


@pytest.mark.parametrize("raw, expected, dropped", [
    ("_", "_", 0), ("SpaceAfter=No", "SpaceAfter=No", 0), ("Norm=ا  ب|SpaceAfter=No", "Norm=ا ب|SpaceAfter=No", 0),
    ("Norm=\tا\n", "Norm=ا", 0), ("Norm= |SpaceAfter=No", "SpaceAfter=No", 1), ("=x|SpaceAfter=No", "SpaceAfter=No", 1),
    ("Norm=ب" + SHADDA + KASRA, "Norm=ب" + KASRA + SHADDA, 0),
])
def test_misc(raw, expected, dropped):
    value, problems = uv.misc(raw)
    assert value == expected and len(problems) == dropped


def test_misc_value_and_comment_value():
    assert uv.misc_value(" ا  ب ") == "ا ب"
    assert uv.misc_value("a|b") is None and uv.misc_value("  ") is None and uv.misc_value("") is None
    assert uv.comment_value("قال\rالرئيس\n") == "قال الرئيس "  # one space per line break: offsets hold
    assert uv.comment_value("ب" + SHADDA + KASRA) == "ب" + KASRA + SHADDA


# --- a whole sentence ------------------------------------------------------------------------------

def test_make_valid_fixes_every_column_and_names_the_sentence_in_its_warnings(caplog):
    text = ("# sent_id = news-p1-s1\n# text = قالت وبانه\n# text_norm = قالت\rوبانه\n"
            f"1\tقالت\tقال  \tVERB\tV S\tVoice=Act|Aspect=Perf\t0\tobj\t_\tNorm=قالت  |Gloss=said\n"
            f"2-3\tوبانه\t_\t_\t_\t_\t_\t_\t_\t_\n"
            f"2\tو \tو\tcconj\t_\tFoo\t3\tCC\t_\t_\n"
            f"3\tب{SHADDA}{KASRA}انه\t \tNOUN\t_\tCase=Gen\t1\tnmod\t1:nmod|0:root|x\t_\n\n")
    assert validate_conllu_text(text) != []
    [sentence] = parse_conllu(text)
    with caplog.at_level(logging.WARNING, logger="mudawwana.corpus.ud_values"):
        problems = uv.make_valid(sentence)
    assert validate_sentence(sentence) == []
    w1, w2, w3 = sentence.words
    assert (w1.lemma, w1.xpos, w1.feats, w1.deprel, w1.misc) == ("قال", "_", "Aspect=Perf|Voice=Act", "root",
                                                                  "Norm=قالت|Gloss=said")
    assert (w2.form, w2.upos, w2.feats, w2.deprel) == ("و", "X", "_", "dep")
    assert (w3.form, w3.lemma, w3.deps) == (f"ب{KASRA}{SHADDA}انه", "_", "_")
    assert sentence.tokens[1].form == "وبانه"  # a token's own FORM is the slice of `# text`: never touched
    assert sentence.get_meta("text_norm") == "قالت وبانه"
    assert len(problems) == 5  # XPOS of word 1; UPOS, FEATS, DEPREL of word 2; DEPS of word 3
    assert all(r.getMessage().startswith("sentence news-p1-s1: word ") for r in caplog.records)
    assert any("FEATS 'Foo'" in r.getMessage() and "written as _" in r.getMessage() for r in caplog.records)


def test_only_the_tagged_columns_of_a_retagged_input():
    [sentence] = parse_conllu(with_word(lemma="كتب ", deps="1:nsubj", misc="Norm= "))
    uv.make_valid(sentence, uv.TAGGED_COLUMNS)
    word = sentence.words[0]
    assert word.lemma == "كتب" and word.deps == "1:nsubj" and word.misc == "Norm= "  # the input's own, kept


# --- random values: whatever a model emits, the sanitized sentence passes -----------------------------

_ARABIC_AND_MARKS = st.sampled_from(list("كتبالولدمهجة") + ["\u064b", "\u064c", "\u064d", FATHA, "\u064f", KASRA,
                                                                 SHADDA, "\u0652", "\u0670", "\u0640"])
_JUNK = st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "|", "=", ",", ":", "_", "[", "]", "a", "Z", "9",
                         "\u200f", "😀"])
_VALUE = st.lists(st.one_of(_ARABIC_AND_MARKS, _JUNK), max_size=12).map("".join)
_FEATURE = st.sampled_from(["Case=Nom", "Case=Gen", "Gender=Masc", "Number=Sing", "Number[psor]=Plur", "Abbr=Yes",
                            "PronType=Prs,Dem", "Mood=Ind", "foo", "Foo", "Voice=act", ""])


@settings(max_examples=150, deadline=None)
@given(lemma=_VALUE, form=_VALUE, upos=st.one_of(st.sampled_from(["NOUN", "VERB", "noun", ""]), _VALUE),
       xpos=_VALUE, feats=st.one_of(st.lists(_FEATURE, max_size=5).map("|".join), _VALUE),
       deprel=st.one_of(st.sampled_from(["nsubj", "nmod:poss", "obl:arg", "NSUBJ", "foo:bar", ""]), _VALUE),
       deps=st.one_of(st.sampled_from(["_", "0:root", "1:nsubj|0:root", "3:obl"]), _VALUE), misc=_VALUE)
def test_any_model_values_pass_the_validator_once_made_valid(lemma, form, upos, xpos, feats, deprel, deps, misc):
    from mudawwana.corpus.data_model import Sentence, Token, Word

    words = [Word(1, "كتب", "كتب", "VERB", head=0, deprel="root"),
             Word(2, "و", lemma, upos, xpos, feats, 1, deprel, deps, misc),
             Word(3, form, lemma, upos, xpos, feats, 1, deprel, "_", misc)]
    sentence = Sentence(tokens=[Token("كتب", words[:1]), Token("وبه", words[1:])],
                        comments=["sent_id = s1", "text = كتب وبه", "text_norm = كتب\r" + lemma])
    uv.make_valid(sentence)
    # The enhanced graph as a whole (connected, on every word) is no value's property: stanza writes no DEPS.
    graph = ("unconnected-egraph", "edeps-only-sometimes")
    problems = [p for p in validate_sentence(sentence) if p.testid not in graph]
    assert problems == [], (problems, sentence.words)
    for word in sentence.words:
        assert all(unicodedata.is_normalized("NFC", c) for c in word.columns())
