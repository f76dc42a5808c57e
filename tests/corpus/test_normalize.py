"""corpus.normalize: each step by example, then the offset-mapping properties with hypothesis."""

from __future__ import annotations

import itertools
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyarabic import araby

from mudawwana.corpus import normalize as norm_module
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.normalize import DIGIT_MODES, NormalizationOptions, NormalizedText, normalize

NOTHING = NormalizationOptions.from_string("nfc")  # every optional step off


def spans(n: NormalizedText) -> list[tuple[int, int]]:
    return [n.to_original_span(i, i + 1) for i in range(len(n.text))]


# --- steps, by example ---------------------------------------------------------------------------

def test_defaults_describe():
    assert NormalizationOptions().describe() == "nfc,tatweel,ligatures,format"


def test_tashkeel_stripped_when_asked_and_word_maps_back_whole():
    # shadda typed before fatha (common, and not NFC): NFC reorders the cluster.
    word = "\u0627\u0644\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0651\u064e\u0629"
    n = normalize(word, NormalizationOptions(strip_tashkeel=True))
    assert n.text == "العربية"
    assert n.to_original_span(0, len(n.text)) == (0, len(word))
    assert n.to_original_span(2, 3) == (2, 4)      # ع + its fatha
    assert n.to_original_span(5, 6) == (8, 11)     # ي + shadda + fatha


def test_tashkeel_kept_by_default_but_nfc_reorders():
    word = "\u064a\u0651\u064e"
    n = normalize(word)
    assert n.text == "\u064a\u064e\u0651"
    assert spans(n) == [(0, 3)] * 3  # the cluster NFC changed maps back as one group


def test_superscript_alef_is_tashkeel():
    assert normalize("هٰذا", NormalizationOptions(strip_tashkeel=True)).text == "هذا"


def test_tatweel():
    n = normalize("عـــربي")
    assert n.text == "عربي"
    assert spans(n)[0] == (0, 4)
    assert normalize("عـــربي", NOTHING).text == "عـــربي"


def test_tatweel_after_space_goes_to_the_following_letter():
    n = normalize("a ـب")
    assert n.text == "a ب"
    assert spans(n) == [(0, 1), (1, 2), (2, 4)]


@pytest.mark.parametrize("lig, expected", [
    ("\ufefb", "لا"), ("\ufefc", "لا"), ("\ufef7", "لأ"), ("\ufef9", "لإ"), ("\ufef5", "لآ"),
])
def test_ligatures(lig, expected):
    n = normalize(lig)
    assert n.text == expected
    assert spans(n) == [(0, 1), (0, 1)]
    assert normalize(lig, NOTHING).text == lig


def test_ligature_table_agrees_with_nfkc():
    for cp in range(0xFEF5, 0xFEFD):
        assert norm_module._LIGATURES[chr(cp)] == unicodedata.normalize("NFKC", chr(cp))


def test_digits():
    assert normalize("٣٤٥").text == "٣٤٥"
    assert normalize("٣٤٥ ۳", NormalizationOptions(digits="ascii")).text == "345 3"
    assert normalize("345 ۳", NormalizationOptions(digits="arabic")).text == "٣٤٥ ٣"
    assert spans(normalize("٣٤٥", NormalizationOptions(digits="ascii"))) == [(0, 1), (1, 2), (2, 3)]


def test_rlm_inside_word():
    n = normalize("كت\u200fاب")
    assert n.text == "كتاب"
    assert n.to_original_span(0, 4) == (0, 5)
    assert n.to_original_span(1, 2) == (1, 3)  # absorbed by the preceding letter
    assert normalize("كت\u200fاب", NOTHING).text == "كت\u200fاب"


