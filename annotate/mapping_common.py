"""What the mapping steps (annotate/mapping.py) share: the problem record, the context of one annotation being
mapped, regions, the ROOT stand-in, and the geometry of the task's `words` view (its words, tokens and written
words)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mudawwana.corpus.data_model import NER_MISC_KEY, Sentence, Word

from .config import word_control
from .tasks import WordSpan, display_words

# MISC keys that describe the whole token: on the range line of a multi-word token, else on its word.
TOKEN_MISC_KEYS = ("SpaceAfter", "SpacesAfter", "SpacesBefore", "SpacesInToken", NER_MISC_KEY)

# The head that stands for the ROOT pseudo-word while heads are word objects (ids change when renumbering).
ROOT = Word(0, "ROOT")

Span = tuple[int, int]  # [start, end) in code points


@dataclass(frozen=True)
class MappingProblem:
    sent_id: str | None
    reason: str
    region_id: str | None = None

    def __str__(self) -> str:
        where = f" (region {self.region_id})" if self.region_id else ""
        return f"sentence {self.sent_id}: {self.reason}{where}"


@dataclass
class Region:
    """A labelled span of the result, in code points of the text it lies on."""
    id: str | None
    start: int
    end: int
    labels: list = field(default_factory=list)


@dataclass
class WrittenWord:
    """A maximal run of the original text without whitespace: one token, or tokens written together
    (SpaceAfter=No), each holding one word or several (a multi-word token). The unit an annotator re-segments.

    `letters`: the positions in the words view of its word characters, in order (the separators between its
    words, "+" and " ", are not letters); `predicted`: its predicted words' spans."""
    index: int
    tokens: list[int]
    span: Span
    letters: list[int]
    predicted: list[Span]

    def text(self, view: WordsView) -> str:
        return "".join(view.text[i] for i in self.letters)

    def letter_range(self, span: Span) -> tuple[int, int]:
        """The letters [i, j) of this written word inside a view span."""
        inside = [k for k, p in enumerate(self.letters) if span[0] <= p < span[1]]
        return (inside[0], inside[-1] + 1) if inside else (0, 0)

    def span_of(self, i: int, j: int) -> Span:
        """The view span of letters [i, j)."""
        return self.letters[i], self.letters[j - 1] + 1


class WordsView:
    """The task's `words` display text and where each predicted word lies in it (data["words"], data["word_spans"])."""

    def __init__(self, text: str, spans: list[WordSpan]):
        self.text, self.spans = text, spans
        # Which characters belong to a word: the rest ("+", " ", " · ") are separators, even where a word itself is
        # spelled with "+" (C++), so separators are told by position, never by character.
        self.in_word = [False] * len(text)
        for sp in spans:
            self.in_word[sp.start:sp.end] = [True] * (sp.end - sp.start)

    @classmethod
    def of(cls, task_data: dict) -> WordsView:
        return cls(task_data["words"], [WordSpan(*s) for s in task_data["word_spans"]])

    def describes(self, sentence: Sentence) -> bool:
        """Whether this view is the one `sentence` displays as (a task edited by hand may not be)."""
        has_root = any(s.word_id == 0 for s in self.spans)
        return display_words(sentence, root=has_root) == (self.text, self.spans)

    def root_span(self) -> Span | None:
        return next(((s.start, s.end) for s in self.spans if s.word_id == 0), None)

    def token_spans(self) -> dict[int, Span]:
        """Token index (-1: ROOT) -> its span, the "+" between its words included."""
        out: dict[int, Span] = {}
        for sp in self.spans:
            start, end = out.get(sp.token, (sp.start, sp.end))
            out[sp.token] = (min(start, sp.start), max(end, sp.end))
        return out

    def predicted_word_spans(self, token: int) -> list[Span]:
        """The spans of the predicted words of one token, in order."""
        return [(s.start, s.end) for s in self.spans if s.token == token]

    def written_words(self, sentence: Sentence) -> list[WrittenWord]:
        """The sentence's written words, in order (the view must describe the sentence)."""
        token_spans = self.token_spans()
        groups: list[list[int]] = []
        for ti, tok in enumerate(sentence.tokens):
            if not groups or sentence.tokens[ti - 1].space_after:
                groups.append([])
            groups[-1].append(ti)
        out = []
        for index, tokens in enumerate(groups):
            start, end = token_spans[tokens[0]][0], token_spans[tokens[-1]][1]
            predicted = [sp for t in tokens for sp in self.predicted_word_spans(t)]
            letters = [i for i in range(start, end) if self.in_word[i]]
            out.append(WrittenWord(index, tokens, (start, end), letters, predicted))
        return out

    def trim(self, start: int, end: int) -> Span:
        """The span without the separators at its edges (a selection may start on a "+")."""
        while start < end and not self.in_word[start]:
            start += 1
        while end > start and not self.in_word[end - 1]:
            end -= 1
        return start, end

    def letters(self, span: Span) -> str:
        """The word characters of a span: a merged word's form is its parts without the separators between them."""
        start, end = span
        return "".join(c for i, c in enumerate(self.text[start:end], start) if self.in_word[i])

    def shared_letters(self, a: Span, b: Span) -> int:
        return sum(1 for i in range(max(a[0], b[0]), min(a[1], b[1])) if self.in_word[i])


class MappingContext:
    """One annotation being mapped onto one sentence: what every step reads, and where it reports problems.

    `clitics`: how a re-segmented written word is written as tokens (corpus/clitics.py MWT or TOKENS)."""

    def __init__(self, sentence: Sentence, view: WordsView, layers: tuple[str, ...], clitics: str):
        self.sentence, self.view, self.layers, self.clitics = sentence, view, layers, clitics
        self.control = word_control(layers)  # the control whose regions are the words; None: no word layer
        self.problems: list[MappingProblem] = []

    def problem(self, reason: str, region_id: str | None = None) -> None:
        self.problems.append(MappingProblem(self.sentence.sent_id, reason, region_id))


def region_id_of(region_word: dict[str, Word], word: Word) -> str | None:
    """The first region that became `word`: where a problem about the word points the annotator."""
    return next((rid for rid, w in region_word.items() if w is word), None)
