"""Streaming writers for one split: its CoNLL-U file and its Arrow table, appended sentence by sentence.

We drive `datasets.arrow_writer.ArrowWriter` ourselves rather than `Dataset.from_generator`: the latter
fingerprints the generator function, writes into the shared HF cache and names files after that
fingerprint; the writer flushes every WRITER_BATCH_SIZE rows, so memory stays flat, and its output depends
only on the rows.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from datasets import Features
from datasets.arrow_writer import ArrowWriter

from mudawwana.corpus.files import atomic_writer

WRITER_BATCH_SIZE = 1000  # rows held in memory before a record batch is written; fixed, so bytes are too


class SplitWriter:
    def __init__(self, conllu_path: Path, arrow_path: Path, features: Features) -> None:
        self.arrow_path = arrow_path
        self._stack = contextlib.ExitStack()
        self._conllu = self._stack.enter_context(atomic_writer(conllu_path))
        self._arrow = ArrowWriter(features=features, path=str(arrow_path), writer_batch_size=WRITER_BATCH_SIZE)
        self._stack.callback(self._arrow.close)
        self.rows = 0

    def write(self, conllu_text: str, row: dict) -> None:
        self._conllu.write(conllu_text)
        self._arrow.write(row)
        self.rows += 1

    def finish(self) -> int:
        """Flush both files; returns the Arrow data size in bytes (for the card's dataset_info)."""
        _, num_bytes = self._arrow.finalize()
        self._stack.close()
        return num_bytes

    def abort(self) -> None:
        """Close the files after a failure; they live in the staging directory, which is then removed."""
        with contextlib.suppress(Exception):
            self._stack.close()
