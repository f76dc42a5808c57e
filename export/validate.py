"""Validation of each exported sentence: the official UD validator plus the checks our schema needs.

We call udtools in-process (the code behind `udvalidate`), one sentence at a time, instead of running
`udvalidate` on the finished files: it gives incidents per sentence directly (no parsing of its report to
map line numbers back to sent_ids) and needs no second pass over the corpus. Each split file gets its own
validator state, as if `udvalidate --lang ar --level 2` read that file; the set of seen sent_ids is shared
so an id repeated in two splits is caught as in a whole-treebank validation.

Replaying a cached result (export/sentence_cache.py). Most of what udtools checks depends on the sentence
alone; what depends on the sentences before it in the file (udtools 0.2.9, levels 1-2, read in its
level1.py/level2.py/utils.py/validator.py) is:
- line numbers: every incident's line is absolute, counted from the file's start (no message holds a line number
  except edeps-only-sometimes, below);
- check_deps_all_or_none, edeps-only-sometimes: enhanced graphs in some sentences of the file but not in others
  (the message names the line of the first one). Only the first sentence with, and the first without, an enhanced
  graph change its state or can fail it;
- check_sent_id, non-unique-sent-id: the ids seen so far, in every split (its other errors are the sentence's own);
- check_parallel_id: parallel ids seen so far; a no-op for a sentence without a parallel_id comment;
- check_text_meta's spaceafter-newdocpar (a newdoc/newpar after a sentence that ends in SpaceAfter=No), whose
  state, `spaceafterno_in_effect`, the same function sets from the sentence's last tokens;
- nothing else at these levels: the per-file facts level 3+ keeps (features seen, enhanced graphs seen for
  validate_end, entities) are not read at level 2, and `Incident`'s class-level default line is set by every check
  before it is used. validate_sentence calls the four functions above one after the other.
So a fresh check records the sentence's errors with lines relative to its first line, with marks where those
four ran and the facts they depend on (its sent_id, whether it has an enhanced graph, where spaceafter-newdocpar
goes). A replay shifts the recorded errors to the sentence's place in its file, updates the cross-sentence state
itself where that is all a check would do (an id added to the ids seen), and runs udtools' own check, on the
sentence's lines and the live state, wherever it could report something (a repeated id, the first enhanced graph
or first sentence without one, a parallel_id, a newdoc/newpar after SpaceAfter=No): what a fresh check of the
same text at the same place reports, in the same order, with the state it leaves.
tests/export/test_incremental.py compares the two on each of these. Replays are offered only for the udtools
versions whose code was read for this (AUDITED_UDTOOLS).
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from mudawwana.corpus.data_model import Sentence
from mudawwana.corpus.ud_validator import UD_LANG, UD_LEVEL, UDProblem

from .metadata import AnnotationMeta
from .schema_mudawwana import NER_TAGS, ner_tag

__all__ = ["UD_LANG", "UD_LEVEL", "InvalidSentence", "SentenceValidator", "schema_problems", "AUDITED_UDTOOLS"]

# udtools versions whose cross-sentence checks were read (see the module docstring); another version validates
# every sentence afresh until someone reads its code again and adds it here.
AUDITED_UDTOOLS = ("0.2.9",)
# The marks in a recorded result (every other item is an error: line relative to the sentence's first line,
# level, test class, test id, message, sent_id).
_DEPS, _SENTID, _SENTID_END, _PARALLEL, _SPACEAFTER = range(5)
_NEWDOCPAR = "spaceafter-newdocpar"
_NON_UNIQUE = "non-unique-sent-id"


@dataclass(frozen=True)
class InvalidSentence:
    sent_id: str | None
    split: str
    problems: tuple[str, ...]  # validator messages ("FILE:LINE: [L2 SYNTAX testid] ...") and schema problems


def udtools_version() -> str:
    return metadata.version("udtools")


class SentenceValidator:
    """Feed sentences in file order per split; `check` returns that sentence's errors (warnings ignored).

    `check_recorded` also returns what `replay` needs to give the same errors later without validating again
    (None when replays are not supported, see `replayable`, or `record` is false)."""

    def __init__(self, file_names: dict[str, str], *, lang: str = UD_LANG, level: int = UD_LEVEL,
                 record: bool = True) -> None:
        seen_ids: set[str] = set()
        self._lang_level = (lang, level)
        self._states = {split: _new_state(file_name, seen_ids) for split, file_name in file_names.items()}
        self._files = dict(file_names)
        self.replayable = level <= 2 and udtools_version() in AUDITED_UDTOOLS
        self._record_checks = record and self.replayable

    @property
    def _validator(self):
        """Made on first use (loading udtools' data takes ~0.2 s): an export with nothing changed needs none."""
        return _recording_validator(*self._lang_level)

    def check(self, split: str, conllu_text: str) -> list[str]:
        """`conllu_text` is the sentence exactly as written to the split's file (ending in a blank line)."""
        return self.check_recorded(split, conllu_text)[0]

    def check_recorded(self, split: str, conllu_text: str) -> tuple[list[str], tuple | None]:
        # Line numbers in messages are those of the split's .conllu file (corpus/ud_validator.py check_text).
        state = self._states[split]
        lines = _lines(conllu_text)
        state.current_line += len(lines)
        state.sentence_id = None
        marks = state.marks = _Marks() if self._record_checks else None
        try:
            self._validator.validate_sentence(lines, state)
        finally:
            state.marks = None
        incidents = list(state.error_tracker)
        state.error_tracker.clear()  # keep memory flat: the state would store every incident otherwise
        problems = [str(_problem(self._files[split], inc)) for inc in incidents if inc.is_error()]
        return problems, (self._record(state, lines, incidents, marks) if marks is not None else None)

    def replay(self, split: str, conllu_text: str, record: tuple) -> list[str]:
        """The errors `check` would give `conllu_text` here, from the `record` an earlier check of the same text
        made (at any place, in any file); the split's state moves on as if it had been checked."""
        state = self._states[split]
        file_name = self._files[split]
        n_lines, offset, sentence_id, sid, egraph, items, spaceafter_after = record
        state.current_line += n_lines
        start = state.current_line - n_lines + 1
        problems: list[UDProblem] = []
        restored = skip = False
        for item in items:
            if skip:
                skip = item != _SENTID_END
                continue
            if item.__class__ is tuple:
                rel, level, testclass, testid, message, sent_id = item
                problems.append(UDProblem(file_name, start + rel, level, testclass, testid, message, sent_id))
                continue
            if item == _SENTID:
                if sid is None or sid not in state.known_sent_ids:
                    if sid is not None:
                        state.known_sent_ids.add(sid)  # all check_sent_id does besides its own errors (recorded)
                    continue
                check, keep = self._validator.check_sent_id, None  # a repeated id: udtools says it all
                skip = True
            elif item == _DEPS:
                if state.seen_enhanced_graph if egraph else state.seen_tree_without_enhanced_graph:
                    continue  # neither changes the state nor reports anything
                check, keep = self._validator.check_deps_all_or_none, None
            elif item == _PARALLEL:
                check, keep = self._validator.check_parallel_id, None
            elif item == _SPACEAFTER:
                if not state.spaceafterno_in_effect:
                    continue
                check, keep = self._validator.check_text_meta, _NEWDOCPAR  # its other errors are recorded
            else:
                continue
            if not restored:
                _restore(state, _lines(conllu_text), start, offset, sentence_id)
                restored = True
            check(state)
            problems += [_problem(file_name, inc) for inc in state.error_tracker
                         if inc.is_error() and (keep is None or inc.testid == keep)]
            state.error_tracker.clear()
        if spaceafter_after is not None:
            state.spaceafterno_in_effect = spaceafter_after
        return [str(p) for p in problems]

    def _record(self, state, lines: list[str], incidents: list, marks: "_Marks") -> tuple | None:
        """(lines, first token line - first line, the id udtools gave the sentence, its one sent_id, whether it has
        an enhanced graph, items, the SpaceAfter=No state it leaves or None when it leaves it as it was): all
        marshal-able, for the cache. None when the check did not go as the module docstring says."""
        start = state.comment_start_line
        offset = state.sentence_line - start

        def local(lo: int, hi: int, drop: str | None = None) -> list:
            return [(inc.lineno - start, inc.level, str(inc.testclass), inc.testid, inc.message, inc.sentid or None)
                    for inc in incidents[lo:hi] if inc.is_error() and inc.testid != drop]

        if marks.deps is None:  # stopped before the cross-sentence checks: all it found is its own
            return (len(lines), offset, state.sentence_id, None, None, tuple(local(0, len(incidents))),
                    marks.spaceafter_after)
        (d0, d1), (s0, s1), (p0, p1), (m0, m1) = marks.deps, marks.sent_id, marks.parallel, marks.meta
        if not (d1 == s0 and s1 == p0 and p1 == m0):
            return None
        comments = lines[:offset]
        from udtools.utils import DEPS, crex, is_empty_node, is_multiword_token

        ids = [m.group(1) for m in (crex.sentid.fullmatch(c) for c in comments) if m]
        egraph = marks.egraph_seen
        if egraph is None:  # both flags were set before: check_deps_all_or_none's own test
            egraph = any(is_empty_node(cols) or cols[DEPS] != "_" for cols in state.current_token_node_table
                         if not is_multiword_token(cols))
        has_parallel = any("parallel_id" in c for c in comments)  # check_parallel_id matches nothing else
        if p1 > p0 and not has_parallel:
            return None  # not what udtools did: validate it afresh every time
        meta = local(m0, m1, _NEWDOCPAR)
        newdocpar = next((i for i in range(m0, m1) if incidents[i].testid == _NEWDOCPAR), None)
        if newdocpar is None:
            newdocpar = self._newdocpar_position(state, comments, m0)
        if newdocpar is not None:  # errors before it in check_text_meta, the mark, the rest
            before = len(local(m0, newdocpar))
            meta[before:before] = [_SPACEAFTER]
        items = (local(0, d0) + [_DEPS, _SENTID] + local(s0, s1, _NON_UNIQUE) + [_SENTID_END]
                 + ([_PARALLEL] if has_parallel else []) + meta + local(m1, len(incidents)))
        return (len(lines), offset, state.sentence_id, ids[0] if len(ids) == 1 else None, egraph, tuple(items),
                marks.spaceafter_after)

    def _newdocpar_position(self, state, comments: list[str], meta_start: int) -> int | None:
        """Where spaceafter-newdocpar would have been among the incidents had the previous sentence ended in
        SpaceAfter=No (None: it cannot fire for this sentence). udtools' own check_text_meta says, run again with
        that flag set on a copy of the state without the token lines: the errors before it come from the comments
        alone (multiple-newdoc, multiple-newpar), the token loop comes after it. Only for sentences with a comment
        check_text_meta takes for a newdoc or newpar."""
        from udtools.utils import crex

        if not any(crex.newdoc.fullmatch(c) or crex.newpar.fullmatch(c) for c in comments):
            return None  # what check_text_meta asks before it reports spaceafter-newdocpar
        scratch = copy.copy(state)
        scratch.error_tracker = []
        scratch.error_counter = defaultdict(lambda: defaultdict(int))
        scratch.current_token_node_table = []
        scratch.marks = None
        scratch.spaceafterno_in_effect = True
        self._validator.check_text_meta(scratch)
        found = [inc.testid for inc in scratch.error_tracker]
        return meta_start + found.index(_NEWDOCPAR) if _NEWDOCPAR in found else None


def _lines(conllu_text: str) -> list[str]:
    """The lines udtools gets for one sentence, read as `udvalidate` reads a file (universal newlines)."""
    lines = [line.rstrip("\n") for line in io.StringIO(conllu_text, newline=None)]
    if lines and lines[-1] != "":
        lines.append("")  # the blank line that ends every sentence, as udtools' own reader passes it
    return lines


def _problem(file_name: str, inc) -> UDProblem:
    return UDProblem(file_name, inc.lineno, inc.level, str(inc.testclass), inc.testid, inc.message,
                     inc.sentid or None)


def _restore(state, lines: list[str], start: int, offset: int, sentence_id: str | None) -> None:
    """The per-sentence state the three id/graph checks and check_text_meta read, as udtools' level-1 checks set
    it (check_sentence_lines, check_sentence_columns) for a sentence that passed them."""
    from udtools.utils import is_whitespace

    state.current_lines = lines
    state.comment_start_line = start
    state.sentence_line = start + offset
    state.sentence_id = sentence_id
    end = len(lines) - 1 if (not lines[-1] or is_whitespace(lines[-1])) else len(lines)
    state.current_token_node_table = [line.split("\t") for line in lines[offset:end]]


@dataclass
class _Marks:
    """Where, in the state's incident list, each cross-sentence check's incidents are while one sentence is
    checked afresh: (before, after) pairs, None if it did not run."""
    deps: tuple[int, int] | None = None
    sent_id: tuple[int, int] | None = None
    parallel: tuple[int, int] | None = None
    meta: tuple[int, int] | None = None
    egraph_seen: bool | None = None  # which of its flags check_deps_all_or_none left set for this sentence
    spaceafter_after: bool | None = None  # the SpaceAfter=No state check_text_meta left, None if it set none


def _new_state(file_name: str, seen_ids: set[str]):
    state = _state_class()()
    state.current_file_name = file_name
    state.known_sent_ids = seen_ids
    state.marks = None
    return state


@lru_cache(maxsize=None)
def _state_class():
    from udtools.state import State

    class TrackedState(State):
        """udtools' State, noting whether `spaceafterno_in_effect` was set (not only what it holds)."""

        @property
        def spaceafterno_in_effect(self):
            return self._spaceafterno

        @spaceafterno_in_effect.setter
        def spaceafterno_in_effect(self, value):
            self._spaceafterno = value
            self.spaceafterno_set = True

    return TrackedState


@lru_cache(maxsize=None)
def _recording_validator(lang: str, level: int):
    """udtools' Validator, marking where its cross-sentence checks run (only while a state carries marks).
    One per (lang, level), shared: it keeps no per-file state, and loading its data takes ~0.2 s."""
    from udtools import Validator

    class RecordingValidator(Validator):
        def check_deps_all_or_none(self, state):
            marks, start = state.marks, len(state.error_tracker)
            result = super().check_deps_all_or_none(state)
            if marks is not None:
                marks.deps = (start, len(state.error_tracker))
                enhanced, tree = bool(state.seen_enhanced_graph), bool(state.seen_tree_without_enhanced_graph)
                # Only one of the two set: then it is this sentence's kind (it would have set the other).
                marks.egraph_seen = enhanced if enhanced != tree else None
            return result

        def check_sent_id(self, state):
            marks, start = state.marks, len(state.error_tracker)
            result = super().check_sent_id(state)
            if marks is not None:
                marks.sent_id = (start, len(state.error_tracker))
            return result

        def check_parallel_id(self, state):
            marks, start = state.marks, len(state.error_tracker)
            result = super().check_parallel_id(state)
            if marks is not None:
                marks.parallel = (start, len(state.error_tracker))
            return result

        def check_text_meta(self, state):
            marks, start = state.marks, len(state.error_tracker)
            if marks is not None:
                state.spaceafterno_set = False
            result = super().check_text_meta(state)
            if marks is not None:
                marks.meta = (start, len(state.error_tracker))
                marks.spaceafter_after = state.spaceafterno_in_effect if state.spaceafterno_set else None
            return result

    return RecordingValidator(lang=lang, level=level, output=None)  # output=None: incidents stored, not printed


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
