"""The one data model every stage uses: Document -> Sentence -> Token -> Word.

A Token is a span of the ORIGINAL text (what the user gave us, before normalization); a Word is a
syntactic word with the ten CoNLL-U fields. An Arabic clitic token (وبانه) holds several words
(و + ب + أن + ه). Named entities are spans over tokens.

CoNLL-U columns are kept as the strings found in the file ("_" for empty) so that reading and writing
a UD file is lossless; helpers parse FEATS/MISC on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
NER_LABELS = ("PER", "LOC", "ORG", "MISC")
# MISC key that carries BIO named-entity tags on tokens (single-word token: the word's MISC;
# multi-word token: the range line's MISC).
NER_MISC_KEY = "NER"


def parse_misc(misc: str) -> dict[str, str]:
    """`SpaceAfter=No|NER=B-PER` -> {"SpaceAfter": "No", "NER": "B-PER"} (order kept)."""
    if not misc or misc == "_":
        return {}
    out: dict[str, str] = {}
    for item in misc.split("|"):
        key, sep, value = item.partition("=")
        out[key] = value if sep else ""
    return out


def format_misc(items: dict[str, str]) -> str:
    if not items:
        return "_"
    return "|".join(f"{k}={v}" if v != "" else k for k, v in items.items())


def set_misc(misc: str, key: str, value: str | None) -> str:
    """Return `misc` with `key` set to `value` (or removed when value is None), other items untouched."""
    items = parse_misc(misc)
    if value is None:
        items.pop(key, None)
    else:
        items[key] = value
    return format_misc(items)


@dataclass
class Word:
    """A syntactic word: the ten CoNLL-U columns (strings, "_" when empty) plus offsets.

    `start`/`end` are character offsets into the sentence text (the original surface). A word inside a
    multi-word token has its own offsets only when the words' forms concatenate to the token's surface;
    otherwise it carries the token's span (stanza gives such words none; stanza issue 1361).
    """

    id: int
    form: str
    lemma: str = "_"
    upos: str = "_"
    xpos: str = "_"
    feats: str = "_"
    head: int | None = None
    deprel: str = "_"
    deps: str = "_"
    misc: str = "_"
    start: int | None = None
    end: int | None = None

    def columns(self) -> list[str]:
        head = "_" if self.head is None else str(self.head)
        return [str(self.id), self.form, self.lemma, self.upos, self.xpos, self.feats, head,
                self.deprel, self.deps, self.misc]


@dataclass
class Token:
    """A surface token: a span of the original text holding one word, or several (multi-word token)."""

    form: str
    words: list[Word]
    start: int | None = None
    end: int | None = None
    # The multi-word-token range line's own MISC and FEATS (UD allows e.g. SpaceAfter=No, Typo=Yes there).
    mwt_misc: str = "_"
    mwt_feats: str = "_"

    @property
    def is_multiword(self) -> bool:
        return len(self.words) > 1

    @property
    def misc(self) -> str:
        """The MISC that speaks for the whole token (SpaceAfter, NER)."""
        return self.mwt_misc if self.is_multiword else self.words[0].misc

    @misc.setter
    def misc(self, value: str) -> None:
        if self.is_multiword:
            self.mwt_misc = value
        else:
            self.words[0].misc = value

    @property
    def space_after(self) -> bool:
        return parse_misc(self.misc).get("SpaceAfter") != "No"

    @property
    def id_range(self) -> tuple[int, int]:
        return self.words[0].id, self.words[-1].id


@dataclass
class EmptyNode:
    """An enhanced-UD empty node (ID like 8.1), kept verbatim: it is written after word `after`."""

    after: int
    columns: list[str]


@dataclass(frozen=True)
class Entity:
    """A named entity over tokens [start_token, end_token) (indexes into Sentence.tokens)."""

    start_token: int
    end_token: int
    label: str


@dataclass
class Sentence:
    """One sentence. `comments` are the CoNLL-U comment lines, verbatim and in order, without "# "."""

    tokens: list[Token] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    empty_nodes: list[EmptyNode] = field(default_factory=list)
    doc_id: str | None = None

    # --- metadata lives in the comments, so the CoNLL-U round trip keeps it ---
    def get_meta(self, key: str) -> str | None:
        prefix = key + " ="
        for line in self.comments:
            if line == key or line.startswith(prefix):
                return line[len(prefix):].strip() if line.startswith(prefix) else ""
        return None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or with None remove) `# key = value`, keeping its position when it already exists."""
        prefix = key + " ="
        for i, line in enumerate(self.comments):
            if line == key or line.startswith(prefix):
                if value is None:
                    del self.comments[i]
                else:
                    self.comments[i] = f"{key} = {value}"
                return
        if value is not None:
            self.comments.append(f"{key} = {value}")

    @property
    def sent_id(self) -> str | None:
        return self.get_meta("sent_id")

    @sent_id.setter
    def sent_id(self, value: str) -> None:
        self.set_meta("sent_id", value)

    @property
    def text(self) -> str:
        """The sentence's original surface text (`# text`); token offsets point into it."""
        value = self.get_meta("text")
        if value is None:
            return surface_text(self.tokens)
        return value

    @text.setter
    def text(self, value: str) -> None:
        self.set_meta("text", value)

    @property
    def words(self) -> list[Word]:
        return [w for t in self.tokens for w in t.words]

    def iter_words(self) -> Iterator[tuple[int, Token, Word]]:
        """(token index, token, word) for every word in order."""
        for i, tok in enumerate(self.tokens):
            for w in tok.words:
                yield i, tok, w

    # --- named entities: one source of truth, the tokens' MISC ---
    @property
    def entities(self) -> list[Entity]:
        out: list[Entity] = []
        current: list | None = None
        for i, tok in enumerate(self.tokens):
            tag = parse_misc(tok.misc).get(NER_MISC_KEY, "O")
            prefix, _, label = tag.partition("-")
            if prefix == "B" or (prefix == "I" and (current is None or current[2] != label)):
                if current:
                    out.append(Entity(*current))
                current = [i, i + 1, label]
            elif prefix == "I":
                current[1] = i + 1
            else:
                if current:
                    out.append(Entity(*current))
                current = None
        if current:
            out.append(Entity(*current))
        return out

    def set_entities(self, entities: list[Entity]) -> None:
        tags = ["O"] * len(self.tokens)
        for ent in sorted(entities, key=lambda e: e.start_token):
            for i in range(ent.start_token, ent.end_token):
                tags[i] = ("B-" if i == ent.start_token else "I-") + ent.label
        for tok, tag in zip(self.tokens, tags):
            tok.misc = set_misc(tok.misc, NER_MISC_KEY, None if tag == "O" else tag)

    def renumber(self) -> None:
        """Give words ids 1..n in order, remapping heads (after a split or merge of words)."""
        mapping = {0: 0}
        n = 0
        for w in self.words:
            n += 1
            mapping[w.id] = n
        for w in self.words:
            w.id = mapping[w.id]
            if w.head is not None:
                w.head = mapping.get(w.head, w.head)


