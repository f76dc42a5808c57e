"""`mudawwana convert`: a thin layer over corpus/clitics.py that prints what it joined, split and kept."""

from __future__ import annotations

import itertools

from typer.testing import CliRunner

from mudawwana.cli import app
from mudawwana.cli.choices import Clitics
from mudawwana.corpus.clitics import CLITICS
from mudawwana.corpus.conllu_io import read_conllu, write_conllu
from mudawwana.corpus.sample import SAMPLE_CONLLU

# ل + التنمية: PADT's spelling of للتنمية, whose words do not spell the token
PADT_KEPT = ("# sent_id = k1\n# text = وقال للتنمية\n"
             "1-2\tوقال\t_\t_\t_\t_\t_\t_\t_\t_\n"
             "1\tو\t_\tCCONJ\t_\t_\t0\troot\t_\t_\n2\tقال\t_\tVERB\t_\t_\t1\tparataxis\t_\t_\n"
             "3-4\tللتنمية\t_\t_\t_\t_\t_\t_\t_\t_\n"
             "3\tل\t_\tADP\t_\t_\t4\tcase\t_\t_\n4\tالتنمية\t_\tNOUN\t_\t_\t2\tobl\t_\t_\n\n")


def test_clitics_choices_mirror_the_library():
    assert [c.value for c in Clitics] == list(CLITICS)


def test_convert_to_mwt_and_back(tmp_path):
    sample = tmp_path / "sample.conllu"
    write_conllu(itertools.islice(read_conllu(SAMPLE_CONLLU), 50), sample)
    mwt, back = tmp_path / "mwt.conllu", tmp_path / "back.conllu"

    result = CliRunner().invoke(app, ["convert", str(sample), "-o", str(mwt), "--clitics", "mwt"])
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert "Converted 50 sentences" in summary and "(clitics as mwt)" in summary
    assert "multi-word tokens made from" in summary
    assert any(t.is_multiword for s in read_conllu(mwt) for t in s.tokens)

    result = CliRunner().invoke(app, ["convert", str(mwt), "-o", str(back), "--clitics", "tokens"])
    assert result.exit_code == 0, result.output
    assert "multi-word tokens split into" in " ".join(result.output.split())
    assert back.read_bytes() == sample.read_bytes()


def test_convert_says_which_multiword_tokens_it_kept(tmp_path):
    source, out = tmp_path / "padt.conllu", tmp_path / "tokens.conllu"
    source.write_text(PADT_KEPT, encoding="utf-8")
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(out), "--clitics", "tokens"])
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert "1 multi-word tokens split into 2 glued tokens" in summary
    assert "1 multi-word tokens kept: its words' forms do not spell its surface" in summary
    assert "k1: للتنمية" in summary
    (s,) = read_conllu(out)
    assert [t.form for t in s.tokens] == ["و", "قال", "للتنمية"]


def test_bad_input_and_bad_choice(tmp_path):
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "none.conllu"), "-o", str(tmp_path / "o.conllu"),
                                      "--clitics", "mwt"])
    assert result.exit_code == 1 and "none.conllu: no such file" in result.output
    source = tmp_path / "padt.conllu"
    source.write_text(PADT_KEPT, encoding="utf-8")
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(tmp_path / "o.conllu"), "--clitics", "padt"])
    assert result.exit_code == 2 and "Invalid value for '--clitics'" in result.output
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tو\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["convert", str(bad), "-o", str(tmp_path / "o.conllu"), "--clitics", "mwt"])
    assert result.exit_code == 1 and "bad.conllu:1:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.conllu").exists()
