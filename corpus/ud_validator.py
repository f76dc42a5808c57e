"""The official UD validator in-process, one sentence at a time: the guard before any CoNLL-U is written.

`UDValidator` runs udtools (the code behind `udvalidate`) at level 2 for Arabic on one sentence's CoNLL-U text,
with the state a whole-file run would have (line numbers, sent_ids already seen), so that feeding it every
sentence of a file in order finds exactly what `udvalidate --lang ar --level 2 FILE` finds (the end-of-file
newline check aside: our writer always ends a file with a blank line). Each sentence's text is read the way
`udvalidate` reads a file (universal newlines), so a stray CR inside a value is caught here too.

Every stage that writes CoNLL-U uses it: the tag job refuses to write a sentence it rejects (`require`), and the
export lists the failures (`check_text`). Warnings are ignored: only errors make a file fail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from .conllu_io import format_sentence
from .data_model import Sentence
from .errors import MudawwanaError

UD_LANG = "ar"
UD_LEVEL = 2


@dataclass(frozen=True)
class UDProblem:
    """One validator error: where (file name and line as `udvalidate` would count them) and the rule."""

    file_name: str
    lineno: int
    level: int
    testclass: str  # FORMAT, MORPHO, SYNTAX, UNICODE, METADATA, ...
    testid: str  # the rule, e.g. unicode-normalization, invalid-feature, trailing-whitespace
    message: str
    sent_id: str | None = None

    def __str__(self) -> str:
        """`FILE:LINE: [L2 MORPHO invalid-feature] message`, the form export's messages have always had."""
        return f"{self.file_name}:{self.lineno}: [{self.rule}] {self.message}"

    @property
    def rule(self) -> str:
        return f"L{self.level} {self.testclass} {self.testid}"


class InvalidConlluError(MudawwanaError):
    """A sentence the UD validator rejects, refused before anything was written. `problems` are its errors."""

    def __init__(self, message: str, sent_id: str | None, problems: list[UDProblem]):
        super().__init__(message)
        self.sent_id = sent_id
        self.problems = problems


class UDValidator:
    """Validate the sentences of one CoNLL-U file, in file order, as `udvalidate --lang ar --level 2` would.

    `file_name` appears in messages. `known_sent_ids` may be shared between validators (several files of one
    treebank: an id repeated across them is an error) or pre-filled (the sentences a resumed job wrote before).
    """

    def __init__(self, file_name: str = "<sentence>", *, known_sent_ids: set[str] | None = None,
                 lang: str = UD_LANG, level: int = UD_LEVEL) -> None:
        from udtools.state import State

        self._validator = _udtools_validator(lang, level)
        self._state = State()
        self._state.current_file_name = file_name
        if known_sent_ids is not None:
            self._state.known_sent_ids = known_sent_ids
        self.file_name = file_name

    def check_text(self, conllu_text: str) -> list[UDProblem]:
        """The errors in one sentence, `conllu_text` exactly as written to the file (ending in a blank line)."""
        state = self._state
        lines = [line.rstrip("\n") for line in io.StringIO(conllu_text, newline=None)]
        if lines and lines[-1] != "":
            lines.append("")  # the blank line that ends every sentence, as udtools' own reader passes it
        state.current_line += len(lines)  # line numbers in messages are those of the file
        state.sentence_id = None
        self._validator.validate_sentence(lines, state)
        problems = [UDProblem(self.file_name, inc.lineno, inc.level, str(inc.testclass), inc.testid, inc.message,
                              inc.sentid or None) for inc in state.error_tracker if inc.is_error()]
        state.error_tracker.clear()  # keep memory flat: the state would store every incident otherwise
        return problems

    def check(self, sentence: Sentence) -> list[UDProblem]:
        """The errors in `sentence` as `format_sentence` writes it."""
        return self.check_text(format_sentence(sentence))

    def require(self, sentence: Sentence, *, conllu_text: str | None = None, fix: str = "") -> None:
        """Raise InvalidConlluError (naming the sentence, the rule and the validator's message) unless valid.

        `fix` ends the message: what the user can do (e.g. "OUT was not written; ...").
        """
        text = format_sentence(sentence) if conllu_text is None else conllu_text
        problems = self.check_text(text)
        if problems:
            raise InvalidConlluError(refusal(sentence.sent_id, problems, fix), sentence.sent_id, problems)


@lru_cache(maxsize=None)
def _udtools_validator(lang: str, level: int):
    """One udtools Validator per (lang, level), shared: it keeps no per-file state (that is the State's), and
    loading its data takes ~0.2 s."""
    from udtools import Validator

    return Validator(lang=lang, level=level, output=None)  # output=None: incidents are stored, never printed


def refusal(sent_id: str | None, problems: list[UDProblem], fix: str = "") -> str:
    """One line: `sentence X fails the UD validator (udvalidate --lang ar --level 2): [rule] message ...`."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more error(s))" if len(problems) > 1 else ""
    message = (f"sentence {sent_id or '(no sent_id)'} fails the UD validator (udvalidate --lang {UD_LANG} "
               f"--level {UD_LEVEL}): [{first.rule}] {first.message.rstrip('.')}{more}")
    return f"{message}; {fix}" if fix else message


def validate_sentence(sentence: Sentence) -> list[UDProblem]:
    """The errors in one sentence on its own (a fresh validator: nothing known about other sentences)."""
    return UDValidator().check(sentence)


def validate_conllu_text(conllu_text: str) -> list[UDProblem]:
    """The errors in one sentence's CoNLL-U text on its own (a fresh validator)."""
    return UDValidator().check_text(conllu_text)
