"""Validation of each exported sentence: the official UD validator plus the checks our schema needs.

We call udtools in-process (the code behind `udvalidate`), one sentence at a time, instead of running
`udvalidate` on the finished files: it gives incidents per sentence directly (no parsing of its report to
map line numbers back to sent_ids) and needs no second pass over the corpus. Each split file gets its own
validator state, as if `udvalidate --lang ar --level 2` read that file; the set of seen sent_ids is shared
so an id repeated in two splits is caught as in a whole-treebank validation.
"""

from __future__ import annotations

from dataclasses import dataclass

from udtools import Validator
from udtools.state import State

from mudawwana.corpus.data_model import Sentence

from .metadata import AnnotationMeta
from .schema_mudawwana import NER_TAGS, ner_tag

UD_LANG = "ar"
UD_LEVEL = 2


@dataclass(frozen=True)
class InvalidSentence:
    sent_id: str | None
    split: str
    problems: tuple[str, ...]  # validator messages ("FILE:LINE: [L2 SYNTAX testid] ...") and schema problems


class SentenceValidator:
    """Feed sentences in file order per split; `check` returns that sentence's errors (warnings ignored)."""

    def __init__(self, file_names: dict[str, str]) -> None:
        # output=None: incidents are only stored in the state, never printed.
        self._validator = Validator(lang=UD_LANG, level=UD_LEVEL, output=None)
        seen_ids: set[str] = set()
        self._states: dict[str, State] = {}
        for split, file_name in file_names.items():
            state = State()
            state.current_file_name = file_name
            state.known_sent_ids = seen_ids
            self._states[split] = state

    def check(self, split: str, conllu_text: str) -> list[str]:
        """`conllu_text` is the sentence exactly as written to the split's file (ending in a blank line)."""
        state = self._states[split]
        lines = conllu_text.split("\n")[:-1]  # keep the blank line, as udtools' own reader does
        # Line numbers in messages are those of the split's .conllu file.
        state.current_line += len(lines)
        self._validator.validate_sentence(lines, state)
        where = state.current_file_name
        errors = [f"{where}:{inc.lineno}: [L{inc.level} {inc.testclass} {inc.testid}] {inc.message}"
                  for inc in state.error_tracker if inc.is_error()]
        state.error_tracker.clear()  # keep memory flat: the state would store every incident otherwise
        return errors


def schema_problems(sentence: Sentence, meta: AnnotationMeta) -> list[str]:
    """What UD does not check but the dataset schema needs: known NER tags, a numeric agreement."""
    problems = []
    for i, token in enumerate(sentence.tokens):
        tag = ner_tag(token.misc)
        if tag not in NER_TAGS:
            problems.append(f"token {i + 1} ({token.form}): NER tag {tag!r} is not one of {', '.join(NER_TAGS)}")
    if meta.agreement_invalid:
        problems.append(f"agreement {meta.agreement_raw!r} is not a number")
    return problems
