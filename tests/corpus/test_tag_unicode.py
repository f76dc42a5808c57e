"""Issue 9: real text no one here wrote tags into CoNLL-U that `udvalidate --lang ar --level 2` accepts.

Vocalized Arabic with diacritics in the order real files store them (not NFC), news with tanween, short
adversarial lines (diacritics, tatweel, emoji, ZWNJ/RLM, HTML, the lam-alef ligature), and random mixes of all
of these, tagged with the real tiny model: every output passes the UD validator, and no letter of the input is
lost. What "no letter lost" means (`letters`, `visible`): after NFC (what the readers do), the input's letters,
diacritics and digits (Unicode categories L*, M*, N*), and indeed all its non-whitespace characters, appear in the
token FORMs in the same order, except those the normalizer options delete (tatweel, bidi marks, ZWNJ by
default). Those are kept in a FORM when they sit inside or beside a word (FORMs are the original surface), but
one between two spaces belongs to no token and is written as a space in `# text`, so neither side counts them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mudawwana.cli import app
from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.normalize import NormalizationOptions, normalize
from mudawwana.corpus.tag_job import tag_files
from mudawwana.corpus.ud_validator import InvalidConlluError, UDValidator

FATHA, DAMMA, KASRA, SUKUN, SHADDA = "\u064e", "\u064f", "\u0650", "\u0652", "\u0651"
FATHATAN, DAMMATAN, KASRATAN = "\u064b", "\u064c", "\u064d"
# Diacritics as vocalized files (PADT) store them: SHADDA (ccc 33) before the vowel (ccc 30-32) is not NFC, nor
# is FATHA before FATHATAN (ccc 27). Cycled over the letters of each sentence.
MARKS = (FATHA, SHADDA + KASRA, DAMMA, SUKUN, SHADDA + FATHA, KASRA, FATHA + FATHATAN, SHADDA + DAMMATAN, "",
         KASRATAN, SHADDA + DAMMA + "\u0670")
NEWS_TANWEEN = ("أصبح من المهمّ جدًّا أن نعرف أن هذا الأمر كان مهمًا للجميع، وقال المسؤولون إن القرارَ سيكون "
                "نافذًا غدًا.\n"
                "وذكرت مصادرُ مطّلعةٌ أن الاجتماعَ كان ناجحًا جدًا وأن الحوارَ سيستمرّ شهرًا آخرَ، مؤكدةً أن "
                "الوفدين اتفقا مبدئيًّا على جدولٍ زمنيٍّ.\n")
ADVERSARIAL = "\n".join([
    "العَرَبِيَّةُ لُغَةٌ جَمِيلَةٌ",
    "اللُّغَةُ" + SHADDA + KASRA + " العَرَبِيّةُ" + SHADDA + FATHA,
    "عـــربي جـــداً 😀 نعم 👍🏽",
    "كتب\u200cالولد\u200f الدرس \u200f .",
    "\u200f\u200e قال\u2067 الرجل\u2069 \u202bنعم\u202c",
    "<p>قال <b>الرئيس</b> إن الحكومة</p> &amp; <br/>",
    "\ufefb بد من العمل \ufef7 \ufef9 \ufef5",
    "مرحبا 😀😀 بكم 123 ٣٤٥ ۴۵ news, OK!",
    "ـ قال ـ الرجل ـ",
    "قال\u00a0الرجل\u2009نعم\u200b",
]) + "\n"


def udvalidate(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("udvalidate")  # .venv/bin/udvalidate, the real command
    return subprocess.run([str(exe), "--lang", "ar", "--level", "2", str(path)], capture_output=True, text=True)


def vocalize(text: str) -> str:
    out, n = [], 0
    for ch in text:
        out.append(ch)
        if "\u0621" <= ch <= "\u064a" and ch != "\u0640":
            out.append(MARKS[n % len(MARKS)])
            n += 1
    return "".join(out)


def _deleted(ch: str, options: NormalizationOptions) -> bool:
    return normalize(ch, options).text == ""


def letters(text: str, options: NormalizationOptions = NormalizationOptions()) -> list[str]:
    """Letters, diacritics and digits (categories L*, M*, N*) the normalizer options keep, in order."""
    return [c for c in text if unicodedata.category(c)[0] in "LMN" and not _deleted(c, options)]


def visible(text: str, options: NormalizationOptions = NormalizationOptions()) -> list[str]:
    """Every non-whitespace character the normalizer options keep, in order."""
    return [c for c in text if not c.isspace() and not _deleted(c, options)]


def token_forms(path: Path) -> str:
    return " ".join(tok.form for sentence in read_conllu(path) for tok in sentence.tokens)


def assert_nothing_lost(source: str, out: Path) -> None:
    source = unicodedata.normalize("NFC", source)
    forms = token_forms(out)
    assert letters(forms) == letters(source)
    assert visible(forms) == visible(source)


def cli_tag(tmp_path: Path, name: str, text: str, model_dir: Path) -> Path:
    src = tmp_path / f"{name}.txt"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / f"{name}.conllu"
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(out), "--model-dir", str(model_dir),
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def vocalized_text(sample_path) -> str:
    """The sample's 100 test sentences (901-1000, not trained on) with diacritics in the order PADT stores them."""
    sentences = list(read_conllu(sample_path))[900:1000]
    text = "".join(vocalize(s.text) + "\n" for s in sentences)
    assert sum(not unicodedata.is_normalized("NFC", line) for line in text.splitlines()) == 100
    return text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vocalized", "news-tanween", "adversarial"])
