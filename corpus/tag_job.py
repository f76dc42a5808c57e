"""The tag job: input files -> normalized -> stanza -> one CoNLL-U file, resumable, in batches.

Nothing is written that the UD validator rejects: every sentence, after corpus/ud_values.py made the model's
values valid, is checked with `udvalidate --lang ar --level 2`'s code (corpus/ud_validator.py) before its batch
is appended, and a sentence that still fails stops the job (InvalidConlluError naming the sentence, the
validator's rule and its message; the previous output is not replaced). A job that tagged nothing (every
record skipped) does not replace the output either: `TagReport.written` says whether it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .checkpoint import Checkpoint
from .errors import InputError
from .data_model import Document
from .normalize import NormalizationOptions
from .readers import (InputDocument, RawDocument, ReaderOptions, Skip, TokenizedDocument, count_documents,
                      read_documents)
from .from_stanza import batches, tag_raw_documents, tag_tokenized_documents
from .ud_validator import InvalidConlluError, UDValidator, refusal

# Characters of raw text per stanza bulk call: big enough to keep stanza's batches full, small enough
# that a checkpoint is never far behind.
DEFAULT_BATCH_CHARS = 20_000


@dataclass
class TagReport:
    output: Path
    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    words: int = 0
    resumed_documents: int = 0
    skipped: list[Skip] = field(default_factory=list)
    model_version: str = ""
    written: bool = False  # False when nothing was tagged: the output was then left as it was

    @property
    def all_skipped(self) -> bool:
        """Nothing tagged, and records were skipped: the input had nothing usable (the CLI exits 1)."""
        return self.sentences == 0 and bool(self.skipped)


Progress = Callable[[int, int | None], None]  # (documents done, total or None)


def tag_files(inputs: list[str | os.PathLike], output: str | os.PathLike, *, model_dir: str | os.PathLike | None = None,
              device: str = "auto", normalization: NormalizationOptions | None = None,
              reader_options: ReaderOptions | None = None, keep: bool = False,
              batch_chars: int = DEFAULT_BATCH_CHARS, progress: Progress | None = None,
              pipeline=None, model_info=None, workers: int = 1, ray_address: str | None = None,
              gpus_per_worker: float = 1.0) -> TagReport:
    """Tag every input into `output` (CoNLL-U). Rerunning after an interruption resumes.

    `pipeline`/`model_info` may be passed to reuse a loaded stanza pipeline (benchmarks, tests).
    With `keep=True`, CoNLL-U inputs keep their annotations unchanged (e.g. a treebank to revise).
    `workers` > 1 or a `ray_address` tag on Ray Data (corpus/tag_ray.py): `workers` actors, each with the
    pipeline loaded once (`gpus_per_worker` of a GPU each with device cuda); the output, the resuming and the
    skip report are those of one process. Ray actors load the models themselves (from `model_dir`, else the
    directory of `model_info`, else stanza's official package): a `pipeline` passed in is not used there.
    """
    normalization = normalization or NormalizationOptions()
    reader_options = reader_options or ReaderOptions()
    report = TagReport(Path(output))
    missing = [str(p) for p in inputs if not Path(p).exists()]
    if missing:  # before loading a model: a typo should not cost a minute
        raise InputError(f"{missing[0]}: no such file or directory")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    documents = read_documents(inputs, reader_options, report.skipped.append)

    needs_model = not keep or any(not str(p).lower().endswith((".conllu", ".conll")) for p in inputs)
    on_ray = needs_model and (workers > 1 or bool(ray_address))
    if on_ray:
        from . import tag_ray

        tag_ray.import_ray("--ray-address" if workers == 1 else "--workers > 1")  # before a model is loaded
        if model_info is None:
            model_info = tag_ray.driver_model_info(Path(model_dir) if model_dir else None, device)
    elif needs_model and pipeline is None:
        from .stanza_models import load_pipeline

        pipeline, model_info = load_pipeline(Path(model_dir) if model_dir else None, device=device)
    if needs_model:
        report.model_version = model_info.model_version
    loaded: dict = {}

    def tokenized_pipeline():
        """A pipeline for already tokenized input, from the same models (loaded on first need)."""
        if "nlp" not in loaded:
            from .stanza_models import load_pipeline

            loaded["nlp"] = load_pipeline(_model_source(model_dir, model_info), device=device, pretokenized=True)[0]
        return loaded["nlp"]

    fingerprint = _fingerprint(inputs, report.model_version, normalization, reader_options, keep)
    checkpoint = Checkpoint.open(output, fingerprint)
    report.resumed_documents = checkpoint.done_documents
    # One validator for the whole output file, as `udvalidate` reads it: it knows the sent_ids written so far.
    validator = UDValidator(str(output), known_sent_ids=checkpoint.written_sent_ids())
    total = count_documents(inputs, reader_options)
    done, resumed = 0, checkpoint.done_documents

    def pending() -> Iterator[tuple[int, list[InputDocument]]]:
        """(batch size, its documents still to tag) for every batch an earlier run did not finish.

        It counts its own position: on Ray it reads a window of batches ahead of what has been written."""
        nonlocal done
        start = 0
        for batch in batches(documents, _size, batch_chars):
            end = start + len(batch)
            if end <= resumed:  # finished in an earlier run
                done = end
                _progress(progress, done, total)
            else:
                yield len(batch), batch[max(0, resumed - start):]
            start = end

    if on_ray:
        source = _model_source(model_dir, model_info)
        tagged = tag_ray.RayTagger(
            tag_ray.RaySettings(workers, ray_address, device, gpus_per_worker), model_dir=source,
            model_version=report.model_version, keep=keep, normalization=normalization, size_of=_size,
        ).tag(pending())
    else:
        tagged = ((n, todo, _tag_batch(todo, pipeline, keep, normalization, report.model_version,
                                       tokenized_pipeline)) for n, todo in pending())
    try:
        for n, todo, tagged_documents in tagged:
            sentences = []
            for source_doc, document in zip(todo, tagged_documents):
                for sentence in document.sentences:
                    _require_valid(validator, sentence, source_doc, Path(output))
                sentences.extend(document.sentences)
            report.tokens += sum(len(s.tokens) for s in sentences)
            report.words += sum(len(s.words) for s in sentences)
            checkpoint.write(sentences, len(todo))
            done += n
            _progress(progress, done, total)
        if checkpoint.sentences:
            checkpoint.finish()
            report.written = True
        else:
            checkpoint.discard()  # nothing tagged: an empty file must not replace the output or look like one
    finally:
        tagged.close()  # an interrupted Ray job stops its workers here
        checkpoint.close()
    report.documents = done
    report.sentences = checkpoint.sentences
    return report


def _model_source(model_dir, model_info) -> Path | None:
    """Where more pipelines (tokenized input, Ray workers) load the models from: `model_dir`, else the directory
    of a pipeline handed in when it is one of ours, else None (stanza's official package). Absolute: Ray
    workers do not share our cwd."""
    if model_dir:
        return Path(model_dir).resolve()
    if model_info and model_info.path and (model_info.path / "manifest.json").exists():
        return Path(model_info.path).resolve()
    return None


_PARAGRAPH = re.compile(r"-p(\d+)-s\d+$")


def _require_valid(validator: UDValidator, sentence, source: InputDocument, output: Path) -> None:
    """Raise InvalidConlluError, saying where the sentence came from and what to do, unless it is valid."""
    problems = validator.check(sentence)
    if not problems:
        return
    kept = f"{output} was not written"
    if problems[0].testid == "non-unique-sent-id":
        fix = (f"two inputs give the same document id {sentence.doc_id!r} (ids come from file names or the id "
               f"field): rename one or tag them separately; {kept}")
    elif isinstance(source, TokenizedDocument):
        fix = f"fix that sentence in {source.source} and rerun; {kept}"
    else:
        where = _paragraph_line(source, sentence.sent_id)
        fix = (f"this is a mudawwana bug (the model's output for {where} could not be made valid), please "
               f"report it with that text; remove the text from the input to tag the rest; {kept}")
    raise InvalidConlluError(refusal(sentence.sent_id, problems, fix), sentence.sent_id, problems)


def _paragraph_line(doc: RawDocument, sent_id: str | None) -> str:
    """`FILE:LINE` of the paragraph a raw-text sentence came from (its id says which paragraph)."""
    match = _PARAGRAPH.search(sent_id or "")
    k = int(match.group(1)) if match else 0
    if 1 <= k <= len(doc.paragraphs):
        return f"{doc.source}:{doc.paragraphs[k - 1].line}"
    return doc.source


def _tag_batch(docs, raw_pipeline, keep, normalization, model_version, get_tokenized_pipeline) -> Iterator[Document]:
    """Tagged Documents for a batch of input documents, in input order."""
    raw = [d for d in docs if not isinstance(d, TokenizedDocument)]
    results = {}
    if raw:
        for doc, tagged in zip(raw, tag_raw_documents(raw_pipeline, raw, normalization, model_version)):
            results[id(doc)] = tagged
    tokenized = [d for d in docs if isinstance(d, TokenizedDocument)]
    if tokenized and keep:
        for doc in tokenized:
            results[id(doc)] = Document(doc.doc_id, "\n".join(s.text for s in doc.sentences), doc.sentences)
    elif tokenized:
        for doc, tagged in zip(tokenized, tag_tokenized_documents(get_tokenized_pipeline(), tokenized,
                                                                   model_version)):
            results[id(doc)] = tagged
    for doc in docs:
        yield results[id(doc)]


def _size(doc) -> int:
    if isinstance(doc, TokenizedDocument):
        return sum(len(s.text) for s in doc.sentences)
    return sum(len(p.text) for p in doc.paragraphs)


def _progress(progress: Progress | None, done: int, total: int | None) -> None:
    if progress:
        progress(done, total)


def _fingerprint(inputs, model_version, normalization, reader_options, keep) -> str:
    """What identifies a job: resuming is only safe when all of it is unchanged."""
    parts = {
        "inputs": [[str(Path(p).resolve()), _file_signature(Path(p))] for p in inputs],
        "model": model_version, "normalization": normalization.describe(),
        "reader": vars(reader_options), "keep": keep,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _file_signature(path: Path) -> list:
    if not path.exists():
        return []
    if path.is_dir():
        return sorted([str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
                      for p in path.rglob("*") if p.is_file())
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]
