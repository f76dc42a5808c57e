"""`export_corpus`: corrected CoNLL-U -> validated, split Hugging Face dataset + CoNLL-U + dataset card.

Four steps, each a function below, all inside a staging directory that replaces OUT_DIR only at the end:

1. `_read_and_check`: read the input one sentence at a time, assign its split, validate it and encode its
   dataset row (a generator: nothing is held in memory);
2. `_write_splits`: append each sentence to its split's CoNLL-U file and Arrow table, gathering the
   card's counts and the invalid sentences; `_refuse` then stops an export with invalid sentences;
3. `_write_dataset`: turn the Arrow tables into the `save_to_disk` and Parquet layouts;
4. `_write_card`: the dataset card (README.md).

Step 1 reads each sentence's work from the sentence cache (export/sentence_cache.py) when an earlier export did it
for the same text: then the sentence is neither parsed nor validated again (export/validate.py replays its
validation in its place), and only the sentences that changed cost what a full export costs per sentence. The
files are the same with and without the cache.
"""

from __future__ import annotations

import logging
import re
import shutil
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import datasets
from datasets import DatasetDict, DatasetInfo, Features, SplitDict, SplitInfo

from mudawwana.corpus import conllu_io
from mudawwana.corpus.conllu_io import ConlluError, format_sentence
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.data_model import Sentence

from . import schema_mudawwana, schema_ud
from .card import CardInput, build_card
from .errors import ExportError, InvalidSentencesError
from .hf_files import open_split, save_dataset_dict, save_parquet
from .metadata import AnnotationMeta, annotation_meta
from .sentence_cache import SentenceCache, context, default_cache_path
from .splits import CONLLU_SPLIT, DEFAULT_RATIOS, SPLITS, document_key, parse_ratios, split_of
from .staging import staged_directory
from .stats import CorpusStats, SplitCounts, upos_of
from .validate import (AUDITED_UDTOOLS, UD_LANG, UD_LEVEL, InvalidSentence, SentenceValidator, schema_problems,
                       udtools_version)
from .writer import RowCodec, SplitWriter

log = logging.getLogger(__name__)

SCHEMAS = ("mudawwana", "ud")
PROGRESS_EVERY = 100  # sentences between progress callbacks
_NAME = re.compile(r"^[a-z][a-z0-9]*$")  # UD treebank names: ar_<name>-ud-train.conllu
_BUILD = ".build"  # in the staging directory: the streamed Arrow tables, removed once converted


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
    cache: str | Path | bool | None = None,
) -> ExportResult:
    """Export `conllu_path` into `out_dir` (replaced as a whole, only if the export succeeds).

    Raises InvalidSentencesError (nothing written) when sentences fail validation and `allow_invalid` is
    false; InputError for an unreadable input; ExportError for bad options, and with schema "ud" for a
    sentence that conllu (so the HF loader) cannot parse, even with `allow_invalid`.
    `progress(n)` is called every PROGRESS_EVERY sentences read and once at the end.
    `cache`: the sentence cache file (export/sentence_cache.py); None for the default beside `out_dir`
    (`.NAME-export-cache.sqlite`), False for none. It changes how long an export takes, never what it writes.
    """
    conllu_path, out_dir = Path(conllu_path), Path(out_dir)
    ratios = parse_ratios(ratios)
    _check_options(conllu_path, name, schema)
    files = {split: conllu_file_name(name, split) for split in SPLITS}
    features = schema_mudawwana.FEATURES if schema == "mudawwana" else schema_ud.FEATURES
    pretty_name = pretty_name or f"Arabic {name} corpus (mudawwana)"
    info = DatasetInfo(description=f"{pretty_name}: Arabic UD and NER annotations, schema '{schema}'.",
                       features=features, license=license)

    sentence_cache = _open_cache(cache, out_dir, schema)
    succeeded = False
    try:
        with _datasets_quiet(), staged_directory(out_dir) as stage:
            (stage / _BUILD).mkdir()
            checked = _read_and_check(conllu_path, schema, ratios, files, sentence_cache)
            splits = _write_splits(checked, stage, files, features, progress)
            if sentence_cache is not None:
                sentence_cache.finish()  # the whole input was read: also when the export is refused below
            _refuse(splits, allow_invalid, conllu_path, out_dir)
            parquet_bytes = _write_dataset(stage, info, splits.num_bytes)
            _write_card(stage, CardInput(name=name, pretty_name=pretty_name, schema=schema, license=license,
                                         source_description=source_description, ratios=ratios, conllu_files=files,
                                         info=_sized_info(info, splits, parquet_bytes), stats=splits.stats,
                                         invalid=splits.invalid))
            written = tuple(sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()))
        succeeded = True
    finally:
        if sentence_cache is not None:
            sentence_cache.close(succeeded=succeeded)
            log.info("sentence cache %s: %d sentences from the cache, %d done afresh", sentence_cache.path,
                     sentence_cache.hits, sentence_cache.misses)

    return ExportResult(out_dir=out_dir, name=name, schema=schema,
                        splits={s: splits.stats.splits[s] for s in SPLITS if s in splits.stats.splits},
                        invalid=tuple(splits.invalid), files=written)


