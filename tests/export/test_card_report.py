"""The annotation report in the dataset card: `mudawwana export --report rounds.json`."""

from __future__ import annotations

import json
import re

from mudawwana.corpus.conllu_io import write_conllu
from mudawwana.corpus.splits import split_of as corpus_split_of
from mudawwana.export.card import training_report
from mudawwana.export.export_job import export_corpus
from mudawwana.export.splits import document_key, split_of

REPORT = {
    "project": "news", "layers": ["upos", "lemma", "seg", "deps"], "tasks": 120, "annotated_tasks": 80,
    "annotations_without_shown_prediction": 0, "unmappable_pairs": 0,
    "models": [{"model_version": "tiny@abc", "round": 0, "deployed": True, "annotations": 80, "words": 1480,
                "compared_words": 1480, "rates": {"upos": 0.4527, "lemma": 0.268, "feats": 0.0, "head": 0.667,
                                                  "deprel": 0.8041, "seg": 0.0, "any": 0.97},
                "changed": {}, "entities": None, "heldout_scores": {"UPOS": 51.67, "LAS": 4.78}}],
    "rounds": [{"round": 1, "previous_model": "tiny@abc", "new_model": "news-r1@def", "deployed": True,
                "forced": False, "corrections_trained_on": 59, "heldout": {"sentences": 6, "documents": 2},
                "heldout_scores": {"previous": {"UPOS": 51.67, "Lemmas": 72.7, "UAS": 22.0, "LAS": 4.78},
                                   "new": {"UPOS": 45.63, "Lemmas": 55.3, "UAS": 30.1, "LAS": 10.68}}}],
}


def test_export_and_retrain_share_one_split(sample_sentences):
    for s in sample_sentences(100):
        assert split_of(document_key(s), (0.8, 0.1, 0.1)) == corpus_split_of(document_key(s))


def test_card_has_the_report_tables_and_stays_byte_identical(tmp_path, sample_sentences, file_hashes):
    corpus = tmp_path / "corrected.conllu"
    write_conllu(sample_sentences(30), corpus)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        with training_report(json.loads(json.dumps(REPORT))):
            export_corpus(corpus, out, name="news")
        outs.append(out)
    text = (outs[0] / "README.md").read_text(encoding="utf-8")
    assert "### What annotators changed, per model" in text and "### Retraining rounds" in text
    assert "| 0 | `tiny@abc` | 80 | 1,480 | 45.3 | 26.8 | 0.0 | 66.7 | 80.4 | 0.0 | 97.0 | – | 51.7 | 4.8 |" in text
    assert "| 1 | 59 | 6 | 51.7 → 45.6 | 72.7 → 55.3 | 22.0 → 30.1 | 4.8 → 10.7 | yes |" in text
    assert text.index("## How the corpus was made") < text.index("### Retraining rounds") < text.index(
        "## Validation")
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", text)
    assert file_hashes(outs[0]) == file_hashes(outs[1])
    # outside the context, cards have no report
    export_corpus(corpus, tmp_path / "plain", name="news")
    assert "Retraining rounds" not in (tmp_path / "plain" / "README.md").read_text(encoding="utf-8")


def test_export_command_reads_the_report(tmp_path, sample_sentences):
    from typer.testing import CliRunner

    from mudawwana.cli import app

    corpus = tmp_path / "corrected.conllu"
    write_conllu(sample_sentences(20), corpus)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "rounds.json").write_text(json.dumps(REPORT), encoding="utf-8")
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    bad = CliRunner().invoke(app, ["export", str(corpus), "-o", str(tmp_path / "out"), "--report",
                                   str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "is not the rounds.json of `mudawwana report`" in bad.output
    assert not (tmp_path / "out").exists()
    good = CliRunner().invoke(app, ["export", str(corpus), "-o", str(tmp_path / "out"), "--report",
                                    str(tmp_path / "report")])
    assert good.exit_code == 0, good.output
    assert "### Retraining rounds" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
