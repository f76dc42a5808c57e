"""Arabic clitics in both UD conventions: multi-word tokens (UD Arabic-PADT, stanza's official models) and
separate tokens glued with SpaceAfter=No (UD Arabic-PUD, the bundled sample).

    PADT:  16-18  بموجبه                 PUD:  16  ب      SpaceAfter=No
           16     ب                            17  موجب   SpaceAfter=No
           17     موجب                         18  ه
           18     ه

The words are the same in both (same ids, columns, heads and enhanced DEPS); only the token layer differs, so
a conversion keeps every annotation. `to_multiword_tokens` joins a run of glued tokens only when every joint
is a clitic joint; `to_glued_tokens` splits every multi-word token whose words' forms spell its surface, and
keeps (and reports) the others. The rule, and why, in docs/clitics.md.

Streaming: Sentence in, Sentence out (a new one; the input is not changed); `convert_clitics` does a file.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import pairwise

from .conllu_io import read_conllu, write_conllu
from .data_model import NER_MISC_KEY, Sentence, Token, Word, assign_offsets, format_misc, parse_misc
from .errors import InputError

# The two conventions (`mudawwana convert --clitics`).
MWT, TOKENS = "mwt", "tokens"
CLITICS = (MWT, TOKENS)

# One-letter proclitics written together with the next word: the conjunctions wa- and fa-, the prepositions
# bi-, li-, ka-, and the future particle sa-. The article al- is not among them: in UD it is part of the word
# (Definite=Def), never a word of its own.
PREFIX_CLITICS = frozenset("وفبلكس")
# Pronoun suffixes (attached personal pronouns), compared without diacritics.
PRONOUN_SUFFIXES = frozenset({"ه", "ها", "هم", "هما", "هن", "ك", "كم", "كما", "كن", "ي", "ني", "نا"})

_SPACE_AFTER = "SpaceAfter"
# MISC keys that speak for the whole token: on a multi-word token they live on the range line.
_TOKEN_KEYS = (_SPACE_AFTER, "SpacesAfter", NER_MISC_KEY)

# Why a multi-word token stays one in `to_glued_tokens` (the report counts each).
KEPT_NOT_CONCATENATING = "its words' forms do not spell its surface (e.g. ل + التنمية = للتنمية)"
KEPT_RANGE_FEATS = "its range line has FEATS"
KEPT_RANGE_MISC = "its range line has MISC that no word can carry"
# Why glued tokens stay separate in `to_multiword_tokens`.
LEFT_NOT_CLITICS = "glued words that are not all clitics (e.g. في + ما = فيما)"


@dataclasses.dataclass
class CliticsReport:
    """What a conversion did: counts, and up to `EXAMPLES` examples (`sent_id: surface`) per reason."""

    clitics: str
    sentences: int = 0
    joined: int = 0          # multi-word tokens made from glued tokens (to mwt)
    pieces_joined: int = 0   # the glued tokens that went into them
    split: int = 0           # multi-word tokens written as glued tokens (to tokens)
    pieces_split: int = 0    # the glued tokens they became
    kept: Counter = dataclasses.field(default_factory=Counter)      # reason -> tokens left as they were
    examples: dict = dataclasses.field(default_factory=dict)        # reason -> ["sent_id: surface", ...]

    EXAMPLES = 3

    def keep(self, reason: str, sentence: Sentence, surface: str) -> None:
        self.kept[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < self.EXAMPLES:
            examples.append(f"{sentence.sent_id or '?'}: {surface}")


# --- what a clitic is ------------------------------------------------------------------------------------------

def bare(form: str) -> str:
    """The form without diacritics (combining marks: harakat, shadda, sukun, dagger alef)."""
    return "".join(ch for ch in form if unicodedata.category(ch) != "Mn")


def _is_arabic_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and "ARABIC" in unicodedata.name(ch, "")


def is_letters(word: Word) -> bool:
    """An Arabic word written in letters only: no digits, punctuation, symbols or Latin (never joined)."""
    letters = bare(word.form)
    return (word.upos not in ("PUNCT", "SYM") and letters != "" and all(_is_arabic_letter(ch) for ch in letters)
            and any(ch != "\u0640" for ch in letters))  # tatweel alone is a symbol


def is_prefix_clitic(word: Word) -> bool:
    """و ف ب ل ك س as a word of its own (any diacritics), not tagged as a pronoun (ك is also a suffix)."""
    return word.upos != "PRON" and bare(word.form) in PREFIX_CLITICS


def is_pronoun_suffix(word: Word) -> bool:
    """An attached personal pronoun (ه ها هم ... ي ني نا, any diacritics) tagged PRON."""
    return word.upos == "PRON" and bare(word.form) in PRONOUN_SUFFIXES


def is_clitic_joint(left: Word, right: Word) -> bool:
    """Whether `left` glued to `right` is one written word split at a clitic: a proclitic before a word, or a
    word before a pronoun suffix. Both must be words in Arabic letters."""
    return (is_letters(left) and is_letters(right)
            and (is_prefix_clitic(left) or is_pronoun_suffix(right)))


# --- glued tokens -> multi-word tokens -----------------------------------------------------------------------

def to_multiword_tokens(sentence: Sentence, report: CliticsReport | None = None) -> Sentence:
    """PUD -> PADT: each run of glued one-word tokens whose every joint is a clitic joint becomes one
    multi-word token (its surface the pieces' forms joined). Other tokens are kept as they are."""
    out = copy.deepcopy(sentence)
    tokens: list[Token] = []
    i, toks = 0, out.tokens
    while i < len(toks):
        j = _glued_run_end(toks, i)
        run = toks[i:j]
        if len(run) > 1 and all(is_clitic_joint(a.words[0], b.words[0]) for a, b in pairwise(run)):
            tokens.append(_join(run))
            if report is not None:
                report.joined += 1
                report.pieces_joined += len(run)
        else:
            if len(run) > 1 and report is not None:
                report.keep(LEFT_NOT_CLITICS, sentence, "+".join(t.form for t in run))
            tokens.extend(run)
        i = j
    out.tokens = tokens
    _finish(out)
    return out


def _glued_run_end(toks: list[Token], i: int) -> int:
    """End (exclusive) of the run of glued one-word letter tokens starting at i (at least i + 1)."""
    j = i + 1
    if not _joinable(toks[i]):
        return j
    while j < len(toks) and not toks[j - 1].space_after and _joinable(toks[j]):
        j += 1
    return j


def _joinable(token: Token) -> bool:
    return not token.is_multiword and is_letters(token.words[0])


def _join(run: list[Token]) -> Token:
    words = [t.words[0] for t in run]
    last = parse_misc(words[-1].misc)
    range_misc = {key: last[key] for key in (_SPACE_AFTER, "SpacesAfter") if key in last}
    ner = next((tag for tag in (parse_misc(w.misc).get(NER_MISC_KEY, "O") for w in words) if tag != "O"), None)
    if ner:
        range_misc[NER_MISC_KEY] = ner  # after SpaceAfter: the order corpus/from_stanza.py writes a token's MISC
    for w in words:
        items = parse_misc(w.misc)
        for key in _TOKEN_KEYS:
            items.pop(key, None)
        w.misc = format_misc(items)
    return Token(form="".join(w.form for w in words), words=words, mwt_misc=format_misc(range_misc))


# --- multi-word tokens -> glued tokens -----------------------------------------------------------------------

def to_glued_tokens(sentence: Sentence, report: CliticsReport | None = None) -> Sentence:
    """PADT -> PUD: each multi-word token whose words' forms spell its surface becomes one token per word,
    glued with SpaceAfter=No. The others are kept as multi-word tokens and counted in `report`: writing them
    as tokens would change a word's FORM (PADT's ل + التنمية for للتنمية, حياة + ه for حياته)."""
    out = copy.deepcopy(sentence)
    tokens: list[Token] = []
    for k, tok in enumerate(out.tokens):
        if not tok.is_multiword:
            tokens.append(tok)
            continue
        reason = _why_kept(tok)
        if reason:
            if report is not None:
                report.keep(reason, sentence, tok.form)
            tokens.append(tok)
            continue
        following = out.tokens[k + 1] if k + 1 < len(out.tokens) else None
        pieces = _split(tok, following)
        tokens.extend(pieces)
        if report is not None:
            report.split += 1
            report.pieces_split += len(pieces)
    out.tokens = tokens
    _finish(out)
    return out


def _why_kept(tok: Token) -> str | None:
    if "".join(w.form for w in tok.words) != tok.form:
        return KEPT_NOT_CONCATENATING
    if tok.mwt_feats != "_":
        return KEPT_RANGE_FEATS
    if any(key not in _TOKEN_KEYS for key in parse_misc(tok.mwt_misc)):
        return KEPT_RANGE_MISC
    return None


def _split(tok: Token, following: Token | None) -> list[Token]:
    range_misc = parse_misc(tok.mwt_misc)
    words = tok.words
    for n, w in enumerate(words):
        items = parse_misc(w.misc)
        for key in (_SPACE_AFTER, "SpacesAfter"):  # not allowed inside a multi-word token anyway
            items.pop(key, None)
        if n < len(words) - 1:
            items[_SPACE_AFTER] = "No"
        else:
            for key in (_SPACE_AFTER, "SpacesAfter"):
                if key in range_misc:
                    items[key] = range_misc[key]
        w.misc = format_misc(items)
    ner = range_misc.get(NER_MISC_KEY, "O")
    if ner != "O":
        next_tag = parse_misc(following.misc).get(NER_MISC_KEY, "O") if following else "O"
        for w, tag in zip(words, _spread_ner(words, ner, next_tag)):
            items = parse_misc(w.misc)
            items.pop(NER_MISC_KEY, None)
            if tag != "O":
                items[NER_MISC_KEY] = tag
            w.misc = format_misc(items)
    return [Token(form=w.form, words=[w]) for w in words]


def _spread_ner(words: list[Word], tag: str, next_tag: str) -> list[str]:
    """The token's BIO tag over its words: the host word (not a proclitic, not a pronoun suffix) takes it;
    proclitics before it are inside the entity only when the entity started earlier (I-), pronoun suffixes
    after it only when the entity goes on after the token."""
    label = tag.partition("-")[2]
    host = next((n for n, w in enumerate(words) if not is_prefix_clitic(w) and not is_pronoun_suffix(w)), None)
    if host is None:
        host = next((n for n, w in enumerate(words) if not is_prefix_clitic(w)), 0)
    inside = f"I-{label}"
    before = inside if tag.startswith("I-") else "O"
    after = inside if next_tag == inside else "O"
    return [before] * host + [tag] + [after] * (len(words) - host - 1)


# --- ids ---------------------------------------------------------------------------------------------------

def renumber(sentence: Sentence) -> None:
    """Give words ids 1..n in order and remap every reference to them: HEAD, enhanced DEPS (`head:rel|...`),
    empty nodes (their position, `N.k` ids and DEPS) and DEPS pointing at empty nodes.

    (Sentence.renumber remaps HEAD only.) Joining and splitting clitics keeps the words and their order, so
    here the mapping is the identity; this keeps a file whose ids are not 1..n consistent all the same.
    """
    mapping: dict[str, str] = {"0": "0"}
    for n, w in enumerate(sentence.words, 1):
        mapping[str(w.id)] = str(n)
    if all(k == v for k, v in mapping.items()):
        return
    empty_ids: dict[str, str] = {}
    for node in sentence.empty_nodes:
        major, _, minor = node.columns[0].partition(".")
        empty_ids[node.columns[0]] = f"{mapping.get(major, major)}.{minor}"
    mapping.update(empty_ids)
    for w in sentence.words:
        w.id = int(mapping[str(w.id)])
        if w.head is not None:
            w.head = int(mapping.get(str(w.head), w.head))
        w.deps = _remap_deps(w.deps, mapping)
    for node in sentence.empty_nodes:
        node.after = int(mapping.get(str(node.after), node.after))
        node.columns = list(node.columns)
        node.columns[0] = mapping[node.columns[0]]
        node.columns[8] = _remap_deps(node.columns[8], mapping)


def _remap_deps(deps: str, mapping: dict[str, str]) -> str:
    if deps in ("_", ""):
        return deps
    out = []
    for item in deps.split("|"):
        head, sep, rel = item.partition(":")
        out.append(f"{mapping.get(head, head)}{sep}{rel}")
    return "|".join(out)


def _finish(sentence: Sentence) -> None:
    renumber(sentence)
    assign_offsets(sentence)  # the text is unchanged; the tokens' spans are new


# --- files -------------------------------------------------------------------------------------------------

def convert_sentences(sentences: Iterable[Sentence], clitics: str,
                      report: CliticsReport | None = None) -> Iterator[Sentence]:
    """Each sentence in the `clitics` convention ("mwt" or "tokens"), streaming."""
    step = _step(clitics)
    for sentence in sentences:
        if report is not None:
            report.sentences += 1
        yield step(sentence, report)


def _step(clitics: str):
    if clitics == MWT:
        return to_multiword_tokens
    if clitics == TOKENS:
        return to_glued_tokens
    raise InputError(f"unknown clitics convention {clitics!r}: use one of {', '.join(CLITICS)}")


def convert_clitics(in_path: str | os.PathLike, out_path: str | os.PathLike, clitics: str) -> CliticsReport:
    """Write `in_path` with its clitics in the `clitics` convention to `out_path` (atomically: a failure leaves
    `out_path` as it was). Every sentence is written; the report says what was joined, split or kept."""
    _step(clitics)  # an unknown convention fails before anything is read
    report = CliticsReport(clitics)
    write_conllu(convert_sentences(read_conllu(in_path), clitics, report), out_path)
    return report
