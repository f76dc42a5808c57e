"""The export directory: loadable in both layouts, right counts and features, valid CoNLL-U, and
byte-identical on reruns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import datasets

from mudawwana.corpus.conllu_io import parse_conllu, read_conllu, write_conllu
from mudawwana.corpus.data_model import (META_AGREEMENT, META_ANNOTATORS, META_MODEL_VERSION, META_STATUS, META_TEXT_NORM,
                          Entity)
from mudawwana.export.export_job import conllu_file_name, export_corpus
from mudawwana.export.schema_mudawwana import FEATURES, NER_TAGS, row
from mudawwana.export.splits import SPLITS

LOAD_FROM_DISK = """
import json, sys, datasets
dd = datasets.load_from_disk(sys.argv[1] if len(sys.argv) > 1 else {out!r})
print(json.dumps({{"rows": {{k: v.num_rows for k, v in dd.items()}},
                  "features": {{k: v.features.to_dict() for k, v in dd.items()}}}}))
"""

LOAD_PARQUET = """
import json, datasets
dd = datasets.load_dataset("parquet", data_dir={data!r})
hub_like = datasets.load_dataset({out!r})  # the README's configs, as the Hub reads the repo
print(json.dumps({{"rows": {{k: v.num_rows for k, v in dd.items()}},
                  "hub_rows": {{k: v.num_rows for k, v in hub_like.items()}},
                  "features": {{k: v.features.to_dict() for k, v in dd.items()}},
                  "first": dd["train"][0]["sent_id"]}}))
"""


def test_layout(exported):
    out, result = exported
    names = {conllu_file_name(result.name, s) for s in SPLITS}
    assert names == {"ar_pudtest-ud-train.conllu", "ar_pudtest-ud-dev.conllu", "ar_pudtest-ud-test.conllu"}
    expected = {"README.md", "dataset_dict.json", *names}
    for split in SPLITS:
        expected |= {f"data/{split}-00000-of-00001.parquet", f"{split}/data-00000-of-00001.arrow",
                     f"{split}/dataset_info.json", f"{split}/state.json"}
    assert set(result.files) == expected
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == expected
    assert not list(out.parent.glob(f".{out.name}.*"))  # no staging directory left behind


def test_counts(exported, sample_sentences):
    out, result = exported
    sentences = sample_sentences()
    assert result.sentences == len(sentences)
    assert sum(c.words for c in result.splits.values()) == sum(len(s.words) for s in sentences)
    assert sum(c.tokens for c in result.splits.values()) == sum(len(s.tokens) for s in sentences)
    for split, counts in result.splits.items():
        assert counts.sentences > 0
        assert len(list(read_conllu(out / conllu_file_name(result.name, split)))) == counts.sentences


def test_load_from_disk_in_a_fresh_process(exported, run_python, tmp_path):
    out, result = exported
    got = run_python(LOAD_FROM_DISK.format(out=str(out)), tmp_path)
    assert got["rows"] == {s: c.sentences for s, c in result.splits.items()}
    assert all(f == FEATURES.to_dict() for f in got["features"].values())


def test_load_parquet_in_a_fresh_process(exported, run_python, tmp_path):
    out, result = exported
    got = run_python(LOAD_PARQUET.format(data=str(out / "data"), out=str(out)), tmp_path)
    assert got["rows"] == {s: c.sentences for s, c in result.splits.items()}
    assert got["hub_rows"] == got["rows"]
    assert all(f == FEATURES.to_dict() for f in got["features"].values())


def test_rows_match_the_conllu(exported):
    out, result = exported
    dataset = datasets.load_from_disk(str(out))["train"]
    sentences = list(read_conllu(out / conllu_file_name(result.name, "train")))
    assert dataset["sent_id"] == [s.sent_id for s in sentences]
    first, s = dataset[0], sentences[0]
    assert first["doc_id"] == s.doc_id and first["text"] == s.text
    assert [w["form"] for w in first["words"]] == [w.form for w in s.words]
    upos = FEATURES["words"].feature["upos"]
    assert [upos.int2str(w["upos"]) for w in first["words"]] == [w.upos for w in s.words]
    assert [w["head"] for w in first["words"]] == [w.head for w in s.words]
    for t in first["tokens"]:
        assert first["text"][t["start"]:t["end"]] == t["form"]


def test_udvalidate_passes_on_the_exported_files(exported):
    out, result = exported
    udvalidate = Path(sys.executable).parent / "udvalidate"
    files = [str(out / conllu_file_name(result.name, s)) for s in result.splits]
    done = subprocess.run([str(udvalidate), "--lang", "ar", "--level", "2", *files],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_rerun_is_byte_identical(exported, sample_file, tmp_path, file_hashes):
    out, result = exported
    again = tmp_path / "again"
    shutil.copytree(out, again)
    export_corpus(sample_file, again, name=result.name, license="cc-by-sa-3.0",
                  source_description="UD Arabic-PUD (first 150 sentences)")
    assert file_hashes(again) == file_hashes(out)


def test_a_changed_sentence_changes_only_its_split(exported, sample_sentences, tmp_path, file_hashes):
    out, result = exported
    sentences = sample_sentences()
    test_ids = {s.sent_id for s in read_conllu(out / conllu_file_name(result.name, "test"))}
    target = next(s for s in sentences if s.sent_id in test_ids)
    target.words[0].lemma = target.words[0].lemma + "ـ"  # a correction of one lemma
    changed_input = tmp_path / "changed.conllu"
    write_conllu(sentences, changed_input)
    again = tmp_path / "again"
    shutil.copytree(out, again)
    export_corpus(changed_input, again, name=result.name, license="cc-by-sa-3.0",
                  source_description="UD Arabic-PUD (first 150 sentences)")
    before, after = file_hashes(out), file_hashes(again)
    changed = {f for f in before if before[f] != after[f]}
    assert set(before) == set(after)
    assert {"test/data-00000-of-00001.arrow", "test/state.json", "data/test-00000-of-00001.parquet",
            conllu_file_name(result.name, "test")} <= changed
    assert changed <= {"test/data-00000-of-00001.arrow", "test/state.json", "data/test-00000-of-00001.parquet",
                       conllu_file_name(result.name, "test"), "README.md"}


MWT_WITH_METADATA = """# newdoc id = d1
# sent_id = d1-1
# text = وبه كتاب
# text_norm = وبه كتاب.
# model_version = ar_padt@abc123
# annotation_status = reviewed
# annotators = ann01, ann02
# agreement = 0.875
1-3\tوبه\t_\t_\t_\t_\t_\t_\t_\tNER=B-ORG
1\tو\tوَ\tCCONJ\tC---------\t_\t4\tcc\t_\t_
2\tب\tبِ\tADP\tP---------\tAdpType=Prep\t3\tcase\t_\t_
3\tه\tهُوَ\tPRON\tSP---3MS2-\tCase=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs\t4\tnmod\t_\t_
4\tكتاب\tكِتَاب\tNOUN\tN------S1I\tCase=Nom|Definite=Ind|Number=Sing\t0\troot\t_\tNER=I-ORG|SpaceAfter=No

