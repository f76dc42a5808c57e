"""The tag job end to end with a real (tiny) stanza model trained from the sample."""

import subprocess
import sys
from pathlib import Path

import pytest
import stanza
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mudawwana.corpus.conllu_io import read_conllu
from mudawwana.corpus.data_model import META_MODEL_VERSION
from mudawwana.corpus.normalize import NormalizationOptions, normalize
from mudawwana.corpus.tag_job import tag_files
from mudawwana.corpus.from_stanza import paragraph_sentences

REPO = Path(__file__).resolve().parents[2]
NEWS = ("قال الرئيسُ إنّ الحكومـــة ستعمل على تحسين الاقتصاد. وأضاف أن الخطة ستبدأ العام المقبل.\n\n"
        "وذكرت الوكالة أن الاجتماع عُقد في القاهرة يوم الأحد 😀 بحضور الوزراء.\r\n")

pytestmark = pytest.mark.slow


def udvalidate(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("udvalidate")
    return subprocess.run([str(exe), "--lang", "ar", "--level", "2", str(path)], capture_output=True, text=True)


@pytest.fixture
def news_file(tmp_path):
    path = tmp_path / "news.txt"
    path.write_bytes(NEWS.encode("utf-8"))
    return path


def tag(tiny_pipeline, inputs, out, **kwargs):
    nlp, info = tiny_pipeline
    return tag_files(inputs, out, pipeline=nlp, model_info=info, **kwargs)


def test_raw_news_text_gives_ud_valid_conllu_with_offsets_into_the_original(tiny_pipeline, news_file, tmp_path):
    out = tmp_path / "corpus.conllu"
    report = tag(tiny_pipeline, [news_file], out)
    assert report.documents == 1 and report.sentences >= 2 and not report.skipped
    result = udvalidate(out)
    assert result.returncode == 0, result.stdout + result.stderr

    sentences = list(read_conllu(out))
    original = NEWS.replace("\r\n", "\n")
    # two sentences in the first paragraph: the model learnt sentence ends (PUD's newdoc on every sentence
    # would hide them from stanza's tokenizer trainer; corpus/train.py folds them)
    assert [s.sent_id for s in sentences][:2] == ["news-p1-s1", "news-p1-s2"]
    for sentence in sentences:
        assert sentence.text in original  # `# text` is the original surface, diacritics and tatweel kept
        assert sentence.get_meta(META_MODEL_VERSION) == tiny_pipeline[1].model_version
        for tok in sentence.tokens:
            assert sentence.text[tok.start:tok.end] == tok.form
        assert [w.deprel for w in sentence.words if w.head == 0] == ["root"]
    words = {w.form: w for s in sentences for w in s.words}
    assert "الحكومـــة" in words and "Norm=الحكومة" in words["الحكومـــة"].misc
    assert "الرئيسُ" in words


def test_rerun_is_deterministic(tiny_pipeline, news_file, tmp_path):
    tag(tiny_pipeline, [news_file], tmp_path / "a.conllu")
    tag(tiny_pipeline, [news_file], tmp_path / "b.conllu")
    assert (tmp_path / "a.conllu").read_bytes() == (tmp_path / "b.conllu").read_bytes()


def test_interrupted_run_resumes_and_never_replaces_the_good_file(tiny_pipeline, tmp_path):
    inputs = []
    for i in range(6):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(NEWS.replace("الرئيسُ", f"الرئيس {i}"), encoding="utf-8")
        inputs.append(path)
    expected = tmp_path / "expected.conllu"
    tag(tiny_pipeline, inputs, expected, batch_chars=1)

    out = tmp_path / "out.conllu"
    out.write_text("previous good output\n", encoding="utf-8")
    calls = []

    def interrupt_after_three(done, total):
        calls.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag(tiny_pipeline, inputs, out, batch_chars=1, progress=interrupt_after_three)
    assert out.read_text(encoding="utf-8") == "previous good output\n"
    assert (tmp_path / "out.conllu.partial").exists()

    resumed = []
    report = tag(tiny_pipeline, inputs, out, batch_chars=1, progress=lambda d, t: resumed.append(d))
    assert report.resumed_documents == 3
    assert out.read_bytes() == expected.read_bytes()
    assert not (tmp_path / "out.conllu.partial").exists()


def test_bad_inputs_are_skipped_with_a_summary_and_the_rest_is_tagged(tiny_pipeline, news_file, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\n" + ("ب" * 100_000).encode() + b"\nEnglish only\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    report = tag(tiny_pipeline, [bad, empty, news_file], tmp_path / "out.conllu")
    assert report.sentences >= 2
    assert sorted((Path(s.source).name, s.line or 0) for s in report.skipped) == [
        ("bad.txt", 0), ("bad.txt", 1), ("bad.txt", 2), ("bad.txt", 3), ("empty.txt", 0)]


def test_conllu_input_is_retagged_without_retokenizing(tiny_pipeline, tiny_model_dir, sample_path, tmp_path):
    src = tmp_path / "in.conllu"
    blocks = sample_path.read_text(encoding="utf-8").split("\n\n")[:3]
    src.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.conllu"
    tag_files([src], out, model_dir=tiny_model_dir, device="cpu")
    before, after = list(read_conllu(src)), list(read_conllu(out))
    assert [[w.form for w in s.words] for s in before] == [[w.form for w in s.words] for s in after]
    assert [s.text for s in before] == [s.text for s in after]
    assert all(s.get_meta(META_MODEL_VERSION) for s in after)
    kept = tmp_path / "kept.conllu"
    tag_files([src], kept, keep=True)
    assert kept.read_bytes() == src.read_bytes()


def test_words_of_a_multiword_token_get_offsets_only_when_they_spell_the_token():
    """Stanza's own Document with multi-word tokens (what the official Arabic models produce)."""
    original = "وبانه قالـها"
    norm = normalize(original, NormalizationOptions())
    assert norm.text == "وبانه قالها"
    doc = stanza.Document([[
        {"id": (1, 4), "text": "وبانه", "start_char": 0, "end_char": 5},
        {"id": 1, "text": "و", "upos": "CCONJ", "head": 5, "deprel": "cc"},
        {"id": 2, "text": "ب", "upos": "ADP", "head": 3, "deprel": "case"},
        {"id": 3, "text": "أن", "upos": "SCONJ", "head": 5, "deprel": "mark"},
        {"id": 4, "text": "ه", "upos": "PRON", "head": 3, "deprel": "nsubj"},
        {"id": (5, 6), "text": "قالها", "start_char": 6, "end_char": 11},
        {"id": 5, "text": "قال", "upos": "VERB", "head": 0, "deprel": "root"},
        {"id": 6, "text": "ها", "upos": "PRON", "head": 5, "deprel": "obj"},
    ]], text=norm.text)
    [sentence] = paragraph_sentences("d", 1, norm, doc, "m@1")
    first, second = sentence.tokens
    assert first.is_multiword and (first.start, first.end) == (0, 5)
    assert all((w.start, w.end) == (0, 5) for w in first.words)  # ب+أن+ه does not spell بانه
    assert second.form == "قالـها" and (second.start, second.end) == (6, 12)  # tatweel kept in the surface
    assert sentence.get_meta("text") == original and sentence.get_meta("text_norm") == norm.text


def test_offline_without_model_is_one_clear_line(tmp_path, news_file):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STANZA_RESOURCES_DIR": str(tmp_path / "none"),
           "HF_HUB_OFFLINE": "1", "NO_PROXY": "*", "HTTPS_PROXY": "http://127.0.0.1:9"}
    exe = Path(sys.executable).with_name("mudawwana")
    result = subprocess.run([str(exe), "tag", str(news_file), "-o", str(tmp_path / "o.conllu")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "mudawwana train" in result.stderr
    assert not (tmp_path / "o.conllu").exists()


# Offsets hold end to end (normalizer + stanza + conversion) on text mixing what real Arabic input carries.
_PIECES = st.sampled_from(["كتب", "الرئيس", "وبانه", "مدرسة", "قال", "العَرَبِيَّة", "عـــربي", "\ufefb", "٣٤٥",
                           "123", "news", "😀", "\u200c", "\u200f", "\u200e", "\u2067", "\u2069", "،", ".", "!"])
_SEPARATORS = st.sampled_from([" ", "  ", "\t", " \u200f ", ""])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.tuples(_PIECES, _SEPARATORS), min_size=1, max_size=12))
@example(pieces=[("\ufefb", " ")])  # found by hypothesis: stanza split the ligature's two letters into two tokens
def test_offsets_point_into_the_original_for_any_mix(tiny_pipeline, pieces):
    from mudawwana.corpus.conllu_io import format_sentence, parse_conllu

    original = "قال " + "".join(p + s for p, s in pieces)
    norm = normalize(original, NormalizationOptions())
    doc = tiny_pipeline[0](norm.text)
    sentences = paragraph_sentences("d", 1, norm, doc, "m@1")
    position = 0
    for sentence in sentences:
        # where the sentence lies in the original paragraph: `# text` is that slice, except that an invisible
        # mark the normalizer removed and that belongs to no token is written as a space (same length)
        start = original.index(sentence.tokens[0].form, position)
        segment = original[start:start + len(sentence.text)]
        assert len(segment) == len(sentence.text)
        assert all(a == b or (b == " " and a in "\u200c\u200f\u200e\u2067\u2069") for a, b in zip(segment, sentence.text))
        for tok in sentence.tokens:
            assert sentence.text[tok.start:tok.end] == tok.form == original[start + tok.start:start + tok.end]
            assert not tok.form[:1].isspace() and not tok.form[-1:].isspace()
        again = parse_conllu(format_sentence(sentence))[0]
        assert [(t.start, t.end) for t in again.tokens] == [(t.start, t.end) for t in sentence.tokens]
        position = start + len(sentence.text)
