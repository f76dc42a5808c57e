"""Input readers: .txt, .jsonl, .conllu and local Hugging Face datasets, streamed as documents.

How documents and paragraphs are delimited:
- `.txt`: one file is one document (doc_id = the file's stem); every non-empty line is a paragraph
  (news text usually has one paragraph per line). With `txt_docs="blank-line"`, blank lines separate
  documents instead (doc_id = `<stem>-d<n>`).
- `.jsonl` and Hugging Face datasets: one record is one document; the text field (default `text`) holds
  it, newlines inside separate paragraphs; the id field (default `id`) names it, else `<stem>-<n>`.
- `.conllu`: already tokenized sentences, grouped by `# newdoc id`.

Text is put in Unicode NFC as it is read, in every format (canonically equivalent: the same text to every
reader, and what the UD validator requires), so every offset, `# text` and every FORM downstream point into
the NFC text. Nothing else is changed here: tatweel, diacritics and bidi marks reach the normalizer
(corpus/normalize.py), whose options decide what the tagger sees. A CoNLL-U input is put in NFC in every
column and comment; a file already in NFC (any UD release) is read unchanged, so `--keep` writes it back
byte for byte, and one that is not comes back in NFC, which is the only change `--keep` makes.

Bad input never stops the run: a record that cannot be used is reported as a `Skip` (file, line, reason)
and the rest is processed.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .conllu_io import ConlluError, read_conllu
from .errors import InputError
from .data_model import EmptyNode, Sentence, assign_offsets

MAX_PARAGRAPH_CHARS = 20_000
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")


@dataclass
class Paragraph:
    text: str
    line: int  # 1-based line in the input file where it starts


@dataclass
class RawDocument:
    """Raw text to tokenize. `source` is the file it came from (for messages)."""

    doc_id: str
    paragraphs: list[Paragraph]
    source: str


@dataclass
class TokenizedDocument:
    """Sentences already tokenized (from CoNLL-U)."""

    doc_id: str
    sentences: list[Sentence]
    source: str


@dataclass(frozen=True)
class Skip:
    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


@dataclass
class ReaderOptions:
    text_field: str = "text"
    id_field: str = "id"
    txt_docs: str = "file"  # "file" | "blank-line"
    max_paragraph_chars: int = MAX_PARAGRAPH_CHARS
    hf_split: str | None = None


InputDocument = RawDocument | TokenizedDocument
OnSkip = Callable[[Skip], None]


@dataclass
class _Check:
    """Paragraph checks shared by every raw-text format."""

    options: ReaderOptions
    on_skip: OnSkip
    source: str

    def keep(self, text: str, line: int) -> bool:
        if len(text) > self.options.max_paragraph_chars:
            self.on_skip(Skip(self.source, line, f"paragraph of {len(text):,} characters is longer than the "
                              f"limit of {self.options.max_paragraph_chars:,}; split it into lines"))
            return False
        if not _ARABIC.search(text):
            self.on_skip(Skip(self.source, line, "no Arabic letters in this text"))
            return False
        return True


def read_documents(paths: list[str | os.PathLike], options: ReaderOptions | None = None,
                   on_skip: OnSkip | None = None) -> Iterator[InputDocument]:
    """Stream documents from every input path in order. Raises InputError for a path that can't be read."""
    options = options or ReaderOptions()
    skips: OnSkip = on_skip or (lambda s: None)
    for path in map(Path, paths):
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        kind = input_kind(path)
        if kind != "hf" and path.stat().st_size == 0:
            skips(Skip(str(path), None, "empty file"))
            continue
        reader = {"txt": _read_txt, "jsonl": _read_jsonl, "conllu": _read_conllu, "hf": _read_hf}[kind]
        yield from reader(path, options, skips)


def input_kind(path: Path) -> str:
    if path.is_dir():
        return "hf"
    suffix = path.suffix.lower()
    if suffix in (".txt", ".text"):
        return "txt"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".conllu", ".conll"):
        return "conllu"
    raise InputError(f"{path}: unknown input type {suffix!r}; use .txt, .jsonl, .conllu or a Hugging Face "
                     "dataset directory")


def _decoded_lines(path: Path, on_skip: OnSkip) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line; a line that is not UTF-8 is skipped and reported."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                on_skip(Skip(str(path), lineno, f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1})"))
                continue
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            yield lineno, line.rstrip("\r\n")


def _read_txt(path: Path, options: ReaderOptions, on_skip: OnSkip) -> Iterator[RawDocument]:
    check = _Check(options, on_skip, str(path))
    paragraphs: list[Paragraph] = []
    n_docs = 0
    for lineno, line in _decoded_lines(path, on_skip):
        if not line.strip():
            if options.txt_docs == "blank-line" and paragraphs:
                n_docs += 1
                yield RawDocument(f"{path.stem}-d{n_docs}", paragraphs, str(path))
                paragraphs = []
            continue
        line = nfc(line)
        if check.keep(line, lineno):
            paragraphs.append(Paragraph(line, lineno))
    if paragraphs:
        n_docs += 1
        doc_id = path.stem if options.txt_docs == "file" else f"{path.stem}-d{n_docs}"
        yield RawDocument(doc_id, paragraphs, str(path))
    elif n_docs == 0:
        on_skip(Skip(str(path), None, "no usable text in this file"))


