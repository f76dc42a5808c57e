"""Closed choices are Enums (cli/choices.py): typer rejects anything else with its usage error (exit 2),
and the commands hand the library plain strings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mudawwana.cli import app
from mudawwana.cli.choices import Device, Policy, Size, TxtDocs


def test_choices_mirror_the_library():
    from mudawwana.annotate.policies import POLICIES
    from mudawwana.corpus.stanza_models import _device
    from mudawwana.corpus.train import SIZES

    assert [p.value for p in Policy] == list(POLICIES)
    assert [s.value for s in Size] == list(SIZES)
    assert [_device(d.value) for d in Device if d is not Device.auto] == ["cpu", "cuda"]
    assert {t.value for t in TxtDocs} == {"file", "blank-line"}


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text("نص عربي\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("args", [
    ["tag", "{text}", "-o", "{tmp}/x.conllu", "--device", "gpu"],
    ["tag", "{text}", "-o", "{tmp}/x.conllu", "--txt-docs", "paragraph"],
    ["train", "{text}", "-o", "{tmp}/m", "--size", "huge"],
    ["export", "{text}", "-o", "{tmp}/out", "--policy", "newest"],
    ["export", "{text}", "-o", "{tmp}/out", "--schema", "hf"],
])
def test_an_invalid_choice_is_a_usage_error(args, text_file, tmp_path):
    args = [a.format(text=text_file, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    option = args[-2]
    assert f"Invalid value for '{option}'" in result.output and args[-1] in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [text_file]  # nothing written


def test_tag_hands_the_library_plain_strings(monkeypatch, text_file, tmp_path):
    seen = {}

    def fake_tag_files(inputs, output, **kwargs):
        seen.update(kwargs)
        from mudawwana.corpus.tag_job import TagReport
        return TagReport(output)

    monkeypatch.setattr("mudawwana.cli.tag.tag_files", fake_tag_files)
    result = CliRunner().invoke(app, ["tag", str(text_file), "-o", str(tmp_path / "x.conllu"),
                                      "--device", "cpu", "--txt-docs", "blank-line"])
    assert result.exit_code == 0, result.output
    assert type(seen["device"]) is str and seen["device"] == "cpu"
    assert type(seen["reader_options"].txt_docs) is str and seen["reader_options"].txt_docs == "blank-line"