@pytest.mark.parametrize("ch", "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                               "\u2066\u2067\u2068\u2069\u200c\u200d\ufeff")
def test_format_controls_stripped(ch):
    assert normalize(f"a{ch}b").text == "ab"


def test_isolated_deleted_char_stays_outside_tokens():
    n = normalize("a \u200f b")
    assert n.text == "a  b"
    assert n.to_original_span(0, 1) == (0, 1)
    assert n.to_original_span(3, 4) == (4, 5)
    assert n.to_original_span(1, 3) == (1, 4)  # whitespace around it covers it


def test_deleted_at_edges():
    n = normalize("\u200fab\u200e")
    assert n.text == "ab"
    assert n.to_original_span(0, 2) == (0, 4)
    assert n.to_original_offset(0) == 0 and n.to_original_offset(2) == 4


def test_everything_deleted():
    n = normalize("\u200f\u200e")
    assert n.text == ""
    assert n.to_original_offset(0) == 2
    assert n.to_original_span(0, 0) == (2, 2)
    assert normalize("").text == ""


def test_alef():
    opts = NormalizationOptions(unify_alef=True)
    assert normalize("أإآٱ", opts).text == "اااا"
    assert normalize("ؤئءى", opts).text == "ؤئءى"
    decomposed = "\u0627\u0654"  # alef + combining hamza: NFC makes أ, then it is folded
    assert normalize(decomposed).text == "أ"
    n = normalize(decomposed, opts)
    assert n.text == "ا" and spans(n) == [(0, 2)]


def test_nfc_merges_and_maps_exactly():
    n = normalize("xe\u0301y")
    assert n.text == "xéy" and spans(n) == [(0, 1), (1, 3), (3, 4)]
    hangul = normalize("\u1100\u1161\u11a8 a")  # conjoining jamo: starters composing with starters
    assert hangul.text == "각 a" and spans(hangul) == [(0, 3), (3, 4), (4, 5)]
    bengali = normalize("\u0995\u09c7\u09be")
    assert bengali.text == "\u0995\u09cb" and spans(bengali) == [(0, 1), (1, 3)]


def test_format_control_does_not_block_composition():
    # ZWJ and tatweel are deleted before NFC, so the hamza still composes with the alef.
    assert normalize("\u0627\u200d\u0654").text == "أ"
    assert normalize("\u0627\u0640\u0654").text == "أ"


def test_whitespace_kept_one_for_one():
    assert normalize("a\r\nb\tc  d").text == "a\r\nb\tc  d"
    assert normalize("a\xa0b").text == "a\xa0b"
    assert normalize("a\xa0b\u2009c", NormalizationOptions(unify_spaces=True)).text == "a b c"


def test_agrees_with_pyarabic():
    text = "العَرَبِيَّةُ عـــربي هٰذا"
    only = NormalizationOptions(strip_tatweel=False, split_ligatures=False, strip_format=False)
    tatweel = NormalizationOptions(strip_tatweel=True, split_ligatures=False, strip_format=False)
    tashkeel = NormalizationOptions(strip_tashkeel=True, strip_tatweel=False,
                                    split_ligatures=False, strip_format=False)
    nfc = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
    assert normalize(text, only).text == nfc(text)
    assert normalize(text, tatweel).text == nfc(araby.strip_tatweel(text))
    assert normalize(text, tashkeel).text == nfc(
        araby.strip_tashkeel(text).replace(araby.SMALL_ALEF, ""))


def test_first_composing_starter_bound():
    # _clusters only checks starters from this code point on for composition with what precedes.
    bound = ord(norm_module._FIRST_COMPOSING_STARTER)
    for cp in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(cp))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = decomposition.split()
        if len(parts) == 2:
            second = int(parts[1], 16)
            assert unicodedata.combining(chr(second)) or second >= bound, hex(cp)
    # Hangul syllables compose algorithmically (no decomposition entry); their V and T jamo:
    assert min(0x1161, 0x11A8) >= bound


# --- options -------------------------------------------------------------------------------------

def all_options():
    for flags in itertools.product([False, True], repeat=6):
        for digits in DIGIT_MODES:
            yield NormalizationOptions(*flags[:4], digits, *flags[4:])


def test_describe_from_string_round_trip():
    seen = set()
    for opts in all_options():
        spec = opts.describe()
        assert NormalizationOptions.from_string(spec) == opts
        seen.add(spec)
    assert len(seen) == 2 ** 6 * 3


def test_from_string_lenient_spelling():
    opts = NormalizationOptions.from_string(" Tatweel , digits=ascii,,")
    assert opts == NormalizationOptions(strip_tatweel=True, split_ligatures=False,
                                        strip_format=False, digits="ascii")
    assert NormalizationOptions.from_string("") == NOTHING


@pytest.mark.parametrize("spec, named", [
    ("nfc,tashkil", "tashkil"), ("digits=roman", "roman"), ("digits", "digits"),
    ("tatweel=yes", "tatweel=yes"),
])
def test_from_string_rejects_bad_steps(spec, named):
    with pytest.raises(ValueError, match=named) as info:
        NormalizationOptions.from_string(spec)
    assert isinstance(info.value, InputError)  # the CLI prints it as a one-line user error


def test_bad_digits_option():
    with pytest.raises(ValueError, match="digits"):
        NormalizationOptions(digits="hindi")


def test_normalized_text_identity_and_bounds():
    n = NormalizedText("a b", "a b")
    assert n.to_original_span(0, 3) == (0, 3)
    with pytest.raises(ValueError):
        NormalizedText("a", "b")
    with pytest.raises(ValueError):
        n.to_original_span(2, 1)
    with pytest.raises(ValueError):
        n.to_original_span(0, 4)
    with pytest.raises(ValueError):
        n.to_original_offset(-1)


# --- properties ----------------------------------------------------------------------------------

