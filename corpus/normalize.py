"""Normalize Arabic text for the tagger while keeping exact offsets into the original.

The corpus always stores the ORIGINAL text; the tagger sees `normalize(original).text`, and every
token it finds is mapped back with `NormalizedText.to_original_span`. So each step may delete, map
or split characters, but we remember for every normalized character the original span it came from.

Steps (character tables from pyarabic.araby). The deleting and mapping steps run first, then NFC,
then alef folding:

  nfc        always   Unicode NFC, done per cluster (a starter and its combining marks) so that
                      the mapping stays exact; after the deleting/splitting steps, so their output
                      is NFC too (e.g. alef + tatweel + hamza-above becomes one أ). Text read by
                      corpus/readers.py is already NFC (the original itself is put in NFC, see
                      docs/unicode.md); this step still matters after the other steps, and for
                      text handed to `normalize` directly.
  tatweel    on       delete the kashida ـ (pure typography, unknown to the tagger's training data).
  tashkeel   OFF      delete harakat, tanwin, shadda, sukun and superscript alef. PADT (what the
                      stanza Arabic models learned from) is undiacritized, so diacritized input tags
                      better with this on; it is opt-in because the forms stanza gives the words of
                      a clitic token then lose their diacritics, which some corpora must keep.
  alef       OFF      أ إ آ ٱ -> ا (the usual Arabic-NLP alef folding; runs after NFC so decomposed
                      alef + hamza is folded too). Off: annotators should see the hamza.
                      Not araby.normalize_alef: it also folds ى and superscript alef into ا.
  ligatures  on       lam-alef presentation forms (U+FEF5..U+FEFC, e.g. ﻻ) -> ل + ا/أ/إ/آ. Old
                      PDF/legacy text has them and stanza has never seen them. Not
                      araby.normalize_ligature: it maps ﻷ to لا, dropping the hamza.
  digits     leave    'ascii': ٠-٩ and Persian ۰-۹ -> 0-9; 'arabic': 0-9 and ۰-۹ -> ٠-٩.
  format     on       delete invisible format controls (bidi marks and embeddings/isolates, ZWNJ,
                      ZWJ, BOM, word joiner, soft hyphen): stanza would glue them into tokens.
                      U+200B ZERO WIDTH SPACE is kept: it separates words, deleting it joins them.
  spaces     OFF      map odd spaces (NBSP and other Unicode space separators) to ' ', one for one.
                      Off: stanza already treats every \\s as a space.

Whitespace, CR and LF are never deleted or merged, so lines and token boundaries stay put.

Mapping back: a normalized character maps to the original characters it came from (a split ligature
gives two characters the same span; an NFC cluster that changed maps as a whole). Deleted characters
are absorbed by the neighbouring kept non-whitespace character: the preceding one when nothing but
other deleted characters lies between, else the following one, so a token mapped back includes its
diacritics and tatweel and the text between two tokens is whitespace. A deleted character with
whitespace on both sides (e.g. an RLM between two spaces) is absorbed by the preceding whitespace
character instead (the following one at the very start of the text): it stays outside every token.
The spans of consecutive normalized characters therefore tile the original exactly (every original
character belongs to exactly one span) unless everything was deleted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from pyarabic import araby

from .errors import InputError

DIGIT_MODES = ("leave", "ascii", "arabic")


class NormalizationSpecError(InputError, ValueError):
    """A --normalize spec naming an unknown step (a ValueError too, for library callers)."""


# --- character tables -------------------------------------------------------------------------

_TASHKEEL = tuple(araby.TASHKEEL) + (araby.SMALL_ALEF,)
_ALEF_VARIANTS = (araby.ALEF_HAMZA_ABOVE, araby.ALEF_HAMZA_BELOW, araby.ALEF_MADDA,
                  araby.ALEF_WASLA)
# pyarabic lists the isolated forms; each final form is the next code point (U+FEF6, ...).
_LIGATURES = {
    araby.LAM_ALEF: araby.SIMPLE_LAM_ALEF,
    araby.LAM_ALEF_HAMZA_ABOVE: araby.SIMPLE_LAM_ALEF_HAMZA_ABOVE,
    araby.LAM_ALEF_HAMZA_BELOW: araby.SIMPLE_LAM_ALEF_HAMZA_BELOW,
    araby.LAM_ALEF_MADDA_ABOVE: araby.SIMPLE_LAM_ALEF_MADDA_ABOVE,
}
_LIGATURES.update({chr(ord(k) + 1): v for k, v in list(_LIGATURES.items())})
_FORMAT_CONTROLS = (
    "\u200e\u200f\u061c"          # LRM, RLM, ALM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"    # LRI, RLI, FSI, PDI
    "\u200c\u200d"                # ZWNJ, ZWJ
    + araby.BYTE_ORDER_MARK       # BOM / ZWNBSP
    + "\u2060\u00ad"              # word joiner, soft hyphen
)
# Unicode space separators other than the plain space (NBSP, thin space, ideographic space, ...).
_ODD_SPACES = tuple(chr(cp) for cp in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F,
                                        0x3000))
# No starter below this code point composes with a preceding character under NFC (checked by a test
# over all of Unicode), so only clusters starting at or above it need the cross-cluster check.
_FIRST_COMPOSING_STARTER = "\u09be"


def _digit_table(mode: str) -> dict[str, str]:
    west, east, pers = araby.NUMBERS_WEST, araby.NUMBERS_EAST, araby.NUMBERS_PERS
    if mode == "ascii":
        return {**dict(zip(east, west)), **dict(zip(pers, west))}
    if mode == "arabic":
        return {**dict(zip(west, east)), **dict(zip(pers, east))}
    return {}


# --- options ----------------------------------------------------------------------------------

# (step name in specs, field name); `describe` lists them in this order.
_STEPS = (
    ("tatweel", "strip_tatweel"),
    ("tashkeel", "strip_tashkeel"),
    ("alef", "unify_alef"),
    ("ligatures", "split_ligatures"),
    ("digits", "digits"),
    ("format", "strip_format"),
    ("spaces", "unify_spaces"),
)


@dataclass(frozen=True)
class NormalizationOptions:
    """Which steps run (see the module docstring for what each does and why it has its default)."""

    strip_tatweel: bool = True
    strip_tashkeel: bool = False
    unify_alef: bool = False
    split_ligatures: bool = True
    digits: str = "leave"  # one of DIGIT_MODES
    strip_format: bool = True
    unify_spaces: bool = False

    def __post_init__(self) -> None:
        if self.digits not in DIGIT_MODES:
            raise NormalizationSpecError(
                f"digits must be one of {', '.join(DIGIT_MODES)}, not {self.digits!r}")

    def describe(self) -> str:
        """Stable comma-separated list of the steps that run: "nfc,tatweel,ligatures,format"."""
        parts = ["nfc"]
        for name, attr in _STEPS:
            value = getattr(self, attr)
            if attr == "digits":
                if value != "leave":
                    parts.append(f"digits={value}")
            elif value:
                parts.append(name)
        return ",".join(parts)

    @classmethod
    def from_string(cls, spec: str) -> "NormalizationOptions":
        """Inverse of `describe`: the listed steps run, all others do not ("nfc" may be omitted)."""
        fields: dict[str, object] = {attr: False for name, attr in _STEPS if attr != "digits"}
        by_name = dict(_STEPS)
        for item in (part.strip().lower() for part in spec.split(",")):
            if not item or item == "nfc":
                continue
            name, sep, value = item.partition("=")
            name = name.strip()
            if name == "digits":
                if not sep:
                    raise NormalizationSpecError(
                        f"normalization step 'digits' needs a value in {spec!r}: "
                        f"digits={'|'.join(DIGIT_MODES)}")
                fields["digits"] = value.strip()
            elif name in by_name and not sep:
                fields[by_name[name]] = True
            else:
                known = ", ".join(["nfc"] + [n if n != "digits" else "digits=ascii|arabic|leave"
                                             for n, _ in _STEPS])
                raise NormalizationSpecError(
                    f"unknown normalization step {item!r} in {spec!r}; known steps: {known}")
        return cls(**fields)  # type: ignore[arg-type]

    def _pre_nfc_table(self) -> dict[str, str]:
        table: dict[str, str] = {}
        if self.strip_tatweel:
            table[araby.TATWEEL] = ""
        if self.strip_tashkeel:
            table.update(dict.fromkeys(_TASHKEEL, ""))
        if self.split_ligatures:
            table.update(_LIGATURES)
        table.update(_digit_table(self.digits))
        if self.strip_format:
            table.update(dict.fromkeys(_FORMAT_CONTROLS, ""))
        if self.unify_spaces:
            table.update({c: " " for c in _ODD_SPACES})
        return table



# --- the result -------------------------------------------------------------------------------

@dataclass
class NormalizedText:
    """`text` (what the tagger sees) and, per character of it, the original span it came from.

    Built without spans (NormalizedText(s, s)) it is the identity mapping.
    """

    original: str
    text: str
    _starts: list[int] | None = field(default=None, repr=False)
    _ends: list[int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._starts is None or self._ends is None:
            if self.text != self.original:
                raise ValueError("NormalizedText without spans must have text == original")
            self._starts = list(range(len(self.text)))
            self._ends = list(range(1, len(self.text) + 1))
        if not len(self._starts) == len(self._ends) == len(self.text):
            raise ValueError("NormalizedText needs one original span per normalized character")

    def to_original_offset(self, pos: int) -> int:
        """Normalized position -> original position, read as the START of the character at `pos`
        (inside a split ligature or a merged NFC cluster: the start of the whole group)."""
        if not 0 <= pos <= len(self.text):
            raise ValueError(f"offset {pos} outside the normalized text (length {len(self.text)})")
        return len(self.original) if pos == len(self.text) else self._starts[pos]

    def to_original_span(self, start: int, end: int) -> tuple[int, int]:
        """Normalized [start, end) -> original [s, e), covering everything those characters came
        from, including deleted characters they absorbed. An empty span stays empty."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside the normalized text "
                             f"(length {len(self.text)})")
        if start == end:
            pos = self.to_original_offset(start)
            return pos, pos
        return self._starts[start], self._ends[end - 1]


