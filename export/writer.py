"""Streaming writers for one split: its CoNLL-U file and its Arrow table, appended sentence by sentence.

We drive `datasets.arrow_writer.ArrowWriter` ourselves rather than `Dataset.from_generator`: the latter
fingerprints the generator function, writes into the shared HF cache and names files after that
fingerprint; the writer flushes every WRITER_BATCH_SIZE rows, so memory stays flat, and its output depends
only on the rows.

Rows travel as `RowCodec` tuples: a column per feature, a list of structs (`words`, `tokens`, `entities`) as one
tuple per struct field rather than one dict per item, strings as UTF-8 bytes. That is what the export's sentence
cache keeps (export/sentence_cache.py: unmarshalling it is ~4x faster than dicts of str), and each batch of them
becomes Arrow arrays with the features' own Arrow types, without datasets' per-batch type inference and cast
(`ArrowWriter.write`): about twice as fast, the same bytes (tests/export/test_incremental.py).
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
    """Dataset rows (dicts, as the schema modules make them) <-> tuples of columns, and tuples -> Arrow arrays.

    Strings travel as their UTF-8 bytes: unmarshalled as bytes and handed to Arrow as binary (then cast to string,
    which only checks them), they cost less than half of what str objects do, both ways."""

    def __init__(self, features: Features) -> None:
        self._columns = []  # (name, Arrow type, kind): "s" string, "ls" list of strings, a tuple (list of structs:
        # for each field whether it is a string), None anything else
        for field in features.arrow_schema:
            type_ = field.type
            item = type_.value_type if pa.types.is_list(type_) else None
            if pa.types.is_string(type_):
                kind = "s"
            elif item is not None and pa.types.is_string(item):
                kind = "ls"
            elif item is not None and pa.types.is_struct(item):
                kind = tuple(pa.types.is_string(f.type) for f in item)
            else:
                kind = None
            self._columns.append((field.name, type_, kind))

    def encode(self, row: dict) -> tuple:
        out = []
        for name, type_, kind in self._columns:
            value = row[name]
            if value is None or kind is None:
                pass
            elif kind == "s":
                value = _utf8(value)
            elif kind == "ls":
                value = tuple(_utf8(v) for v in value)
            else:
                keys = [f.name for f in type_.value_type]
                value = (len(value), *(tuple(_utf8(item[key]) for item in value) if is_string
                                       else tuple(item[key] for item in value) for key, is_string in zip(keys, kind)))
            out.append(value)
        return tuple(out)

    def arrays(self, rows: list[tuple]) -> dict[str, pa.Array]:
        """The batch's columns, with the features' Arrow types."""
        columns = {}
        for i, (name, type_, kind) in enumerate(self._columns):
            values = [row[i] for row in rows]
            if kind == "s":
                columns[name] = _strings(values)
            elif kind == "ls":
                columns[name] = pa.array(values, type=pa.list_(pa.binary())).cast(type_)
            elif kind is not None:
                columns[name] = _list_of_structs(values, type_, kind)
            else:
                columns[name] = pa.array(values, type=type_)
        return columns


def _utf8(value):
    return value.encode("utf-8") if value.__class__ is str else value


def _strings(values: list) -> pa.Array:
    return pa.array(values, type=pa.binary()).cast(pa.string())  # the cast checks the UTF-8, copies nothing


def _list_of_structs(values: list, type_: pa.ListType, kind: tuple[bool, ...]) -> pa.Array:
    offsets, flat, nulls, total = [0], [[] for _ in kind], [], 0
    for value in values:
        if value is None:
            nulls.append(len(offsets) - 1)
        else:
            total += value[0]
            for column, items in zip(flat, value[1:]):
                column.extend(items)
        offsets.append(total)
    item = type_.value_type
    children = [_strings(column) if is_string else pa.array(column, type=item.field(k).type)
                for k, (column, is_string) in enumerate(zip(flat, kind))]
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
