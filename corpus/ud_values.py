"""Make a model's output UD-valid before it is written: one small function per column rule.

A stanza model can emit anything its training vocabulary or its character decoder allows: a lemma with a
trailing space or a run of spaces, an empty lemma, diacritics out of canonical order (FATHA before FATHATAN,
which is not NFC), a feature outside the Feature=Value syntax. The UD validator (`udvalidate --lang ar
--level 2`, see corpus/ud_validator.py) rejects a file with any of them, so every value written from a model
goes through these rules (corpus/from_stanza.py calls `make_valid`):

  every value     NFC (Unicode canonical composition: the same text to every reader, as UD requires).
  FORM            only the words inside a multi-word token (stanza's own forms; a token's FORM is a slice of
                  `# text` and is left as it is): whitespace runs -> one space, ends stripped; empty -> `_`.
  LEMMA           whitespace runs (tabs, newlines, NBSP ...) -> one space, ends stripped (UD allows one inner
                  space, never leading, trailing or repeated whitespace); empty or only whitespace -> `_`
                  (UD's "unspecified"), not the word form: a guessed lemma would pass for the model's answer.
  UPOS            one of the 17 UD tags, else `X` (UPOS may not be `_` on a word), with a warning.
  XPOS            ends stripped; empty -> `_`; a value with whitespace inside -> `_`, with a warning.
  FEATS           `Feature=Value` pairs sorted as UD requires (case-insensitively, values of one feature too,
                  repeated values once); a value that is not that syntax (or names a feature twice) -> `_`,
                  with a warning.
  DEPREL          `root` on the word attached to 0; a value that is not `rel[:subtype]` in lowercase letters
                  with a universal relation -> `dep` (UD's unspecified dependency), with a warning; `_` stays
                  `_` only when HEAD is unknown too (no parser: the validator then rejects HEAD `_`, and
                  nothing here invents a tree).
  DEPS            `head:rel` pairs sorted by head then relation, repeats once; malformed syntax, a head that is
                  not a word (or empty node) of the sentence, or a self-loop -> `_`, with a warning.
  MISC            each name and value: whitespace runs -> one space, ends stripped (a tab or line break would
                  break the line); an item with no name, or whose value is only whitespace, is left out, with a
                  warning. `Norm=` (set by corpus/from_stanza.py) is left out when its value would be empty
                  or hold `|`, MISC's separator, which UD cannot escape (`misc_value`).
  comments        `# text_norm` (and `# text`): a line break inside becomes a space (the same length, so
                  offsets hold); a line break would end the comment line in the file.

Warnings are logged (logger `mudawwana.corpus.ud_values`) naming the sentence, the word and what was dropped.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from .data_model import UPOS_TAGS, Sentence, Word, format_misc, parse_misc

log = logging.getLogger(__name__)

# The universal relations (udtools' udeprels.json, `--lang ud`): at level 2 only the part before ':' is checked.
UD_DEPRELS = frozenset((
    "acl", "advcl", "advmod", "amod", "appos", "aux", "case", "cc", "ccomp", "clf", "compound", "conj", "cop",
    "csubj", "dep", "det", "discourse", "dislocated", "expl", "fixed", "flat", "goeswith", "iobj", "list",
    "mark", "nmod", "nsubj", "nummod", "obj", "obl", "orphan", "parataxis", "punct", "reparandum", "root",
    "vocative", "xcomp"))
_UPOS = frozenset(UPOS_TAGS)
# The validator's own patterns (udtools.utils.CompiledRegexes), ASCII as there.
_FEATURE = re.compile(r"([A-Z][A-Za-z0-9]*(?:\[[a-z0-9]+\])?)=([A-Z0-9][A-Za-z0-9]*(?:,[A-Z0-9][A-Za-z0-9]*)*)")
_DEPREL = re.compile(r"[a-z]+(?::[a-z]+)?")
_EHEAD = re.compile(r"(0|[1-9][0-9]*)(?:\.([1-9][0-9]*))?")
_WHITESPACE = re.compile(r"\s+")  # what the validator calls whitespace (Python's \s, Unicode-aware)
_LINE_BREAK = re.compile(r"[\r\n]")  # what ends a line when a CoNLL-U file is read (universal newlines)

# Columns `make_valid` touches. A re-tagged CoNLL-U input takes only the model's columns (TAGGED_COLUMNS);
# its forms, DEPS and MISC are the user's.
ALL_COLUMNS = ("form", "lemma", "upos", "xpos", "feats", "deprel", "deps", "misc")
TAGGED_COLUMNS = ("lemma", "upos", "xpos", "feats", "deprel")


def nfc(value: str) -> str:
    """Unicode NFC (a no-op check for the usual already-normalized value)."""
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def squeeze(value: str) -> str:
    """NFC, every run of whitespace as one space, no whitespace at either end."""
    return _WHITESPACE.sub(" ", nfc(value)).strip()


def word_form(value: str | None) -> str:
    """FORM of a word inside a multi-word token: squeezed; empty -> `_`."""
    return squeeze(value or "") or "_"


def lemma(value: str | None) -> str:
    """LEMMA: squeezed; empty or only whitespace -> `_` (unspecified)."""
    return squeeze(value or "") or "_"


def upos(value: str | None) -> tuple[str, str | None]:
    """UPOS and the problem, if any: a UD tag, else `X`."""
    value = (value or "").strip()
    if value in _UPOS:
        return value, None
    return "X", f"UPOS {value!r} is not a UD tag; written as X"


def xpos(value: str | None) -> tuple[str, str | None]:
    """XPOS and the problem, if any: stripped, `_` when empty or when whitespace is left inside."""
    value = nfc(value or "").strip()
    if not value:
        return "_", None
    if _WHITESPACE.search(value):
        return "_", f"XPOS {value!r} holds whitespace; written as _"
    return value, None


def feats(value: str | None) -> tuple[str, str | None]:
    """FEATS sorted as UD requires, and the problem, if any: `_` when the value is not Feature=Value pairs."""
    value = nfc(value or "").strip()
    if value in ("", "_"):
        return "_", None
    pairs: dict[str, list[str]] = {}
    for item in value.split("|"):
        match = _FEATURE.fullmatch(item)
        if match is None or match.group(1) in pairs:
            why = "names a feature twice" if match else f"has {item!r}, not Feature=Value"
            return "_", f"FEATS {value!r} {why}; written as _"
        pairs[match.group(1)] = sorted(dict.fromkeys(match.group(2).split(",")), key=str.lower)
    items = [f"{name}={','.join(values)}" for name, values in pairs.items()]
    return "|".join(sorted(items, key=str.lower)), None


def deprel(value: str | None, head: int | None) -> tuple[str, str | None]:
    """DEPREL and the problem, if any: `root` under 0, `dep` for a value UD does not know."""
    value = (value or "").strip()
    if head == 0:
        # UD labels the word attached to the root `root`. Stanza's parser decodes one root but a weak model can
        # label it otherwise, which Label Studio's ROOT relation could not carry back either.
        return "root", None
    if value in ("", "_"):
        return ("_", None) if head is None else ("dep", f"no DEPREL for a word with HEAD {head}; written as dep")
    if _DEPREL.fullmatch(value) and value.split(":")[0] in UD_DEPRELS:
        return value, None
    return "dep", f"DEPREL {value!r} is not a UD relation; written as dep"


def deps(value: str | None, word_id: str, node_ids: set[str]) -> tuple[str, str | None]:
    """DEPS sorted by head then relation, and the problem, if any: `_` when malformed.

    `node_ids`: the sentence's word and empty-node ids ("3", "8.1"), which a head must name (or "0").
    """
    value = nfc(value or "").strip()
    if value in ("", "_"):
        return "_", None
    from udtools.utils import crex  # the enhanced-relation pattern needs Unicode classes (the `regex` module)

    edges: set[tuple[tuple[int, int], str, str]] = set()
    for item in value.split("|"):
        head, sep, rel = item.partition(":")
        match = _EHEAD.fullmatch(head)
        if not sep or match is None or not crex.edeprel.fullmatch(rel) or rel.split(":")[0] not in UD_DEPRELS | {"ref"}:
            return "_", f"DEPS {value!r} has {item!r}, not head:relation; written as _"
        if head == word_id or (head != "0" and head not in node_ids):
            what = "the word itself" if head == word_id else "not in the sentence"
            return "_", f"DEPS {value!r} has {item!r}, a head that is {what}; written as _"
        edges.add(((int(match.group(1)), int(match.group(2) or 0)), rel, head))
    return "|".join(f"{head}:{rel}" for _, rel, head in sorted(edges)), None


def misc(value: str | None) -> tuple[str, list[str]]:
    """MISC with each name and value squeezed, and the problems: items left out (no name, or a value that was
    only whitespace). An item without `=` (a bare flag) is kept as it is."""
    value = nfc(value or "")
    if value in ("", "_"):
        return "_", []
    items, problems = {}, []
    for key, val in parse_misc(value).items():
        key = squeeze(key)
        if not key:
            problems.append(f"MISC item {val!r} has no name; left out")
            continue
        cleaned = squeeze(val)
        if val != "" and not cleaned:
            problems.append(f"MISC {key}={val!r} has only whitespace as its value; left out")
            continue
        items[key] = cleaned
    return format_misc(items), problems


def misc_value(value: str) -> str | None:
    """A MISC value squeezed, or None when it cannot be written: nothing left, or `|` (the item separator)."""
    cleaned = squeeze(value)
    return cleaned if cleaned and "|" not in cleaned else None


def comment_value(value: str) -> str:
    """A comment's value (`# text_norm = ...`): NFC, each line break -> a space (same length)."""
    return _LINE_BREAK.sub(" ", nfc(value))