# --- normalize --------------------------------------------------------------------------------

# A unit: original span [start, end) and what it became. Units start one per original character;
# NFC merges the units of a cluster it changed into one.
_Unit = tuple[int, int, str]


def normalize(text: str, options: NormalizationOptions | None = None) -> NormalizedText:
    options = options or NormalizationOptions()
    table = options._pre_nfc_table()
    units: list[_Unit] = []
    for i, ch in enumerate(text):
        out = table.get(ch, ch)
        if out:
            units.append((i, i + 1, out))
    units = _nfc(units)
    if options.unify_alef:
        fold = str.maketrans(dict.fromkeys(_ALEF_VARIANTS, araby.ALEF))
        units = [(s, e, out.translate(fold)) for s, e, out in units]
    return _build(text, _absorb_deleted(units, len(text)))


def _nfc(units: list[_Unit]) -> list[_Unit]:
    if unicodedata.is_normalized("NFC", _text(units)):
        return units
    result: list[_Unit] = []
    for word in _split_at_whitespace(units):
        before = _text(word)
        if unicodedata.is_normalized("NFC", before):
            result.extend(word)
            continue
        clusters = _clusters(word)
        if "".join(unicodedata.normalize("NFC", _text(c)) for c in clusters) != \
                unicodedata.normalize("NFC", before):
            # Never seen (the cluster rules follow the Unicode composition algorithm); if it
            # happened, one coarse span for the word beats a wrong mapping.
            clusters = [word]
        for cluster in clusters:
            before = _text(cluster)
            after = unicodedata.normalize("NFC", before)
            if after == before:
                result.extend(cluster)  # keep per-character spans where nothing changed
            else:
                result.append((cluster[0][0], cluster[-1][1], after))
    return result