def test_tag_gives_conllu_that_udvalidate_accepts_and_loses_no_letter(name, vocalized_text, tiny_model_dir,
                                                                      tmp_path):
    text = {"vocalized": vocalized_text, "news-tanween": NEWS_TANWEEN, "adversarial": ADVERSARIAL}[name]
    out = cli_tag(tmp_path, name, text, tiny_model_dir)
    result = udvalidate(out)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert_nothing_lost(text, out)
    nfc_text = unicodedata.normalize("NFC", text)
    position = 0
    for sentence in read_conllu(out):
        # `# text` is the NFC surface: a slice of the NFC input, but for what the normalizer deleted and no token
        # holds, written as a space (same length)
        start = nfc_text.index(sentence.tokens[0].form, position)
        segment = nfc_text[start:start + len(sentence.text)]
        assert all(a == b or (b == " " and (a.isspace() or _deleted(a, NormalizationOptions())))
                   for a, b in zip(segment, sentence.text, strict=True))
        for tok in sentence.tokens:
            assert sentence.text[tok.start:tok.end] == tok.form  # offsets point into the NFC text
        position = start + len(sentence.text)
        for word in sentence.words:
            assert word.lemma == "_" or word.lemma == word.lemma.strip() and "  " not in word.lemma
    if name == "vocalized":  # the diacritics are kept, in NFC order
        surface = "\n".join(sentence.text for sentence in read_conllu(out))
        assert SHADDA + KASRA not in surface and KASRA + SHADDA in surface  # KASRA (ccc 32) before SHADDA (33)
        assert FATHA + FATHATAN not in surface and FATHATAN + FATHA in surface  # FATHATAN (ccc 27) first




# --- the property: any mix tags into valid CoNLL-U, in-process ----------------------------------------

_LETTER = st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةى"))
_MARK = st.sampled_from([FATHATAN, DAMMATAN, KASRATAN, FATHA, DAMMA, KASRA, SHADDA, SUKUN, "\u0670", "\u0653",
                         "\u0654", "\u0655"])
_TATWEEL = st.sampled_from(["", "", "", "\u0640", "\u0640\u0640\u0640"])
# A letter, its diacritics in any order, maybe tatweel after it.
_LETTER_UNIT = st.tuples(_LETTER, st.lists(_MARK, max_size=3), _TATWEEL).map(lambda t: t[0] + "".join(t[1]) + t[2])
_ARABIC_WORD = st.lists(_LETTER_UNIT, min_size=1, max_size=6).map("".join)
_OTHER = st.sampled_from(["news", "Abc", "x", "123", "2024", "٣٤٥", "۴", "😀", "👍🏽", "🇸🇦", "\u200f", "\u200e",
                          "\u200c", "\u200d", "\u2067", "\u2069", "\u202b", "\u202c", "<b>", "</p>", "&amp;",
                          "\ufefb", "\ufef7", "،", ".", "؟", "!", "«", "»", "(", ")", "-", "ـ", "%", "|", "_"])
_SEPARATOR = st.sampled_from([" ", " ", " ", "  ", "\t", "", " \u200f ", "\u00a0"])
_PARAGRAPH = st.lists(st.tuples(st.one_of(_ARABIC_WORD, _ARABIC_WORD, _OTHER), _SEPARATOR), min_size=1,
                      max_size=10).map(lambda parts: "قال " + "".join(p + s for p, s in parts))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraphs=st.lists(_PARAGRAPH, min_size=1, max_size=3))