def make_valid(sentence: Sentence, columns: tuple[str, ...] = ALL_COLUMNS) -> list[str]:
    """Apply the rules to `columns` of every word and to `# text_norm`, in place; log and return the problems.

    A token's own FORM (a single-word token's word, a multi-word token's range line) is never changed: it is
    the slice of `# text` the validator matches. "form" here means the forms of the words inside multi-word
    tokens.
    """
    problems: list[str] = []
    node_ids = {str(w.id) for w in sentence.words} | {n.columns[0] for n in sentence.empty_nodes}
    for token in sentence.tokens:
        for word in token.words:
            for problem in make_word_valid(word, columns, in_multiword=token.is_multiword, node_ids=node_ids):
                problems.append(f"word {word.id} ({word.form}): {problem}")
        if token.is_multiword and "misc" in columns:
            token.mwt_misc, dropped = misc(token.mwt_misc)
            problems += [f"token {token.form}: {p}" for p in dropped]
    norm = sentence.get_meta("text_norm")
    if norm is not None:
        sentence.set_meta("text_norm", comment_value(norm))
    for problem in problems:
        log.warning("sentence %s: %s", sentence.sent_id or "(no sent_id)", problem)
    return problems


def make_word_valid(word: Word, columns: tuple[str, ...] = ALL_COLUMNS, *, in_multiword: bool = False,
                    node_ids: set[str] | None = None) -> list[str]:
    """Apply the rules to `columns` of one word, in place; return the problems (what was replaced, and why)."""
    problems: list[str | None] = []
    if "form" in columns and in_multiword:
        word.form = word_form(word.form)
    if "lemma" in columns:
        word.lemma = lemma(word.lemma)
    if "upos" in columns:
        word.upos, problem = upos(word.upos)
        problems.append(problem)
    if "xpos" in columns:
        word.xpos, problem = xpos(word.xpos)
        problems.append(problem)
    if "feats" in columns:
        word.feats, problem = feats(word.feats)
        problems.append(problem)
    if "deprel" in columns:
        word.deprel, problem = deprel(word.deprel, word.head)
        problems.append(problem)
    if "deps" in columns:
        word.deps, problem = deps(word.deps, str(word.id), node_ids if node_ids is not None else set())
        problems.append(problem)
    if "misc" in columns:
        word.misc, dropped = misc(word.misc)
        problems += dropped
    return [p for p in problems if p]
