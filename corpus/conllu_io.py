"""Read and write CoNLL-U, the interchange file between stages, losslessly and streaming.

We read lines ourselves rather than through `conllu.parse_incr` because that parser loses comments: it
keeps them in one dict per sentence (`sent.metadata`), so a comment without a value (`# a note`, `# text`,
`# key =`) is dropped (only `# newdoc` and `# newpar` are kept, with the value None), a repeated key keeps
only its last value, and keys and values are stripped of spaces; writing it back gives `# key = value`.
It keeps FEATS and MISC in their file order (it does not reorder them); it also strips each line and
splits columns on runs of two or more spaces as well as on tabs. A UD file must come back byte-identical
from our reader. The only documented differences: a missing final blank line is added, CRLF line ends
are written as LF, and a comment written `#x` comes back as `# x`.
"""

from __future__ import annotations

import io
import os
import re
from typing import IO, Iterable, Iterator

from .errors import InputError
from .files import atomic_writer
from .data_model import EmptyNode, Sentence, Token, Word, assign_offsets

_RANGE = re.compile(r"^(\d+)-(\d+)$")
_EMPTY = re.compile(r"^(\d+)\.(\d+)$")
_NEWDOC = re.compile(r"^newdoc(?:\s+id\s*=\s*(.*))?$")


class ConlluError(InputError, ValueError):
    """A CoNLL-U file that cannot be read; the message names the file and line and ends with the fix."""

    def __init__(self, message: str):
        super().__init__(f"{message}; fix the file and rerun")


def read_conllu(source: str | os.PathLike | IO[str]) -> Iterator[Sentence]:
    """Yield Sentences one at a time from a path or an open text stream."""
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        try:
            with open(source, encoding="utf-8", newline="") as f:
                yield from _read(f, name)
        except (FileNotFoundError, IsADirectoryError):
            raise InputError(f"{name}: no such file (expected a CoNLL-U file)") from None
        except UnicodeDecodeError as e:
            raise ConlluError(f"{name}: not UTF-8 ({e.reason} at byte {e.start})") from None
    else:
        yield from _read(source, getattr(source, "name", "<stream>"))


def parse_conllu(text: str) -> list[Sentence]:
    """Parse a CoNLL-U string (e.g. one sentence kept in a Label Studio task)."""
    return list(_read(io.StringIO(text), "<string>"))


def _read(lines: Iterable[str], name: str) -> Iterator[Sentence]:
    doc_id: str | None = None
    block: list[tuple[int, str]] = []
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if line.strip() == "":
            if block:
                sentence = _parse_block(block, name, doc_id)
                doc_id = sentence.doc_id
                yield sentence
                block = []
            continue
        block.append((lineno, line))
    if block:
        yield _parse_block(block, name, doc_id)


def _parse_block(block: list[tuple[int, str]], name: str, doc_id: str | None) -> Sentence:
    sentence = Sentence(doc_id=doc_id)
    pending_range: tuple[int, int, list[str]] | None = None
    for lineno, line in block:
        if line.startswith("#"):
            comment = line[1:].lstrip(" ") if line.startswith("# ") or line == "#" else line[1:]
            sentence.comments.append(comment)
            m = _NEWDOC.match(comment)
            if m:
                sentence.doc_id = (m.group(1) or "").strip() or None
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise ConlluError(f"{name}:{lineno}: expected 10 tab-separated columns, found {len(cols)}")
        m = _RANGE.match(cols[0])
        if m:
            pending_range = (int(m.group(1)), int(m.group(2)), cols)
            sentence.tokens.append(Token(form=cols[1], words=[], mwt_misc=cols[9], mwt_feats=cols[5]))
            continue
        m = _EMPTY.match(cols[0])
        if m:
            sentence.empty_nodes.append(EmptyNode(after=int(m.group(1)), columns=cols))
            continue
        if not cols[0].isdigit():
            raise ConlluError(f"{name}:{lineno}: bad word id {cols[0]!r}")
        head = None if cols[6] == "_" else _int(cols[6], name, lineno)
        word = Word(int(cols[0]), cols[1], cols[2], cols[3], cols[4], cols[5], head, cols[7], cols[8], cols[9])
        if pending_range and pending_range[0] <= word.id <= pending_range[1]:
            sentence.tokens[-1].words.append(word)
            if word.id == pending_range[1]:
                pending_range = None
        else:
            sentence.tokens.append(Token(form=word.form, words=[word]))
    if not sentence.tokens or any(not t.words for t in sentence.tokens):
        raise ConlluError(f"{name}:{block[0][0]}: sentence has no words (or a range with none)")
    assign_offsets(sentence)
    return sentence


def _int(value: str, name: str, lineno: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConlluError(f"{name}:{lineno}: HEAD must be an integer, found {value!r}") from None


def format_sentence(sentence: Sentence) -> str:
    """One sentence as CoNLL-U text, ending with the blank line."""
    out = [f"# {c}" if c else "#" for c in sentence.comments]
    empties: dict[int, list[EmptyNode]] = {}
    for node in sentence.empty_nodes:
        empties.setdefault(node.after, []).append(node)
    for node in empties.get(0, []):
        out.append("\t".join(node.columns))
    for tok in sentence.tokens:
        if tok.is_multiword:
            first, last = tok.id_range
            out.append("\t".join([f"{first}-{last}", tok.form, "_", "_", "_", tok.mwt_feats, "_", "_", "_",
                                  tok.mwt_misc]))
        for word in tok.words:
            out.append("\t".join(word.columns()))
            for node in empties.get(word.id, []):
                out.append("\t".join(node.columns))
    return "\n".join(out) + "\n\n"


def write_conllu(sentences: Iterable[Sentence], path: str | os.PathLike) -> int:
    """Write sentences to `path` atomically (temp file + rename): a crash never leaves half a file.

    Returns the number of sentences written.
    """
    with atomic_writer(path) as f:
        n = 0
        for sentence in sentences:
            f.write(format_sentence(sentence))
            n += 1
    return n
