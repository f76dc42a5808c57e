"""The dataset card (README.md): Hub YAML metadata and a description built only from the corpus itself.

Nothing time- or machine-dependent goes in (no dates, no paths, no random ids): a rerun on the same input
must write the same bytes. Every list is sorted.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from datasets import DatasetInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from mudawwana.corpus.data_model import UPOS_TAGS

from .hf_files import PARQUET_DIR
from .splits import SPLITS
from .stats import CorpusStats
from .validate import UD_LANG, UD_LEVEL, InvalidSentence

_SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]


@dataclass(frozen=True)
class CardInput:
    name: str
    pretty_name: str
    schema: str
    license: str
    source_description: str | None
    ratios: tuple[float, float, float]
    conllu_files: dict[str, str]  # split -> file name
    info: DatasetInfo  # features and per-split sizes, for the YAML `dataset_info`
    stats: CorpusStats
    invalid: list[InvalidSentence]
    # `mudawwana report`'s rounds.json (annotate/edit_rates.py build_report): the edit rates per model and the
    # retraining rounds, rendered under "How the corpus was made". None: see training_report() below.
    training_report: dict | None = None
    # Annotated sentences left out of the corpus because their annotations could not be mapped back (the pull's
    # PullReport.left_out); None: not known (the corpus did not come from a pull). See left_out_sentences() below.
    left_out: int | None = None


# The report for cards built while this is set (`mudawwana export --report`), for callers that build a CardInput
# without the field (export_job.export_corpus does not take a report yet).
_TRAINING_REPORT: ContextVar[dict | None] = ContextVar("training_report", default=None)


# The left-out count for cards built while this is set (`mudawwana export`, from its pull), like _TRAINING_REPORT.
_LEFT_OUT: ContextVar[int | None] = ContextVar("left_out", default=None)


@contextmanager
def left_out_sentences(n: int | None) -> Iterator[None]:
    """Cards built inside count `n` annotated sentences left out (unmappable) unless their CardInput says."""
    token = _LEFT_OUT.set(n)
    try:
        yield
    finally:
        _LEFT_OUT.reset(token)


@contextmanager
def training_report(report: dict | None) -> Iterator[None]:
    """Cards built inside get `report` (rounds.json of `mudawwana report`) unless their CardInput has its own."""
    token = _TRAINING_REPORT.set(report)
    try:
        yield
    finally:
        _TRAINING_REPORT.reset(token)


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZE_CATEGORIES if n < limit), "n>1B")


def build_card(c: CardInput) -> DatasetCard:
    splits = [s for s in SPLITS if s in c.stats.splits]
    data = DatasetCardData(
        language=["ar"],
        license=c.license,
        task_categories=["token-classification"],
        task_ids=["part-of-speech", "named-entity-recognition", "parsing"],
        size_categories=[size_category(c.stats.sentences)],
        pretty_name=c.pretty_name,
        # Explicit configs: OUT_DIR also holds save_to_disk's Arrow files and the CoNLL-U files, which
        # must not be mistaken for data files by the Hub's automatic detection.
        configs=[{"config_name": "default",
                  "data_files": [{"split": s, "path": f"{PARQUET_DIR}/{s}-*"} for s in splits]}],
    )
    DatasetInfosDict({"default": c.info}).to_dataset_card_data(data)
    body = "\n".join(_body(c, splits))
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


def _body(c: CardInput, splits: list[str]) -> list[str]:
    s = c.stats
    out = [f"# {c.pretty_name}", "",
           f"An Arabic corpus annotated with Universal Dependencies (lemmas, UPOS, features, dependency trees) "
           f"and named entities, {s.sentences:,} sentences, made with mudawwana (stanza pre-annotation, "
           "correction in Label Studio, export).", ""]
    out += _files(c, splits) + _splits(c, splits) + _schema(c) + _upos(s) + _making(s) + _left_out(c) + _rounds(c)
    out += _validation(c)
    out += ["## Source and license", "",
            c.source_description or "The source of the text was not given (`--source`).", "",
            f"License: `{c.license}`." + (" Set it with `--license`." if c.license == "unknown" else ""), ""]
    return out


def _files(c: CardInput, splits: list[str]) -> list[str]:
    out = ["## Files and loading", "",
           "- `data/{split}-NNNNN-of-NNNNN.parquet`: the splits as Parquet (what the Hub viewer and "
           "`load_dataset` read);",
           "- `train/`, `validation/`, `test/`, `dataset_dict.json`: the same `DatasetDict` for "
           "`datasets.load_from_disk`;",
           "- " + ", ".join(f"`{c.conllu_files[x]}`" for x in splits)
           + ": the same sentences as CoNLL-U, with all comments (UD file naming: `dev` = validation).", "",
           "```python", "from datasets import load_dataset, load_from_disk",
           'ds = load_dataset("parquet", data_dir="OUT_DIR/data")  # or load_dataset("USER/REPO") on the Hub',
           'ds = load_from_disk("OUT_DIR")', "```", ""]
    return out


def _splits(c: CardInput, splits: list[str]) -> list[str]:
    out = ["## Splits", "",
           f"By document, never splitting one: sha256 of the document id, read as a number in [0, 1), against "
           f"the cumulative ratios {', '.join(f'{r:g}' for r in c.ratios)} (train, validation, test). Adding "
           "documents never moves existing ones. A sentence without `# newdoc id` takes the document of the "
           "last one that had it; with none at all, the key is its `sent_id` up to the last `-`, `:`, `#` or "
           "`/` (or the whole `sent_id`).", "",
           "| split | documents | sentences | tokens | words |", "|---|---:|---:|---:|---:|"]
    for x in splits:
        n = c.stats.splits[x]
        out.append(f"| {x} | {n.documents:,} | {n.sentences:,} | {n.tokens:,} | {n.words:,} |")
    out += ["", "Tokens are surface tokens (a clitic group such as وبه is one token), words are syntactic words "
            "(و + ب + ه).", ""]
    return out


def _schema(c: CardInput) -> list[str]:
    if c.schema == "ud":
        return ["## Schema (`ud`)", "",
                "The features of the Hugging Face `universal_dependencies` loader: `idx`, `text`, and one list per "
                "CoNLL-U column (`tokens`, `lemmas`, `upos` as a ClassLabel with the loader's 18 names, `xpos`, "
                "`feats`, `head`, `deprel`, `deps`, `misc`). As in that loader, the lists have one entry per "
                "CoNLL-U line, not per word: a multi-word token appears as its surface form (lemma and upos "
                "`_`, head `None`) followed by its syntactic words, and enhanced empty nodes appear too. "
                "Values are formatted as the loader does (FEATS and MISC as Python dict reprs, `_` as `None`); "
                "the CoNLL-U files keep the original strings.", ""]
    return ["## Schema (`mudawwana`)", "",
            "One row per sentence: `sent_id`, `doc_id`, `text` (original text); `tokens` (surface tokens with "
            "character offsets `start`/`end` into `text`); `words` (syntactic words with the CoNLL-U columns as "
            "strings, `_` when empty, `upos` as a ClassLabel over the 17 UD tags, `head` as an integer, and "
            "`token`, the index of the token holding the word: a multi-word token is one entry in `tokens` and "
            "several in `words`); `entities` (spans over tokens, end exclusive, label PER/LOC/ORG/MISC) and "
            "`ner_tags` (the same as BIO tags per token); annotation metadata `annotation_status`, `annotators` "
            "(pseudonymous ids), `num_annotators`, `model_version`, `agreement` (null when not measured). A label "
            "outside its class list (possible only in sentences exported despite errors) is -1.", ""]


def _upos(s: CorpusStats) -> list[str]:
    total = sum(s.upos.values()) or 1
    out = ["## UPOS distribution", "", "| UPOS | words | % |", "|---|---:|---:|"]
    for tag in sorted(s.upos, key=lambda t: (-s.upos[t], t)):
        flag = "" if tag in UPOS_TAGS else " (not a UD tag)"
        out.append(f"| {tag}{flag} | {s.upos[tag]:,} | {100 * s.upos[tag] / total:.1f} |")
    return out + [""]


def _making(s: CorpusStats) -> list[str]:
    out = ["## How the corpus was made", "",
           "Sentences were pre-annotated by a stanza model, then corrected by annotators in Label Studio.", "",
           "Models (`# model_version`), sentences:", ""]
    out += [f"- `{v}`: {n:,}" for v, n in sorted(s.model_versions.items())]
    out += ["", "Annotation status (`# annotation_status`), sentences:", ""]
    out += [f"- {v}: {n:,}" for v, n in sorted(s.status.items())]
    out += ["", f"Annotators: {len(s.annotator_ids):,} distinct (pseudonymous ids). Sentences by number of "
            "annotators: " + ", ".join(f"{k}: {n:,}" for k, n in sorted(s.annotators_per_sentence.items())) + "."]
    if s.agreement_n:
        out.append(f"Inter-annotator agreement (mean pairwise, over columns) on {s.agreement_n:,} sentences: "
                   f"mean {s.agreement_sum / s.agreement_n:.3f}, min {s.agreement_min:.3f}, "
                   f"max {s.agreement_max:.3f}.")
    else:
        out.append("No inter-annotator agreement was recorded (no sentence had several annotators).")
    if s.normalized_sentences:
        out.append(f"Normalization: the tagger saw a normalized text (`# text_norm`) for "
                   f"{s.normalized_sentences:,} sentences; offsets and `text` refer to the original text.")
    else:
        out.append("Normalization: no sentence records a normalized text (`# text_norm`); the annotations refer "
                   "to the original text.")
    return out + [""]


def _left_out(c: CardInput) -> list[str]:
    n = c.left_out if c.left_out is not None else _LEFT_OUT.get()
    if n is None:
        return []
    return [f"Left out: {n:,} annotated sentences whose annotations could not be mapped back to CoNLL-U (`mudawwana "
            "pull` lists each with its reason; `--partial` keeps their mappable corrections, with "
            "`annotation_status = partial`).", ""]


def _rounds(c: CardInput) -> list[str]:
    """The annotation report's tables: what annotators changed per model, and the retraining rounds."""
    report = c.training_report if c.training_report is not None else _TRAINING_REPORT.get()
    if not report:
        return []
    from mudawwana.annotate.report_table import report_markdown

    return report_markdown(report, level=3)


def _validation(c: CardInput) -> list[str]:
    out = ["## Validation", "",
           f"Every sentence was checked with the UD validator (`udvalidate --lang {UD_LANG} --level {UD_LEVEL}`, "
           "udtools) and against this schema (known NER labels, numeric agreement)."]
    if not c.invalid:
        out[-1] += " All passed."
        return out + [""]
    out += ["", f"{len(c.invalid):,} sentences were exported despite errors (`--allow-invalid`):", ""]
    for item in c.invalid:
        problems = "; ".join(p.replace("\n", " ") for p in item.problems)
        out.append(f"- `{item.sent_id or '(no sent_id)'}` ({item.split}): {problems}")
    return out + [""]
