"""corpus.ud_validator: in-process udtools finds what `udvalidate --lang ar --level 2` finds on the file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mudawwana.corpus import InvalidConlluError, UDValidator, validate_conllu_text, validate_sentence
from mudawwana.corpus.conllu_io import parse_conllu, read_conllu

GOOD = ("# sent_id = s{n}\n# text = كتب الولد\n"
        "1\tكتب\tكتب\tVERB\t_\t_\t0\troot\t_\t_\n"
        "2\tالولد\tولد\tNOUN\t_\tDefinite=Def\t1\tnsubj\t_\t_\n\n")


def udvalidate(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("udvalidate")
    return subprocess.run([str(exe), "--lang", "ar", "--level", "2", "--max-err", "0", str(path)],
                          capture_output=True, text=True)


def test_a_valid_sentence_and_the_bundled_sample_pass(sample_path):
    assert validate_conllu_text(GOOD.format(n=1)) == []
    validator = UDValidator(str(sample_path))
    assert [p for s in list(read_conllu(sample_path))[:200] for p in validator.check(s)] == []


@pytest.mark.parametrize("old, new, rule", [
    ("\tولد\t", "\tولد \t", "trailing-whitespace"),
    ("\tولد\t", "\t\t", "empty-column"),
    ("\tDefinite=Def\t", "\tFoo\t", "invalid-feature"),
    ("الولد", "الولد\u064e\u0651", None),  # FATHA then SHADDA, in `# text` and FORM: canonical order, NFC
    ("الولد", "الولد\u0651\u064e", "unicode-normalization"),  # SHADDA then FATHA, as PADT stores it
    ("# text = كتب الولد", "# text = كتب\rالولد", "invalid-line"),  # a CR ends the line when the file is read
])
def test_each_rule_is_reported_by_its_id(old, new, rule):
    problems = validate_conllu_text(GOOD.format(n=1).replace(old, new))
    assert [p.testid for p in problems][:1] == ([rule] if rule else [])


def test_messages_name_the_file_line_and_rule_as_udvalidate_does(tmp_path):
    bad = GOOD.format(n=2).replace("\tDefinite=Def\t", "\tFoo\t")
    text = GOOD.format(n=1) + bad + GOOD.format(n=3).replace("\tولد\t", "\tولد \t")
    path = tmp_path / "three.conllu"
    path.write_text(text, encoding="utf-8")
    validator = UDValidator(str(path))
    problems = [p for s in parse_conllu(text) for p in validator.check(s)]
    assert [(p.sent_id, p.testid) for p in problems] == [("s2", "invalid-feature"), ("s3", "trailing-whitespace")]
    assert str(problems[0]) == f"{path}:9: [L2 MORPHO invalid-feature] {problems[0].message}"
    result = udvalidate(path)
    reported = re.findall(r"\[Line (\d+) Sent (\S+)\]: \[L(\d) (\w+) ([\w-]+)\]", result.stdout + result.stderr)
    assert [(int(line), sent, testid) for line, sent, _, _, testid in reported] == \
        [(p.lineno, p.sent_id, p.testid) for p in problems]


def test_sent_ids_are_unique_across_the_file_and_the_ids_it_was_given():
    validator = UDValidator("out.conllu", known_sent_ids={"s1"})
    [again] = validator.check_text(GOOD.format(n=1))
    assert again.testid == "non-unique-sent-id"
    assert validator.check_text(GOOD.format(n=2)) == []
    assert [p.testid for p in validator.check_text(GOOD.format(n=2))] == ["non-unique-sent-id"]


def test_require_raises_naming_the_sentence_the_rule_and_the_fix():
    [sentence] = parse_conllu(GOOD.format(n=7).replace("\tDefinite=Def\t", "\tFoo\t"))
    with pytest.raises(InvalidConlluError) as caught:
        UDValidator().require(sentence, fix="fix it and rerun")
    message = str(caught.value)
    assert message.startswith("sentence s7 fails the UD validator (udvalidate --lang ar --level 2): "
                              "[L2 MORPHO invalid-feature] Spurious morphological feature: 'Foo'")
    assert message.endswith("; fix it and rerun")
    assert caught.value.sent_id == "s7" and caught.value.problems[0].testid == "invalid-feature"
    assert validate_sentence(parse_conllu(GOOD.format(n=1))[0]) == []
