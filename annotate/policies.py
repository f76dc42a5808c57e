"""Annotations as pull and agreement see them, and the rules that pick or merge them.

Label Studio's task JSON (from the export or the tasks API) is normalised into `TaskRecord`/`Annotation`
holding only what we use: user ids, never emails or names (the tasks API also returns `created_username`,
which holds the email; it is dropped here, at the door).

Policies (`mudawwana pull --policy`):
- latest: the most recently updated submitted (not cancelled) annotation.
- majority: each annotator's latest submitted annotation votes per word and column (upos, lemma, feats as a whole,
  xpos, head, deprel: those of the project's layers) and per token (NER); a tie goes to the value of the most recent annotation among the tied ones.
  Only when all annotators segmented the sentence the same way; otherwise the latest annotation is used and
  the sentence says so (a note in the report).
- reviewed: the latest annotation marked as ground truth (Label Studio's star) or accepted in a review.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Sequence

from mudawwana.corpus.data_model import NER_MISC_KEY, Sentence, parse_misc, set_misc

from .prediction_sentence import shown_conllu

POLICIES = ("latest", "majority", "reviewed")

# The annotation layers (annotate/config.py LAYERS) and the columns each one lets an annotator change.
# seg changes the words themselves: it has no column, it decides whether columns can be compared at all.
LAYER_COLUMNS = {"upos": ("upos",), "lemma": ("lemma",), "feats": ("feats",), "xpos": ("xpos",),
                 "deps": ("head", "deprel"), "ner": ("ner",)}
WORD_COLUMNS = ("upos", "lemma", "feats", "xpos", "head", "deprel")


def columns_for(layers: Iterable[str]) -> tuple[str, ...]:
    layers = set(layers)
    return tuple(c for layer, cols in LAYER_COLUMNS.items() if layer in layers for c in cols)


# --- timestamps -----------------------------------------------------------------------------------------------

def parse_time(value: str | None) -> datetime:
    """Label Studio's ISO timestamps (`...Z`, `+00:00`, with or without microseconds) as aware datetimes."""
    if not value:
        return datetime.min.replace(tzinfo=timezone.utc)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def format_time(dt: datetime) -> str:
    """The one form Label Studio's `updated_at` filter accepts: 2026-11-28T07:14:58.085986Z (others: HTTP 500)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- normalised task JSON ---------------------------------------------------------------------------------------

@dataclass
class Annotation:
    id: int
    task_id: int
    user_id: int | None
    result: list
    was_cancelled: bool = False
    ground_truth: bool = False
    reviewed: bool = False
    created_at: str | None = None
    updated_at: str | None = None
    shown_conllu: str | None = None  # the sentence the prediction it was made from carries (prediction_sentence)

    @property
    def recency(self) -> tuple:
        return (parse_time(self.updated_at or self.created_at), self.id)


@dataclass
class TaskRecord:
    id: int
    data: dict
    updated_at: str | None = None
    annotations: list[Annotation] = field(default_factory=list)

    @property
    def sent_id(self) -> str | None:
        return self.data.get("sent_id")

    def submitted(self) -> list[Annotation]:
        """Not-cancelled annotations, oldest first (the latest is last)."""
        return sorted((a for a in self.annotations if not a.was_cancelled), key=lambda a: a.recency)

    def per_annotator(self) -> list[Annotation]:
        """Each annotator's latest submitted annotation, oldest first."""
        latest: dict = {}
        for a in self.submitted():
            latest[a.user_id if a.user_id is not None else f"annotation-{a.id}"] = a
        return sorted(latest.values(), key=lambda a: a.recency)