def _record_document(record: object, n: int, path: Path, line: int, options: ReaderOptions,
                     check: _Check) -> RawDocument | None:
    """A document from one jsonl / dataset record, or None (reported) when the record is unusable."""
    if not isinstance(record, dict):
        check.on_skip(Skip(str(path), line, "record is not a JSON object"))
        return None
    text = record.get(options.text_field)
    if not isinstance(text, str) or not text.strip():
        check.on_skip(Skip(str(path), line, f"no text in field {options.text_field!r} "
                           f"(fields: {', '.join(map(str, record)) or 'none'}); set --text-field"))
        return None
    raw_id = record.get(options.id_field)
    doc_id = str(raw_id) if raw_id not in (None, "") else f"{path.stem}-{n}"
    paragraphs = [Paragraph(p, line) for p in nfc(text).splitlines() if p.strip()]
    paragraphs = [p for p in paragraphs if check.keep(p.text, line)]
    return RawDocument(doc_id, paragraphs, str(path)) if paragraphs else None


def _read_jsonl(path: Path, options: ReaderOptions, on_skip: OnSkip) -> Iterator[RawDocument]:
    check = _Check(options, on_skip, str(path))
    yielded = 0
    for n, (lineno, line) in enumerate(_decoded_lines(path, on_skip), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            on_skip(Skip(str(path), lineno, f"invalid JSON ({e.msg} at column {e.colno})"))
            continue
        doc = _record_document(record, n, path, lineno, options, check)
        if doc:
            yielded += 1
            yield doc
    if not yielded:
        on_skip(Skip(str(path), None, "no usable text in this file"))


def _read_conllu(path: Path, options: ReaderOptions, on_skip: OnSkip) -> Iterator[TokenizedDocument]:
    current: TokenizedDocument | None = None
    try:
        for sentence in map(nfc_sentence, read_conllu(path)):
            doc_id = sentence.doc_id or path.stem
            if current is None or current.doc_id != doc_id:
                if current:
                    yield current
                current = TokenizedDocument(doc_id, [], str(path))
            current.sentences.append(sentence)
    except ConlluError as e:
        # A malformed CoNLL-U file can't be resynchronised safely: keep what was read, report the rest.
        on_skip(Skip(str(path), None, f"stopped reading: {e}"))
        if current:
            yield current
        return
    if current:
        yield current
    else:
        on_skip(Skip(str(path), None, "no sentences in this file"))


def nfc(text: str) -> str:
    """Unicode NFC; the check alone for text already in NFC (nearly all of it)."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def nfc_sentence(sentence: Sentence) -> Sentence:
    """The sentence with every comment and column in NFC, in place (offsets recomputed when anything changed).

    A sentence already in NFC is returned untouched, so a UD file reads and writes back byte for byte.
    """
    changed = False

    def fix(value: str) -> str:
        nonlocal changed
        if unicodedata.is_normalized("NFC", value):
            return value
        changed = True
        return unicodedata.normalize("NFC", value)

    sentence.comments = [fix(c) for c in sentence.comments]
    sentence.doc_id = fix(sentence.doc_id) if sentence.doc_id else sentence.doc_id
    for token in sentence.tokens:
        token.form, token.mwt_misc, token.mwt_feats = fix(token.form), fix(token.mwt_misc), fix(token.mwt_feats)
        for w in token.words:
            w.form, w.lemma, w.upos, w.xpos, w.feats = fix(w.form), fix(w.lemma), fix(w.upos), fix(w.xpos), fix(w.feats)
            w.deprel, w.deps, w.misc = fix(w.deprel), fix(w.deps), fix(w.misc)
    sentence.empty_nodes = [EmptyNode(n.after, [fix(c) for c in n.columns]) for n in sentence.empty_nodes]
    if changed:
        assign_offsets(sentence)
    return sentence


def _read_hf(path: Path, options: ReaderOptions, on_skip: OnSkip) -> Iterator[RawDocument]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError:
        try:  # a folder of data files (parquet/json/csv) rather than a saved dataset
            loaded = datasets.load_dataset(str(path))
        except Exception as e:  # datasets raises many types here; the message is what matters
            raise InputError(f"{path}: not a Hugging Face dataset directory ({e})") from None
    if isinstance(loaded, datasets.DatasetDict):
        splits = [options.hf_split] if options.hf_split else list(loaded)
        missing = [s for s in splits if s not in loaded]
        if missing:
            raise InputError(f"{path}: no split {missing[0]!r}; splits: {', '.join(loaded)}")
        parts = [(s, loaded[s]) for s in splits]
    else:
        parts = [("", loaded)]
    check = _Check(options, on_skip, str(path))
    yielded = 0
    for split, dataset in parts:
        if options.text_field not in dataset.column_names:
            raise InputError(f"{path}: no column {options.text_field!r} (columns: "
                             f"{', '.join(dataset.column_names)}); set --text-field")
        for n, record in enumerate(dataset, 1):
            doc = _record_document(record, n, path, n, options, check)
            if doc:
                if split and options.id_field not in record:
                    doc.doc_id = f"{path.name}-{split}-{n}"
                yielded += 1
                yield doc
    if not yielded:
        on_skip(Skip(str(path), None, "no usable text in this dataset"))


def count_documents(paths: list[str | os.PathLike], options: ReaderOptions | None = None) -> int | None:
    """A cheap pre-count for the progress bar (None when unknown)."""
    total = 0
    options = options or ReaderOptions()
    for path in map(Path, paths):
        try:
            kind = input_kind(path)
        except InputError:
            return None
        if kind == "txt" and options.txt_docs == "file":
            total += 1
        elif kind == "jsonl" and path.exists():
            with open(path, "rb") as f:
                total += sum(1 for line in f if line.strip())
        else:
            return None
    return total
