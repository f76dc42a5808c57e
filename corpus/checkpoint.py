"""Resumable output: an interrupted run continues where it stopped, and never replaces a good file.

Sentences are appended to `<output>.partial`; after every batch we fsync it and record, in
`<output>.partial.json`, how many input documents are done and the byte size of the partial file at that
point. A rerun with the same job fingerprint truncates the partial file to that size (dropping a batch that
was half written when the process died), skips the documents already done, and appends. When the run ends,
the partial file is renamed over the output in one step (or, when nothing was written, removed: an empty file
never replaces the output).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .conllu_io import format_sentence
from .files import write_json_atomic
from .data_model import Sentence


@dataclass
class Checkpoint:
    output: Path
    fingerprint: str
    done_documents: int = 0
    sentences: int = 0
    _file: TextIO | None = None

    @property
    def partial(self) -> Path:
        return self.output.with_name(self.output.name + ".partial")

    @property
    def state(self) -> Path:
        return self.output.with_name(self.output.name + ".partial.json")

    @classmethod
    def open(cls, output: str | os.PathLike, fingerprint: str) -> "Checkpoint":
        """Resume a matching interrupted run, or start a fresh partial file."""
        cp = cls(Path(output), fingerprint)
        cp.output.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        if cp.state.exists() and cp.partial.exists():
            try:
                saved = json.loads(cp.state.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                saved = {}
            if saved.get("fingerprint") == fingerprint and saved.get("bytes", -1) <= cp.partial.stat().st_size:
                cp.done_documents = saved["documents"]
                cp.sentences = saved["sentences"]
                size = saved["bytes"]
        cp._file = open(cp.partial, "a+", encoding="utf-8", newline="\n")
        cp._file.truncate(size)
        cp._file.seek(size)
        if size == 0:
            cp.done_documents = cp.sentences = 0
        cp._save()
        return cp

    def write(self, sentences: list[Sentence], documents: int) -> None:
        """Append a batch's sentences and mark `documents` more input documents as done."""
        assert self._file is not None
        for sentence in sentences:
            self._file.write(format_sentence(sentence))
        self.sentences += len(sentences)
        self.done_documents += documents
        self._save()

    def _save(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        state = {"fingerprint": self.fingerprint, "documents": self.done_documents,
                 "sentences": self.sentences, "bytes": self._file.tell()}
        write_json_atomic(self.state, state, indent=None)

    def written_sent_ids(self) -> set[str]:
        """The sent_ids already in the partial file (a resumed run must not write one of them again)."""
        assert self._file is not None
        ids: set[str] = set()
        self._file.seek(0)
        for line in iter(self._file.readline, ""):  # readline, not iteration: tell() must keep working
            if line.startswith("# sent_id ="):
                ids.add(line[len("# sent_id ="):].strip())
        self._file.seek(0, os.SEEK_END)
        return ids

    def finish(self) -> None:
        """Replace the output with the completed partial file and forget the checkpoint."""
        assert self._file is not None
        self._file.close()
        os.replace(self.partial, self.output)
        self.state.unlink(missing_ok=True)

    def discard(self) -> None:
        """Stop with nothing to show: remove the partial file and the state, leave the output as it was."""
        assert self._file is not None
        self._file.close()
        self.partial.unlink(missing_ok=True)
        self.state.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop without finishing (interrupted): the partial file and state stay for the next run."""
        if self._file and not self._file.closed:
            self._file.close()
