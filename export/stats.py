"""Counts for the dataset card, gathered while streaming (constant memory per sentence)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from mudawwana.corpus.data_model import Sentence

from .metadata import AnnotationMeta


@dataclass
class SplitCounts:
    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    words: int = 0


@dataclass
class CorpusStats:
    splits: dict[str, SplitCounts] = field(default_factory=dict)
    upos: Counter = field(default_factory=Counter)
    model_versions: Counter = field(default_factory=Counter)  # value -> sentences
    status: Counter = field(default_factory=Counter)
    annotators_per_sentence: Counter = field(default_factory=Counter)  # number of annotators -> sentences
    annotator_ids: set = field(default_factory=set)  # grows with the team, not with the corpus
    normalized_sentences: int = 0
    agreement_n: int = 0
    agreement_sum: float = 0.0
    agreement_min: float | None = None
    agreement_max: float | None = None
    _last_doc: dict = field(default_factory=dict)  # split -> key of its last document

    def add(self, split: str, doc_key: str, sentence: Sentence, meta: AnnotationMeta) -> None:
        self.add_counts(split, doc_key, len(sentence.tokens), upos_of(sentence), meta)

    def add_counts(self, split: str, doc_key: str, tokens: int, upos: tuple[str, ...], meta: AnnotationMeta) -> None:
        """`add` from a sentence's counts (what export's sentence cache keeps): `upos` has one tag per word."""
        counts = self.splits.setdefault(split, SplitCounts())
        # Documents are contiguous in the input (the reader carries `# newdoc` forward), so a new
        # document is a change of key: no set of every document id needs to be kept.
        if self._last_doc.get(split) != doc_key:
            counts.documents += 1
            self._last_doc[split] = doc_key
        counts.sentences += 1
        counts.tokens += tokens
        counts.words += len(upos)
        self.upos.update(upos)
        self.model_versions[meta.model_version or "(none recorded)"] += 1
        self.status[meta.status or "(none recorded)"] += 1
        self.annotators_per_sentence[len(meta.annotators)] += 1
        self.annotator_ids.update(meta.annotators)
        self.normalized_sentences += meta.normalized
        if meta.agreement is not None:
            a = meta.agreement
            self.agreement_n += 1
            self.agreement_sum += a
            self.agreement_min = a if self.agreement_min is None else min(self.agreement_min, a)
            self.agreement_max = a if self.agreement_max is None else max(self.agreement_max, a)

    @property
    def sentences(self) -> int:
        return sum(c.sentences for c in self.splits.values())


def upos_of(sentence: Sentence) -> tuple[str, ...]:
    """The UPOS of every syntactic word, in order."""
    return tuple(w.upos for token in sentence.tokens for w in token.words)