def _check_options(conllu_path: Path, name: str, schema: str) -> None:
    if not _NAME.match(name):
        raise ExportError(f"--name {name!r}: use lowercase letters and digits, starting with a letter "
                          "(it becomes ar_<name>-ud-train.conllu)")
    if schema not in SCHEMAS:
        raise ExportError(f"--schema {schema!r}: choose one of {', '.join(SCHEMAS)}")
    if not conllu_path.is_file():
        raise InputError(f"{conllu_path}: no such file")


# Step 1: read, split, validate, encode.

def _open_cache(cache: str | Path | bool | None, out_dir: Path, schema: str) -> SentenceCache | None:
    if cache is False or udtools_version() not in AUDITED_UDTOOLS:  # no replays: nothing to cache
        return None
    path = default_cache_path(out_dir) if cache is None or cache is True else Path(cache)
    opened = SentenceCache(path, context(schema, UD_LANG, UD_LEVEL))
    return opened if opened.usable else None


@dataclass(frozen=True)
class _Checked:
    """One input sentence, assigned to its split, validated and encoded."""
    sent_id: str | None
    doc_id: str | None  # carried by the reader to the next sentence
    split: str
    doc_key: str
    conllu_text: str  # exactly what goes into the split's CoNLL-U file
    meta: AnnotationMeta
    tokens: int
    upos: tuple[str, ...]  # one per syntactic word
    problems: tuple[str, ...]  # empty for a valid sentence
    row: tuple | None  # the dataset row (writer.RowCodec); None when the schema cannot encode it (one of `problems`)


def _read_and_check(conllu_path: Path, schema: str, ratios: tuple[float, float, float], files: dict[str, str],
                    cache: SentenceCache | None = None) -> Iterator[_Checked]:
    validator = SentenceValidator(files, record=cache is not None)
    if not validator.replayable:
        cache = None
    codec = RowCodec(schema_mudawwana.FEATURES if schema == "mudawwana" else schema_ud.FEATURES)
    rows_in_split = dict.fromkeys(SPLITS, 0)
    split_of_key: dict[str, str] = {}  # the last document's: consecutive sentences share one
    doc_id: str | None = None  # the document id the reader carries to the next sentence
    name = str(conllu_path)
    for batch in _batches(_blocks(conllu_path), LOOKUP_BATCH if cache is not None else 1):
        if cache is not None:
            texts = ["\n".join(lines) for _, lines in batch]
            keys = [cache.key(text) for text in texts]
            found = cache.get_many(keys)
        for i, (first_line, lines) in enumerate(batch):
            entry = found.get(keys[i]) if cache is not None else None
            # An entry holds for this place if the sentence names its document or carries the same one.
            if entry is not None and (entry[_E_NEWDOC] or entry[_E_DOC_ID] == doc_id):
                item = _from_entry(entry, texts[i], validator, ratios, split_of_key)
            else:
                block = list(enumerate(lines, first_line))
                sentence = conllu_io._parse_block(block, name, doc_id)  # what read_conllu yields for the block
                item, entry = _check(sentence, schema, ratios, validator, rows_in_split, codec)
                if cache is not None and entry is not None:
                    cache.put(keys[i], entry if item.conllu_text != texts[i] + "\n\n" else (None, *entry[1:]))
            rows_in_split[item.split] += 1
            doc_id = item.doc_id
            yield item