"""


def test_mudawwana_row_tokens_words_entities_metadata():
    sentence = parse_conllu(MWT_WITH_METADATA)[0]
    assert sentence.entities == [Entity(0, 2, "ORG")]
    r = row(sentence)
    assert FEATURES.encode_example(FEATURES.decode_example(r)) == r  # the row fits the features
    assert [t["form"] for t in r["tokens"]] == ["وبه", "كتاب"]
    assert [(t["start"], t["end"]) for t in r["tokens"]] == [(0, 3), (4, 8)]
    assert [w["token"] for w in r["words"]] == [0, 0, 0, 1]
    assert [(w["start"], w["end"]) for w in r["words"]] == [(0, 1), (1, 2), (2, 3), (4, 8)]
    assert r["entities"] == [{"start_token": 0, "end_token": 2, "label": 2}]  # ORG
    assert [NER_TAGS[t] for t in r["ner_tags"]] == ["B-ORG", "I-ORG"]
    assert r["annotators"] == ["ann01", "ann02"] and r["num_annotators"] == 2
    assert r["annotation_status"] == "reviewed" and r["model_version"] == "ar_padt@abc123"
    assert r["agreement"] == 0.875


def test_metadata_reaches_dataset_and_card(tmp_path):
    path = tmp_path / "meta.conllu"
    path.write_text(MWT_WITH_METADATA, encoding="utf-8")
    out = tmp_path / "out"
    seen = []
    result = export_corpus(path, out, name="meta", ratios=(1, 0, 0), progress=seen.append)
    assert seen == [1]  # the final call always comes, with the number of sentences read
    assert list(result.splits) == ["train"]
    train = datasets.load_from_disk(str(out))["train"]
    assert train[0]["agreement"] == 0.875 and train[0]["num_annotators"] == 2
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`ar_padt@abc123`: 1" in card and "reviewed: 1" in card
    assert "2 distinct" in card and "mean 0.875" in card
    assert "`# text_norm`) for 1 sentences" in card
    for key in (META_TEXT_NORM, META_MODEL_VERSION, META_STATUS, META_ANNOTATORS, META_AGREEMENT):
        assert f"# {key} = " in (out / "ar_meta-ud-train.conllu").read_text(encoding="utf-8")