@dataclass
class Document:
    """A document: its id, its original text, and its sentences (each with offsets into its own text)."""

    doc_id: str
    text: str
    sentences: list[Sentence] = field(default_factory=list)


def surface_text(tokens: list[Token]) -> str:
    """Rebuild a sentence's text from token forms and SpaceAfter=No (what `# text` must equal)."""
    parts: list[str] = []
    for i, tok in enumerate(tokens):
        parts.append(tok.form)
        if tok.space_after and i < len(tokens) - 1:
            parts.append(" ")
    return "".join(parts)


def assign_offsets(sentence: Sentence) -> None:
    """Derive token and word offsets from `# text` and the forms, as the UD validator aligns them.

    Tokens get the span of their form in the text. Words of a multi-word token get their own spans when
    their forms concatenate to the token's form; otherwise each carries the token's span. Tokens that
    cannot be aligned (a file whose forms do not match its text) keep offsets None.
    """
    text = sentence.text
    pos = 0
    for tok in sentence.tokens:
        while pos < len(text) and text[pos].isspace() and not text.startswith(tok.form, pos):
            pos += 1
        if text.startswith(tok.form, pos):
            tok.start, tok.end = pos, pos + len(tok.form)
            pos = tok.end
        else:
            tok.start = tok.end = None
        _assign_word_offsets(tok)


def _assign_word_offsets(tok: Token) -> None:
    if tok.start is None:
        for w in tok.words:
            w.start = w.end = None
        return
    if not tok.is_multiword:
        tok.words[0].start, tok.words[0].end = tok.start, tok.end
        return
    if "".join(w.form for w in tok.words) == tok.form:
        pos = tok.start
        for w in tok.words:
            w.start, w.end = pos, pos + len(w.form)
            pos = w.end
    else:
        for w in tok.words:
            w.start, w.end = tok.start, tok.end


# Sentence metadata keys (`# key = value` comments) that stages write and read.
META_MODEL_VERSION = "model_version"   # which model pre-annotated the sentence (name@hash)
META_TEXT_NORM = "text_norm"           # the normalized text the tagger saw, when it differs from `# text`
META_STATUS = "annotation_status"      # predicted | submitted | reviewed | accepted
META_ANNOTATORS = "annotators"         # comma-separated pseudonymous annotator ids
META_AGREEMENT = "agreement"           # mean pairwise agreement over columns, when several annotators