LOOKUP_BATCH = 200  # sentences looked up in the cache in one query
_E_DOC_ID, _E_NEWDOC = 2, 3  # positions in a cache entry (see `_check`)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _blocks(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The input's sentences as (number of their first line, their lines), delimited exactly as corpus/conllu_io.py's
    read_conllu delimits them (with its errors for a missing or non-UTF-8 file): lines are consecutive within a
    sentence, which ends at an empty or all-whitespace line. tests/export/test_incremental.py checks the two agree."""
    name = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            lines: list[str] = []
            first = 0
            for lineno, raw in enumerate(f, 1):
                line = raw.rstrip("\r\n")
                if not line or line.isspace():  # line.strip() == ""
                    if lines:
                        yield first, lines
                        lines = []
                    continue
                if not lines:
                    first = lineno
                lines.append(line)
            if lines:
                yield first, lines
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(f"{name}: no such file (expected a CoNLL-U file)") from None
    except UnicodeDecodeError as e:
        raise ConlluError(f"{name}: not UTF-8 ({e.reason} at byte {e.start})") from None


def _check(sentence: Sentence, schema: str, ratios: tuple[float, float, float], validator: SentenceValidator,
           rows_in_split: dict[str, int], codec: RowCodec) -> tuple[_Checked, tuple | None]:
    """A sentence done afresh, and its cache entry (None: not to be cached)."""
    key = document_key(sentence)
    split = split_of(key, ratios)
    text = format_sentence(sentence)
    meta = annotation_meta(sentence)
    ud_problems, validation = validator.check_recorded(split, text)
    other = schema_problems(sentence, meta)
    index = rows_in_split[split]
    try:
        row = _row(schema, sentence, index, text)
    except schema_ud.LoaderCannotRead as e:
        row = None
        other.append(str(e))
    item = _Checked(sentence.sent_id, sentence.doc_id, split, key, text, meta, len(sentence.tokens),
                    upos_of(sentence), tuple(ud_problems + other), None if row is None else codec.encode(row))
    # A ud row's idx is its place in the split when the sentence has no sent_id: such a row is not reusable.
    if validation is None or (row is not None and schema == "ud" and row["idx"] == str(index)
                              and _row(schema, sentence, index + 1, text)["idx"] != row["idx"]):
        return item, None
    names_document = any(conllu_io._NEWDOC.match(c) for c in sentence.comments)  # the reader's own test
    return item, (text, item.sent_id, item.doc_id, names_document, key, astuple(meta), item.tokens, item.upos,
                  validation, tuple(other), item.row)


def _from_entry(entry: tuple, text: str, validator: SentenceValidator, ratios: tuple[float, float, float],
                split_of_key: dict[str, str]) -> _Checked:
    """A sentence from its cache entry (see `_check`); `text` is its input lines joined with LF."""
    conllu_text, sent_id, doc_id, _, key, meta, tokens, upos, validation, other, row = entry
    if conllu_text is None:
        conllu_text = text + "\n\n"
    split = split_of_key.get(key)
    if split is None:
        split_of_key.clear()
        split = split_of_key[key] = split_of(key, ratios)
    problems = validator.replay(split, conllu_text, validation) + list(other)
    return _Checked(sent_id, doc_id, split, key, conllu_text, AnnotationMeta(*meta), tokens, upos, tuple(problems),
                    row)


def _row(schema: str, sentence: Sentence, index_in_split: int, conllu_text: str) -> dict:
    if schema == "ud":
        return schema_ud.row(sentence, index_in_split, conllu_text)
    return schema_mudawwana.row(sentence)


# Step 2: write the splits' CoNLL-U files and Arrow tables.

@dataclass
class _Splits:
    stats: CorpusStats = field(default_factory=CorpusStats)
    invalid: list[InvalidSentence] = field(default_factory=list)
    unencodable: list[InvalidSentence] = field(default_factory=list)  # invalid ones without a row (not written)
    num_bytes: dict[str, int] = field(default_factory=dict)  # split -> Arrow data size, train/validation/test order


def _write_splits(checked: Iterable[_Checked], stage: Path, files: dict[str, str], features: Features,
                  progress: Callable[[int], None] | None) -> _Splits:
    out = _Splits()
    writers: dict[str, SplitWriter] = {}
    try:
        n = 0
        for n, item in enumerate(checked, 1):
            if item.problems:
                out.invalid.append(InvalidSentence(item.sent_id, item.split, item.problems))
                if item.row is None:  # the schema's reason is the last problem
                    out.unencodable.append(InvalidSentence(item.sent_id, item.split, item.problems[-1:]))
            if item.split not in writers:
                writers[item.split] = SplitWriter(stage / files[item.split],
                                                  stage / _BUILD / f"{item.split}.arrow", features)
            if item.row is not None:
                writers[item.split].write(item.conllu_text, item.row)
            out.stats.add_counts(item.split, item.doc_key, item.tokens, item.upos, item.meta)
            if progress and n % PROGRESS_EVERY == 0:
                progress(n)
        if progress:
            progress(n)
        out.num_bytes = {split: writers[split].finish() for split in SPLITS if split in writers}
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return out


def _refuse(splits: _Splits, allow_invalid: bool, conllu_path: Path, out_dir: Path) -> None:
    """Stop the export (the staging directory is then removed) unless every sentence may be published."""
    if splits.invalid and not allow_invalid:
        raise InvalidSentencesError(_refusal(splits.invalid, out_dir), splits.invalid)
    if splits.unencodable:
        raise ExportError(f"{len(splits.unencodable)} sentence(s) cannot be exported with --schema ud even with "
                          f"--allow-invalid, nothing was written to {out_dir}: {_listing(splits.unencodable)}. "
                          "Fix them, or export with --schema mudawwana")
    if not splits.num_bytes:
        raise InputError(f"{conllu_path}: no sentences to export")


def _refusal(invalid: list[InvalidSentence], out_dir: Path) -> str:
    return (f"{len(invalid)} sentence(s) fail validation, nothing was written to {out_dir}: {_listing(invalid)}. "
            "Fix them, or rerun with --allow-invalid to export them and list them in the card")


def _listing(invalid: list[InvalidSentence]) -> str:
    shown = "; ".join(f"{item.sent_id or '(no sent_id)'} ({item.split}): {item.problems[0].rstrip('.')}"
                      for item in invalid[:3])
    more = f" (and {len(invalid) - 3} more)" if len(invalid) > 3 else ""
    return f"{shown}{more}"


# Step 3: the Hugging Face layouts.

def _write_dataset(stage: Path, info: DatasetInfo, num_bytes: dict[str, int]) -> int:
    """`save_to_disk` files and Parquet shards from the streamed Arrow tables; returns the Parquet bytes."""
    build = stage / _BUILD
    dataset_dict = DatasetDict({split: open_split(build / f"{split}.arrow", split, info) for split in num_bytes})
    save_dataset_dict(dataset_dict, stage)
    parquet_bytes = 0
    for split, dataset in dataset_dict.items():
        for rel in save_parquet(dataset, split, stage):
            parquet_bytes += (stage / rel).stat().st_size
    del dataset_dict  # release the memory maps before removing their files
    shutil.rmtree(build)
    return parquet_bytes


# Step 4: the dataset card.

def _sized_info(info: DatasetInfo, splits: _Splits, parquet_bytes: int) -> DatasetInfo:
    """`info` with the per-split sizes the card's YAML `dataset_info` records."""
    sized = info.copy()
    sized.splits = SplitDict()
    for split, size in splits.num_bytes.items():
        sized.splits.add(SplitInfo(name=split, num_bytes=size, num_examples=splits.stats.splits[split].sentences))
    sized.dataset_size = sum(splits.num_bytes.values())
    sized.download_size = parquet_bytes
    return sized


def _write_card(stage: Path, card: CardInput) -> None:
    build_card(card).save(stage / "README.md")


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