def _user_id(value) -> int | None:
    if isinstance(value, dict):
        value = value.get("id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _is_reviewed(raw: dict) -> bool:
    """Ground truth (Community) or an accepted review (Enterprise's `reviews`/`review_result`)."""
    if raw.get("ground_truth"):
        return True
    reviews = raw.get("reviews") or []
    if isinstance(reviews, list) and any(isinstance(r, dict) and r.get("accepted") for r in reviews):
        return True
    return raw.get("review_result") in ("accepted", "approved")


def normalize_task(raw: dict) -> TaskRecord:
    anns = []
    for a in raw.get("annotations") or []:
        anns.append(Annotation(
            id=int(a["id"]), task_id=int(raw["id"]), user_id=_user_id(a.get("completed_by")),
            result=list(a.get("result") or []), was_cancelled=bool(a.get("was_cancelled")),
            ground_truth=bool(a.get("ground_truth")), reviewed=_is_reviewed(a),
            created_at=a.get("created_at"), updated_at=a.get("updated_at"), shown_conllu=shown_conllu(a)))
    return TaskRecord(id=int(raw["id"]), data=dict(raw.get("data") or {}), updated_at=raw.get("updated_at"),
                      annotations=anns)


# --- pseudonyms -------------------------------------------------------------------------------------------------

def pseudonym(project_id: int, user_id: int | None) -> str:
    """A short salted hash of the Label Studio user id (salt: the project id), never the email.

    Stable within a project (so agreement and provenance can be followed), different across projects. It is
    a pseudonym, not anonymisation: whoever can list the server's users and knows the project id can map it back.
    """
    digest = hashlib.sha256(f"mudawwana:{project_id}:{user_id}".encode()).hexdigest()
    return "a" + digest[:8]


# --- comparing and merging sentences ----------------------------------------------------------------------------

def segmentation_key(sentence: Sentence) -> tuple:
    return tuple((tok.form, tuple(w.form for w in tok.words)) for tok in sentence.tokens)


def word_value(word, column: str) -> str:
    if column == "head":
        return "_" if word.head is None else str(word.head)
    return getattr(word, column)


def ner_tags(sentence: Sentence) -> list[str]:
    return [parse_misc(tok.misc).get(NER_MISC_KEY, "O") for tok in sentence.tokens]


def cells(sentences: Sequence[Sentence], columns: Sequence[str]) -> list[tuple[str, list[str]]]:
    """For equally segmented sentences: (column, [value per sentence]) for every word column and NER token."""
    out: list[tuple[str, list[str]]] = []
    word_cols = [c for c in columns if c in WORD_COLUMNS]
    if word_cols:
        words = [s.words for s in sentences]
        for i in range(len(words[0])):
            for c in word_cols:
                out.append((c, [word_value(ws[i], c) for ws in words]))
    if "ner" in columns:
        tags = [ner_tags(s) for s in sentences]
        for i in range(len(tags[0])):
            out.append(("ner", [t[i] for t in tags]))
    return out


def pairwise_agreement(values: Sequence[str]) -> float:
    n = len(values)
    if n < 2:
        return 1.0
    counts = Counter(values)
    return sum(k * (k - 1) for k in counts.values()) / (n * (n - 1))


def sentence_agreement(sentences: Sequence[Sentence], columns: Sequence[str]) -> float | None:
    """Mean pairwise agreement over all cells; None when the segmentations differ (nothing to align)."""
    if len(sentences) < 2 or len({segmentation_key(s) for s in sentences}) > 1:
        return None
    cs = cells(sentences, columns)
    if not cs:
        return 1.0
    return sum(pairwise_agreement(v) for _, v in cs) / len(cs)


def _vote(values: Sequence[str]) -> str:
    """Majority value; a tie goes to the most recent of the tied values (values are oldest first)."""
    counts = Counter(values)
    best = max(counts.values())
    for v in reversed(values):
        if counts[v] == best:
            return v
    raise AssertionError("unreachable")


def is_tree(heads: Sequence[int | None]) -> bool:
    """Heads (1-based words, 0 = root) form one tree: one root, every word reaches it without a cycle."""
    n = len(heads)
    if any(h is None or h < 0 or h > n for h in heads) or sum(1 for h in heads if h == 0) != 1:
        return False
    for start in range(1, n + 1):
        seen, node = set(), start
        while node != 0:
            if node in seen:
                return False
            seen.add(node)
            node = heads[node - 1]
    return True


def _repair_bio(tags: list[str]) -> list[str]:
    out = []
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I":
            prev = out[i - 1] if i else "O"
            if prev == "O" or prev.partition("-")[2] != label:
                tag = "B-" + label
        out.append(tag)
    return out


def majority_sentence(sentences: Sequence[Sentence], columns: Sequence[str]) -> tuple[Sentence, list[str]]:
    """Merge annotators' versions (oldest first) column by column; returns the sentence and notes.

    The latest version is the base (FEATS, XPOS, MISC other than NER come from it). Different segmentations
    cannot be aligned: the latest version is returned with a note. A head vote that does not form a tree is
    replaced by the latest version's heads and relations, with a note.
    """
    latest = sentences[-1]
    if len(sentences) < 2:
        return copy.deepcopy(latest), []
    if len({segmentation_key(s) for s in sentences}) > 1:
        return copy.deepcopy(latest), ["annotators segmented the sentence differently: used the latest annotation"]
    notes: list[str] = []
    merged = copy.deepcopy(latest)
    words = merged.words
    versions = [s.words for s in sentences]
    for c in (c for c in columns if c in WORD_COLUMNS):
        for i, w in enumerate(words):
            value = _vote([word_value(ws[i], c) for ws in versions])
            if c == "head":
                w.head = None if value == "_" else int(value)
            else:
                setattr(w, c, value)
    if "head" in columns and not is_tree([w.head for w in words]):
        for w, lw in zip(words, latest.words):
            w.head, w.deprel = lw.head, lw.deprel
        notes.append("the majority heads do not form a tree: used the latest annotation's heads and relations")
    if "ner" in columns:
        tags = [ner_tags(s) for s in sentences]
        voted = _repair_bio([_vote([t[i] for t in tags]) for i in range(len(merged.tokens))])
        for tok, tag in zip(merged.tokens, voted):
            tok.misc = set_misc(tok.misc, NER_MISC_KEY, None if tag == "O" else tag)
    return merged, notes
