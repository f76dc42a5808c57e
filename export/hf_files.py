"""Turn the streamed Arrow files into the two Hugging Face layouts: `save_to_disk` and Parquet under data/.

Both read the Arrow files memory-mapped, batch by batch, so memory does not grow with the corpus.

Byte-identical reruns: `save_to_disk` writes a state.json holding the dataset's `_fingerprint`, which
datasets otherwise derives from file paths and transforms (and, for generator-built datasets, from a
random-looking hash). We pass our own: a hash of the split's Arrow bytes, so it changes exactly when the
split's content (or schema) changes, and a rerun on the same input writes the same state.json.
"""

from __future__ import annotations

import math
from pathlib import Path

from datasets import Dataset, DatasetDict, DatasetInfo, NamedSplit, config
from datasets.table import MemoryMappedTable
from datasets.utils.py_utils import convert_file_size_to_int

from mudawwana.corpus.files import file_sha256

PARQUET_DIR = "data"


def content_fingerprint(path: Path) -> str:
    return file_sha256(path)[:16]  # datasets' fingerprints are 16 hex digits too


def open_split(arrow_path: Path, split: str, info: DatasetInfo) -> Dataset:
    table = MemoryMappedTable.from_file(str(arrow_path))
    return Dataset(table, info=info.copy(), split=NamedSplit(split), fingerprint=content_fingerprint(arrow_path))


def save_dataset_dict(datasets: DatasetDict, out_dir: Path) -> None:
    # num_proc=None: one process writes shards in order; shard count follows the data size (500 MB each).
    datasets.save_to_disk(str(out_dir))


def parquet_files(split: str, num_shards: int) -> list[str]:
    """`data/train-00000-of-00001.parquet`: the names the Hub's loader and viewer recognise."""
    return [f"{PARQUET_DIR}/{split}-{i:05d}-of-{num_shards:05d}.parquet" for i in range(num_shards)]


def save_parquet(dataset: Dataset, split: str, out_dir: Path) -> list[str]:
    """Write one split as Parquet shards of at most datasets' MAX_SHARD_SIZE; returns the relative paths."""
    max_bytes = convert_file_size_to_int(config.MAX_SHARD_SIZE)
    num_shards = max(1, math.ceil(dataset.data.nbytes / max_bytes))
    names = parquet_files(split, num_shards)
    (out_dir / PARQUET_DIR).mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        shard = dataset if num_shards == 1 else dataset.shard(num_shards, index=index, contiguous=True)
        shard.to_parquet(str(out_dir / name))
    return names