def _split_at_whitespace(units: list[_Unit]) -> list[list[_Unit]]:
    """Runs of non-whitespace units, and each whitespace unit alone. NFC never acts across
    whitespace (no whitespace character composes or reorders with a neighbour), so each run can be
    normalized on its own, and no NFC-merged span ever mixes whitespace and other characters."""
    runs: list[list[_Unit]] = [[]]
    for unit in units:
        if unit[2].isspace():
            runs += [[unit], []]
        else:
            runs[-1].append(unit)
    return [run for run in runs if run]


def _clusters(units: list[_Unit]) -> list[list[_Unit]]:
    """Group a run of non-whitespace units into NFC-independent clusters: a starter with its
    combining marks; starters that can compose with what precedes (Hangul jamo, some Indic vowel
    signs) join the previous cluster when they do."""
    clusters: list[list[_Unit]] = []
    for unit in units:
        first = unit[2][0]
        if clusters and (unicodedata.combining(first) or (
                first >= _FIRST_COMPOSING_STARTER and _composes(_text(clusters[-1]), unit[2]))):
            clusters[-1].append(unit)
        else:
            clusters.append([unit])
    return clusters


def _composes(before: str, after: str) -> bool:
    nfc = unicodedata.normalize
    return nfc("NFC", before + after) != nfc("NFC", before) + nfc("NFC", after)


def _text(units: list[_Unit]) -> str:
    return "".join(out for _, _, out in units)


def _absorb_deleted(units: list[_Unit], length: int) -> list[_Unit]:
    """Extend unit spans over the gaps that deleted characters left, so spans tile [0, length)."""
    if not units:
        return units
    spans = [[s, e] for s, e, _ in units]
    spans[0][0] = 0
    spans[-1][1] = length
    for i in range(len(units) - 1):
        gap_start, gap_end = spans[i][1], spans[i + 1][0]
        if gap_start == gap_end:
            continue
        prev_ws = units[i][2][-1].isspace()
        next_ws = units[i + 1][2][0].isspace()
        if not prev_ws or next_ws:
            spans[i][1] = gap_end        # preceding non-whitespace, or isolated between spaces
        else:
            spans[i + 1][0] = gap_start  # only the following character is non-whitespace
    return [(s, e, out) for (s, e), (_, _, out) in zip(spans, units)]


def _build(original: str, units: list[_Unit]) -> NormalizedText:
    starts: list[int] = []
    ends: list[int] = []
    for s, e, out in units:
        starts.extend([s] * len(out))
        ends.extend([e] * len(out))
    return NormalizedText(original, "".join(out for _, _, out in units), starts, ends)


# The name the package exports: `mudawwana.corpus.normalize` is this module, so the function needs another.
normalize_text = normalize
