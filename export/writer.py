"""Streaming writers for one split: its CoNLL-U file and its Arrow table, appended sentence by sentence.

We drive `datasets.arrow_writer.ArrowWriter` ourselves rather than `Dataset.from_generator`: the latter
fingerprints the generator function, writes into the shared HF cache and names files after that
fingerprint; the writer flushes every WRITER_BATCH_SIZE rows, so memory stays flat, and its output depends
only on the rows.

Rows travel as `RowCodec` tuples: a column per feature, and a list of structs (`words`, `tokens`, `entities`) as
one tuple per struct field rather than one dict per item. That is what the export's sentence cache keeps
(export/sentence_cache.py: unmarshalling it is ~3x faster than dicts), and each batch of them becomes Arrow arrays
with the features' own Arrow types, without datasets' per-batch type inference and cast (`ArrowWriter.write`):
about twice as fast, the same bytes (tests/export/test_incremental.py).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pyarrow as pa
from datasets import Features
from datasets.arrow_writer import ArrowWriter

from mudawwana.corpus.files import atomic_writer

WRITER_BATCH_SIZE = 1000  # rows held in memory before a record batch is written; fixed, so bytes are too


class RowCodec:
    """Dataset rows (dicts, as the schema modules make them) <-> tuples of columns, and tuples -> Arrow arrays."""

    def __init__(self, features: Features) -> None:
        self._columns = []  # (name, Arrow type, struct field names or None)
        for field in features.arrow_schema:
            item = field.type.value_type if pa.types.is_list(field.type) else None
            struct = [f.name for f in item] if item is not None and pa.types.is_struct(item) else None
            self._columns.append((field.name, field.type, struct))

    def encode(self, row: dict) -> tuple:
        out = []
        for name, _, struct in self._columns:
            value = row[name]
            if struct is not None and value is not None:
                value = (len(value), *(tuple(item[key] for item in value) for key in struct))
            out.append(value)
        return tuple(out)

    def arrays(self, rows: list[tuple]) -> dict[str, pa.Array]:
        """The batch's columns, with the features' Arrow types."""
        columns = {}
        for i, (name, type_, struct) in enumerate(self._columns):
            values = [row[i] for row in rows]
            columns[name] = _list_of_structs(values, type_, len(struct)) if struct is not None \
                else pa.array(values, type=type_)
        return columns


def _list_of_structs(values: list, type_: pa.ListType, n_fields: int) -> pa.Array:
    offsets, flat, nulls, total = [0], [[] for _ in range(n_fields)], [], 0
    for value in values:
        if value is None:
            nulls.append(len(offsets) - 1)
        else:
            total += value[0]
            for column, items in zip(flat, value[1:]):
                column.extend(items)
        offsets.append(total)
    item = type_.value_type
    children = [pa.array(column, type=item.field(k).type) for k, column in enumerate(flat)]
    structs = pa.StructArray.from_arrays(children, fields=list(item))
    mask = None
    if nulls:
        mask = [False] * len(values)
        for k in nulls:
            mask[k] = True
        mask = pa.array(mask)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), structs, type=type_, mask=mask)


class SplitWriter:
    def __init__(self, conllu_path: Path, arrow_path: Path, features: Features,
                 codec: RowCodec | None = None) -> None:
        self.arrow_path = arrow_path
        self.codec = codec or RowCodec(features)
        self._stack = contextlib.ExitStack()
        self._conllu = self._stack.enter_context(atomic_writer(conllu_path))
        self._arrow = ArrowWriter(features=features, path=str(arrow_path), writer_batch_size=WRITER_BATCH_SIZE)
        self._stack.callback(self._arrow.close)
        self._rows: list[tuple] = []
        self.rows = 0

    def write(self, conllu_text: str, row: tuple) -> None:
        """`row` encoded by the codec."""
        self._conllu.write(conllu_text)
        self._rows.append(row)
        self.rows += 1
        if len(self._rows) >= WRITER_BATCH_SIZE:
            self._write_batch()

    def _write_batch(self) -> None:
        rows, self._rows = self._rows, []
        if rows:
            self._arrow.write_batch(self.codec.arrays(rows))

    def finish(self) -> int:
        """Flush both files; returns the Arrow data size in bytes (for the card's dataset_info)."""
        self._write_batch()
        _, num_bytes = self._arrow.finalize()
        self._stack.close()
        return num_bytes

    def abort(self) -> None:
        """Close the files after a failure; they live in the staging directory, which is then removed."""
        with contextlib.suppress(Exception):
            self._stack.close()