PIECES = (
    list("ابتلمنيوهةىأإآٱؤئءع")                                   # Arabic letters
    + list("\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670")  # tashkeel, superscript alef
    + ["\u0653", "\u0654", "\u0655"]                              # combining madda/hamza (NFC)
    + ["\u0640"]                                                  # tatweel
    + list("abzE") + ["e\u0301", "\u0301"]                        # Latin, a decomposed é
    + list("059٠٥٩۵")                                             # digits, three kinds
    + [chr(cp) for cp in range(0xFEF5, 0xFEFD)]                   # lam-alef presentation forms
    + ["\U0001F600", "\U0001F44D\U0001F3FD"]                      # emoji (astral)
    + list("\u200c\u200d\u200e\u200f\u061c\u202b\u202c\u2067\u2069\ufeff")  # format controls
    + [" ", " ", " ", "\t", "\r\n", "\n", "\xa0"]                 # whitespace, CRLF
    + ["\u1100", "\u1161", "\u11a8", "\u09c7\u09be"]              # starters that compose
)
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
options = st.builds(
    NormalizationOptions,
    strip_tatweel=st.booleans(), strip_tashkeel=st.booleans(), unify_alef=st.booleans(),
    split_ligatures=st.booleans(), digits=st.sampled_from(DIGIT_MODES),
    strip_format=st.booleans(), unify_spaces=st.booleans(),
)
PROPERTY = settings(max_examples=250, deadline=None)


def groups(n: NormalizedText) -> list[tuple[int, int]]:
    """Runs [a, b) of normalized characters sharing one original span (ligature, NFC cluster)."""
    out: list[tuple[int, int]] = []
    sp = spans(n)
    for i in range(len(sp)):
        if i and sp[i] == sp[i - 1]:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def tokens(text: str) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ch in enumerate(text + " "):
        if not ch.isspace() and start is None:
            start = i
        elif ch.isspace() and start is not None:
            out.append((start, i))
            start = None
    return out


@PROPERTY
@given(texts, options)
def test_spans_tile_the_original(text, opts):
    n = normalize(text, opts)
    sp = spans(n)
    if not sp:
        assert all(normalize(ch, opts).text == "" for ch in text)
        return
    assert sp[0][0] == 0 and sp[-1][1] == len(text)
    for (s1, e1), (s2, e2) in zip(sp, sp[1:]):
        assert 0 <= s1 < e1 <= len(text)
        assert (s1, e1) == (s2, e2) or e1 == s2


@PROPERTY
@given(texts, options)
def test_spans_are_monotone_and_in_bounds(text, opts):
    n = normalize(text, opts)
    size = len(n.text)
    table = {(a, b): n.to_original_span(a, b) for a in range(size + 1) for b in range(a, size + 1)}
    for (a, b), (s, e) in table.items():
        assert 0 <= s <= e <= len(text)
        if b < size:
            next_s, next_e = table[a, b + 1]
            assert e <= next_e and s == next_s
        if a + 1 < b:
            next_s, next_e = table[a + 1, b]
            assert s <= next_s and e == next_e
    offsets = [n.to_original_offset(p) for p in range(size + 1)]
    assert offsets == sorted(offsets) and offsets[-1] == len(text)


@PROPERTY
@given(texts, options)
def test_mapped_back_slices_normalize_to_the_same_text(text, opts):
    n = normalize(text, opts)
    starts = {a for a, _ in groups(n)}
    ends = {b for _, b in groups(n)}
    for a in starts:
        for b in ends:
            if a < b and not n.text[a].isspace() and not n.text[b - 1].isspace():
                s, e = n.to_original_span(a, b)
                assert normalize(text[s:e], opts).text == n.text[a:b], (a, b, text[s:e])


@PROPERTY
@given(texts, options)
def test_tokens_map_to_non_whitespace_spans_with_whitespace_between(text, opts):
    n = normalize(text, opts)
    edges = [0]
    for a, b in tokens(n.text):
        s, e = n.to_original_span(a, b)
        assert not text[s].isspace() and not text[e - 1].isspace()
        edges += [s, e]
    edges.append(len(text))
    # What lies between tokens is whitespace, except deleted characters that had whitespace on both
    # sides; between two tokens that gap starts and ends with whitespace.
    for i in range(0, len(edges), 2):
        gap = text[edges[i]:edges[i + 1]]
        for run in "".join(" " if ch.isspace() else ch for ch in gap).split():
            assert normalize(run, opts).text == "", repr(gap)
        if gap and i > 0:
            assert gap[0].isspace(), repr(gap)
        if gap and i < len(edges) - 2:
            assert gap[-1].isspace(), repr(gap)


@PROPERTY
@given(texts, options.filter(lambda o: not o.unify_alef))
def test_output_is_nfc_and_idempotent(text, opts):
    # (alef folding can leave ا + a combining hamza that NFC would compose, so it is left out here)
    out = normalize(text, opts).text
    assert unicodedata.is_normalized("NFC", out)
    assert normalize(out, opts).text == out


@PROPERTY
@given(texts, options)
def test_whitespace_is_never_changed_in_number_or_place(text, opts):
    n = normalize(text, opts)
    # Every whitespace character survives, in order, as one character whose span holds exactly that
    # whitespace character (plus, possibly, isolated deleted characters next to it).
    sources = []
    for i, ch in enumerate(n.text):
        if ch.isspace():
            s, e = n.to_original_span(i, i + 1)
            inside = [p for p in range(s, e) if text[p].isspace()]
            assert len(inside) == 1
            sources.append(inside[0])
            assert ch == text[inside[0]] or (opts.unify_spaces and ch == " ")
    assert sources == [i for i, ch in enumerate(text) if ch.isspace()]