def test_any_mix_tags_into_conllu_the_validator_accepts(tiny_pipeline, paragraphs):
    nlp, info = tiny_pipeline
    text = "\n".join(paragraphs) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "mix.txt", Path(tmp) / "mix.conllu"
        src.write_text(text, encoding="utf-8")
        try:
            report = tag_files([src], out, pipeline=nlp, model_info=info)
        except InvalidConlluError as e:  # the guard refused: the sanitizer missed something
            pytest.fail(str(e))
        assert report.written and report.sentences >= 1
        written = out.read_text(encoding="utf-8")
        validator = UDValidator(str(out))  # a fresh one over the file as written, as udvalidate reads it
        problems = [p for block in written.split("\n\n")[:-1] for p in validator.check_text(block + "\n\n")]
        assert problems == [], [str(p) for p in problems]
        assert_nothing_lost(text, out)


# --- refusals and exit status -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("content", [b"\xff\xfe\xfa\n\xc3\x28\n", b"only latin text\n123 456\n\n"],
                         ids=["undecodable", "no-arabic"])
def test_every_record_skipped_exits_1_after_the_summary(content, tiny_model_dir, tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(content)
    out = tmp_path / "out.conllu"
    out.write_text("previous output\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(out), "--model-dir", str(tiny_model_dir)])
    assert result.exit_code == 1, result.output
    assert "skipped" in result.output and "Tagged 0 documents: 0 sentences" in result.output
    assert "error: nothing was tagged: every input record was skipped" in result.output
    assert out.read_text(encoding="utf-8") == "previous output\n"  # not replaced by an empty file
    assert not (tmp_path / "out.conllu.partial").exists()


@pytest.mark.slow
def test_two_inputs_with_the_same_document_id_are_refused_naming_the_sentence_and_rule(tiny_pipeline, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "news.txt").write_text("قال الرئيس إن الحكومة ستعمل.\n", encoding="utf-8")
    nlp, info = tiny_pipeline
    out = tmp_path / "out.conllu"
    with pytest.raises(InvalidConlluError) as caught:
        tag_files([tmp_path / "a" / "news.txt", tmp_path / "b" / "news.txt"], out, pipeline=nlp, model_info=info)
    message = str(caught.value)
    assert message.startswith("sentence news-p1-s1 fails the UD validator (udvalidate --lang ar --level 2): "
                              "[L2 METADATA non-unique-sent-id]")
    assert "same document id 'news'" in message and f"{out} was not written" in message
    assert not out.exists()


def test_keep_writes_an_nfc_file_unchanged_and_puts_another_in_nfc(tmp_path, sample_path):
    blocks = sample_path.read_text(encoding="utf-8").split("\n\n")[:2]
    src = tmp_path / "in.conllu"
    src.write_text("\n\n".join(blocks).replace("في", "ف" + SHADDA + KASRA + "ي") + "\n\n", encoding="utf-8")
    assert udvalidate(src).returncode == 1  # [unicode-normalization]
    out = tmp_path / "kept.conllu"
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(out), "--keep"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == unicodedata.normalize("NFC", src.read_text(encoding="utf-8"))
    assert udvalidate(out).returncode == 0


def test_keep_refuses_an_input_the_validator_rejects(tmp_path, sample_path):
    blocks = sample_path.read_text(encoding="utf-8").split("\n\n")[:2]
    src = tmp_path / "in.conllu"
    bad = blocks[1].replace("\tNOUN\t", "\tNOUN\t", 1)
    lines = bad.split("\n")
    i = next(i for i, line in enumerate(lines) if line[:1].isdigit())
    cols = lines[i].split("\t")
    cols[5] = "Foo"
    lines[i] = "\t".join(cols)
    src.write_text(blocks[0] + "\n\n" + "\n".join(lines) + "\n\n", encoding="utf-8")
    sent_id = next(line for line in lines if line.startswith("# sent_id")).split("=")[1].strip()
    out = tmp_path / "kept.conllu"
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(out), "--keep"])
    assert result.exit_code == 1
    assert f"error: sentence {sent_id} fails the UD validator" in result.output
    assert "[L2 MORPHO invalid-feature]" in result.output and f"fix that sentence in {src}" in result.output
    assert not out.exists()
