"""The dataset card: YAML the Hub accepts, and a description of the corpus with nothing time-dependent."""

from __future__ import annotations

import re

from huggingface_hub import DatasetCard

from mudawwana.corpus.data_model import UPOS_TAGS
from mudawwana.export.card import size_category


def test_card_yaml_metadata(exported):
    out, result = exported
    card = DatasetCard.load(out / "README.md")
    data = card.data
    assert data.language == ["ar"]
    assert data.license == "cc-by-sa-3.0"
    assert data.task_categories == ["token-classification"]
    assert data.task_ids == ["part-of-speech", "named-entity-recognition", "parsing"]
    assert data.size_categories == ["n<1K"]
    assert data.pretty_name == "Arabic pudtest corpus (mudawwana)"
    configs = data.to_dict()["configs"]
    assert configs == [{"config_name": "default", "data_files": [
        {"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")]}]
    info = data.to_dict()["dataset_info"]
    assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
        s: c.sentences for s, c in result.splits.items()}


def test_card_text(exported):
    out, result = exported
    text = (out / "README.md").read_text(encoding="utf-8")
    for split, counts in result.splits.items():
        assert f"| {split} | {counts.documents:,} | {counts.sentences:,} | {counts.tokens:,} | {counts.words:,} |" \
            in text
    assert "## UPOS distribution" in text and "| NOUN |" in text
    assert "UD Arabic-PUD (first 150 sentences)" in text
    assert "udvalidate --lang ar --level 2" in text and "All passed." in text
    assert "sha256 of the document id" in text
    # no dates or times: the card must be the same on every rerun
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", text)


def test_ud_card_explains_multiword_tokens(exported_ud):
    text = (exported_ud[0] / "README.md").read_text(encoding="utf-8")
    assert "## Schema (`ud`)" in text
    assert "multi-word token appears as its surface form" in text


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 100_000, 2_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M"]
    assert len(UPOS_TAGS) == 17
