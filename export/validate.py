"""Validation of each exported sentence: the official UD validator plus the checks our schema needs.

We call udtools in-process (the code behind `udvalidate`), one sentence at a time, instead of running
`udvalidate` on the finished files: it gives incidents per sentence directly (no parsing of its report to
map line numbers back to sent_ids) and needs no second pass over the corpus. Each split file gets its own
validator state, as if `udvalidate --lang ar --level 2` read that file; the set of seen sent_ids is shared
so an id repeated in two splits is caught as in a whole-treebank validation.
"""

from __future__ import annotations

from dataclasses import dataclass

from mudawwana.corpus.data_model import Sentence
from mudawwana.corpus.ud_validator import UD_LANG, UD_LEVEL, UDValidator

from .metadata import AnnotationMeta
from .schema_mudawwana import NER_TAGS, ner_tag

__all__ = ["UD_LANG", "UD_LEVEL", "InvalidSentence", "SentenceValidator", "schema_problems"]


@dataclass(frozen=True)
class InvalidSentence:
    sent_id: str | None
    split: str
    problems: tuple[str, ...]  # validator messages ("FILE:LINE: [L2 SYNTAX testid] ...") and schema problems


class SentenceValidator:
    """Feed sentences in file order per split; `check` returns that sentence's errors (warnings ignored)."""

    def __init__(self, file_names: dict[str, str]) -> None:
        seen_ids: set[str] = set()
        self._validators = {split: UDValidator(file_name, known_sent_ids=seen_ids)
                            for split, file_name in file_names.items()}

    def check(self, split: str, conllu_text: str) -> list[str]:
        """`conllu_text` is the sentence exactly as written to the split's file (ending in a blank line)."""
        # Line numbers in messages are those of the split's .conllu file.
        return [str(problem) for problem in self._validators[split].check_text(conllu_text)]


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
