"""`export_corpus`: corrected CoNLL-U -> validated, split Hugging Face dataset + CoNLL-U + dataset card.

One streaming pass over the input: each sentence is assigned its split, validated, and appended to that
split's CoNLL-U file and Arrow table. Then the Arrow tables become `save_to_disk` and Parquet layouts and
the card is written. Everything happens in a staging directory that replaces OUT_DIR only at the end.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import datasets
from datasets import DatasetDict, DatasetInfo, SplitDict, SplitInfo

from mudawwana.corpus.conllu_io import format_sentence, read_conllu
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.data_model import Sentence

from . import schema_mudawwana, schema_ud
from .card import CardInput, build_card
from .errors import ExportError, InvalidSentencesError
from .hf_files import open_split, save_dataset_dict, save_parquet
from .metadata import annotation_meta
from .splits import CONLLU_SPLIT, DEFAULT_RATIOS, SPLITS, document_key, parse_ratios, split_of
from .staging import staged_directory
from .stats import CorpusStats, SplitCounts
from .validate import InvalidSentence, SentenceValidator, schema_problems
from .writer import SplitWriter

SCHEMAS = ("mudawwana", "ud")
PROGRESS_EVERY = 100  # sentences between progress callbacks
_NAME = re.compile(r"^[a-z][a-z0-9]*$")  # UD treebank names: ar_<name>-ud-train.conllu


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    name: str
    schema: str
    splits: dict[str, SplitCounts]  # only the splits that received sentences, in train/validation/test order
    invalid: tuple[InvalidSentence, ...]  # exported despite errors (only with allow_invalid)
    files: tuple[str, ...]  # every file written, relative to out_dir, sorted

    @property
    def sentences(self) -> int:
        return sum(c.sentences for c in self.splits.values())


def conllu_file_name(name: str, split: str) -> str:
    return f"ar_{name}-ud-{CONLLU_SPLIT[split]}.conllu"


def export_corpus(
    conllu_path: str | Path,
    out_dir: str | Path,
    *,
    name: str = "mudawwana",
    schema: str = "mudawwana",
    ratios: str | tuple[float, float, float] = DEFAULT_RATIOS,
    allow_invalid: bool = False,
    source_description: str | None = None,
    license: str = "unknown",
    progress: Callable[[int], None] | None = None,
    pretty_name: str | None = None,
) -> ExportResult:
    """Export `conllu_path` into `out_dir` (replaced as a whole, only if the export succeeds).

    Raises InvalidSentencesError (nothing written) when sentences fail validation and `allow_invalid` is
    false; InputError for an unreadable input; ExportError for bad options.
    `progress(n)` is called every PROGRESS_EVERY sentences read and once at the end.
    """
    conllu_path, out_dir = Path(conllu_path), Path(out_dir)
    ratios = parse_ratios(ratios)
    if not _NAME.match(name):
        raise ExportError(f"--name {name!r}: use lowercase letters and digits, starting with a letter "
                          "(it becomes ar_<name>-ud-train.conllu)")
    if schema not in SCHEMAS:
        raise ExportError(f"--schema {schema!r}: choose one of {', '.join(SCHEMAS)}")
    if not conllu_path.is_file():
        raise InputError(f"{conllu_path}: no such file")
    files = {split: conllu_file_name(name, split) for split in SPLITS}
    features = schema_mudawwana.FEATURES if schema == "mudawwana" else schema_ud.FEATURES
    pretty_name = pretty_name or f"Arabic {name} corpus (mudawwana)"

    with _datasets_quiet(), staged_directory(out_dir) as stage:
        build = stage / ".build"  # the streamed Arrow tables, removed once converted
        build.mkdir()
        writers: dict[str, SplitWriter] = {}
        validator = SentenceValidator(files)
        stats = CorpusStats()
        invalid: list[InvalidSentence] = []
        try:
            n = 0
            for n, sentence in enumerate(read_conllu(conllu_path), 1):
                key = document_key(sentence)
                split = split_of(key, ratios)
                text = format_sentence(sentence)
                meta = annotation_meta(sentence)
                problems = validator.check(split, text) + schema_problems(sentence, meta)
                if problems:
                    invalid.append(InvalidSentence(sentence.sent_id, split, tuple(problems)))
                if split not in writers:
                    writers[split] = SplitWriter(stage / files[split], build / f"{split}.arrow", features)
                writer = writers[split]
                writer.write(text, _row(schema, sentence, writer.rows))
                stats.add(split, key, sentence, meta)
                if progress and n % PROGRESS_EVERY == 0:
                    progress(n)
            if progress:
                progress(n)
            if invalid and not allow_invalid:
                raise InvalidSentencesError(_refusal(invalid, out_dir), invalid)
            if not writers:
                raise InputError(f"{conllu_path}: no sentences to export")
            num_bytes = {split: writers[split].finish() for split in SPLITS if split in writers}
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise

        info = DatasetInfo(description=f"{pretty_name}: Arabic UD and NER annotations, schema '{schema}'.",
                           features=features, license=license)
        dataset_dict = DatasetDict({split: open_split(build / f"{split}.arrow", split, info)
                                    for split in num_bytes})
        save_dataset_dict(dataset_dict, stage)
        parquet_bytes = 0
        for split, dataset in dataset_dict.items():
            for rel in save_parquet(dataset, split, stage):
                parquet_bytes += (stage / rel).stat().st_size
        del dataset_dict  # release the memory maps before removing their files
        shutil.rmtree(build)

        card_info = info.copy()
        card_info.splits = SplitDict()
        for split, size in num_bytes.items():
            card_info.splits.add(SplitInfo(name=split, num_bytes=size, num_examples=stats.splits[split].sentences))
        card_info.dataset_size = sum(num_bytes.values())
        card_info.download_size = parquet_bytes
        card = build_card(CardInput(name=name, pretty_name=pretty_name, schema=schema, license=license,
                                    source_description=source_description, ratios=ratios,
                                    conllu_files=files, info=card_info, stats=stats, invalid=invalid))
        card.save(stage / "README.md")
        written = tuple(sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()))

    return ExportResult(out_dir=out_dir, name=name, schema=schema,
                        splits={s: stats.splits[s] for s in SPLITS if s in stats.splits},
                        invalid=tuple(invalid), files=written)


def _row(schema: str, sentence: Sentence, index_in_split: int) -> dict:
    if schema == "ud":
        return schema_ud.row(sentence, index_in_split)
    return schema_mudawwana.row(sentence)


def _refusal(invalid: list[InvalidSentence], out_dir: Path) -> str:
    shown = "; ".join(f"{item.sent_id or '(no sent_id)'} ({item.split}): {item.problems[0].rstrip('.')}"
                      for item in invalid[:3])
    more = f" (and {len(invalid) - 3} more)" if len(invalid) > 3 else ""
    return (f"{len(invalid)} sentence(s) fail validation, nothing was written to {out_dir}: {shown}{more}. "
            "Fix them, or rerun with --allow-invalid to export them and list them in the card")


@contextmanager
def _datasets_quiet():
    """datasets' own tqdm bars would interleave with ours; restore the caller's setting afterwards."""
    enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if enabled:
            datasets.enable_progress_bars()
