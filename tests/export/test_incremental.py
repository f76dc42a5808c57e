"""Incremental export: the sentence cache (export/sentence_cache.py) and validation replays (export/validate.py).

What must hold: an export that reads sentences from the cache writes exactly the files, and reports exactly the
invalid sentences and messages (line numbers included), of an export without it; the validator state a replay
leaves is that of a fresh check, for every check udtools makes across sentences.
"""

from __future__ import annotations

import copy
import random
import sqlite3
import subprocess
import sys

import pytest

from mudawwana.corpus import conllu_io
from mudawwana.corpus.conllu_io import format_sentence, read_conllu, write_conllu
from mudawwana.corpus.data_model import set_misc
from mudawwana.export import export_job
from mudawwana.export.errors import InvalidSentencesError
from mudawwana.export.export_job import export_corpus
from mudawwana.export.sentence_cache import default_cache_path
from mudawwana.export.validate import AUDITED_UDTOOLS, SentenceValidator, udtools_version

FILES = {"train": "t.conllu", "validation": "v.conllu", "test": "x.conllu"}


def test_the_installed_udtools_was_audited():
    assert udtools_version() in AUDITED_UDTOOLS, (
        f"udtools {udtools_version()} is installed: read its cross-sentence checks again (export/validate.py's "
        "docstring lists what 0.2.9 has), then add the version to AUDITED_UDTOOLS; until then every export "
        "validates every sentence")


# --- replays, one sentence kind at a time ---------------------------------------------------------------------

def _kinds(sample_sentences) -> dict[str, str]:
    """CoNLL-U texts exercising each check udtools makes across sentences, and a few it makes per sentence."""
    base = sample_sentences(12)
    out = {}

    def text(i, edit=None, comments=None):
        s = copy.deepcopy(base[i])
        if comments is not None:
            s.comments = comments(s.comments)
        if edit:
            edit(s)
        return format_sentence(s)

    out["plain"] = text(1)
    out["plain2"] = text(2)
    out["newdoc"] = text(3, comments=lambda c: ["newdoc id = d3", *c])  # udtools 0.2.9: not a newdoc for this check
    out["newdoc-bare"] = text(3, comments=lambda c: ["newdoc", *c])
    out["newpar"] = text(4, comments=lambda c: ["newpar", *c])
    out["newpar-twice"] = text(5, comments=lambda c: ["newpar", "newpar", *c])  # multiple-newpar, then more

    def space_after_no(s):
        s.tokens[-1].misc = set_misc(s.tokens[-1].misc, "SpaceAfter", "No")
    out["ends-spaceafter-no"] = text(6, space_after_no)
    out["dup-a"] = text(7)  # the same sent_id as dup-b
    out["dup-b"] = text(8, comments=lambda c: [x if not x.startswith("sent_id") else "sent_id = " + base[7].sent_id
                                               for x in c])

    def enhanced(s):
        for w in s.words:
            w.deps = f"{w.head}:{w.deprel}"
    out["egraph"] = text(9, enhanced)
    out["parallel"] = text(10, comments=lambda c: [*c, "parallel_id = pud/n01001011"])
    out["parallel-alt"] = text(11, comments=lambda c: [*c, "parallel_id = pud/n01001011/alt2"])

    def bad_upos(s):
        s.words[1].upos = "FOO"
    out["bad-upos"] = text(1, bad_upos, comments=lambda c: [x + "-u" if x.startswith("sent_id") else x for x in c])

    def bad_ids(s):
        s.words[2].id = 7  # check_id_sequence fails: validation stops before the cross-sentence checks
    out["bad-ids"] = text(2, bad_ids, comments=lambda c: [x + "-i" if x.startswith("sent_id") else x for x in c])
    out["no-sent-id"] = text(3, comments=lambda c: [x for x in c if not x.startswith("sent_id")])
    out["two-sent-ids"] = text(4, comments=lambda c: [*c, "sent_id = another"])
    out["slash"] = text(5, comments=lambda c: [x + "/x" if x.startswith("sent_id") else x for x in c])
    return out


def _fresh(sequence):
    validator = SentenceValidator(FILES)
    return [validator.check(split, text) for split, text in sequence]


def _records(kinds: dict[str, str]) -> dict[str, tuple]:
    """Each text's record from a check in a context unlike the replays': alone, in a file of its own."""
    out = {}
    for name, text in kinds.items():
        _, record = SentenceValidator(FILES).check_recorded("train", text)
        assert record is not None, name
        out[name] = record
    return out


def test_every_kind_is_reported_somewhere(sample_sentences):
    """The sequences below do trigger the cross-sentence errors they are meant to test."""
    kinds = _kinds(sample_sentences)
    sequence = [("train", kinds[k]) for k in ("plain", "ends-spaceafter-no", "newpar", "dup-a", "egraph", "plain2",
                                               "parallel", "parallel", "dup-b", "parallel-alt")]
    found = " ".join(" ".join(p) for p in _fresh(sequence))
    for testid in ("spaceafter-newdocpar", "non-unique-sent-id", "edeps-only-sometimes", "non-unique-parallel-id"):
        assert testid in found, testid


@pytest.mark.parametrize("seed", range(6))
def test_replays_report_what_fresh_checks_report(sample_sentences, seed):
    kinds = _kinds(sample_sentences)
    records = _records(kinds)
    rng = random.Random(seed)
    names = list(kinds)
    # Random files: sentences repeat (every id twice...), follow each other in every order, fall into all splits.
    sequence = [(rng.choice(list(FILES)), rng.choice(names)) for _ in range(40)]
    expected = _fresh([(split, kinds[name]) for split, name in sequence])
    # Some sentences replayed, the others checked afresh, in the same validators.
    validator = SentenceValidator(FILES)
    got = []
    for split, name in sequence:
        if rng.random() < 0.7:
            got.append(validator.replay(split, kinds[name], records[name]))
        else:
            got.append(validator.check(split, kinds[name]))
    assert got == expected


def test_replay_after_spaceafter_no_reports_the_new_paragraph(sample_sentences):
    kinds = _kinds(sample_sentences)
    records = _records(kinds)  # newpar was recorded after nothing: its error did not fire then
    for follower in ("newpar", "newdoc-bare", "newpar-twice"):
        sequence = [("train", kinds["ends-spaceafter-no"]), ("train", kinds[follower])]
        expected = _fresh(sequence)
        assert any("spaceafter-newdocpar" in p for p in expected[1])
        validator = SentenceValidator(FILES)
        got = [validator.replay("train", kinds["ends-spaceafter-no"], records["ends-spaceafter-no"]),
               validator.replay("train", kinds[follower], records[follower])]
        assert got == expected


# --- the reader's sentences ------------------------------------------------------------------------------------

def test_blocks_are_the_sentences_read_conllu_reads(tmp_path, sample_sentences):
    texts = [format_sentence(s) for s in sample_sentences(6)]
    raw = (texts[0].replace("\n", "\r\n") + "  \t\n" + texts[1] + "\n\n\n" + texts[2].replace("\n", "\r")
           + " \u00a0\n" + texts[3].rstrip("\n") + "\n\f\n" + texts[4] + texts[5].rstrip("\n"))
    path = tmp_path / "odd.conllu"
    path.write_bytes(raw.encode("utf-8"))
    expected = [(format_sentence(s), s.doc_id) for s in read_conllu(path)]
    got, doc_id = [], None
    for first, lines in export_job._blocks(path):
        sentence = conllu_io._parse_block(list(enumerate(lines, first)), str(path), doc_id)
        doc_id = sentence.doc_id
        got.append((format_sentence(sentence), sentence.doc_id))
    assert got == expected and len(got) == 6


# --- whole exports ---------------------------------------------------------------------------------------------

@pytest.fixture
def tricky(sample_sentences):
    """80 sample sentences with every cross-sentence case, an invalid one and one without sent_id."""
    sentences = sample_sentences(80)
    sentences[10].words[1].upos = "FOO"  # invalid
    sentences[20].sent_id = sentences[60].sent_id  # a duplicate id, likely in another split
    sentences[30].tokens[-1].misc = set_misc(sentences[30].tokens[-1].misc, "SpaceAfter", "No")
    sentences[31].comments.insert(0, "newpar")
    for w in sentences[40].words:  # one enhanced graph among basic trees
        w.deps = f"{w.head}:{w.deprel}"
    sentences[50].comments.append("parallel_id = pud/n01001011")
    sentences[51].comments.append("parallel_id = pud/n01001011")
    sentences[70].set_meta("sent_id", None)
    return sentences


def _edited(sentences):
    """A later session: one sentence corrected, one inserted at the start (every line number moves), one removed."""
    out = copy.deepcopy(sentences)
    out[5].words[0].lemma = out[5].words[0].form
    inserted = copy.deepcopy(out[12])
    inserted.sent_id = "new-0"
    del out[45]
    return [inserted] + out


@pytest.mark.parametrize("schema", ["mudawwana", "ud"])
def test_warm_export_writes_and_reports_what_a_full_one_does(tricky, tmp_path, file_hashes, schema, monkeypatch):
    src = tmp_path / "in.conllu"
    write_conllu(tricky, src)
    cache = tmp_path / "cache.sqlite"
    full = export_corpus(src, tmp_path / "full", schema=schema, allow_invalid=True, cache=False)
    cold = export_corpus(src, tmp_path / "cold", schema=schema, allow_invalid=True, cache=cache)
    assert file_hashes(tmp_path / "cold") == file_hashes(tmp_path / "full")
    assert cold.invalid == full.invalid and len(full.invalid) >= 5

    write_conllu(_edited(tricky), src)
    fresh_checks = []
    original = SentenceValidator.check_recorded
    monkeypatch.setattr(SentenceValidator, "check_recorded",
                        lambda self, split, text: fresh_checks.append(text) or original(self, split, text))
    warm = export_corpus(src, tmp_path / "warm", schema=schema, allow_invalid=True, cache=cache)
    # The corrected and the inserted sentence; with --schema ud also the one without sent_id (its row's idx is its
    # place in the split: never cached).
    assert len(fresh_checks) == (2 if schema == "mudawwana" else 3)
    assert schema == "mudawwana" or "# sent_id" not in fresh_checks[-1]
    monkeypatch.undo()
    full = export_corpus(src, tmp_path / "full2", schema=schema, allow_invalid=True, cache=False)
    assert file_hashes(tmp_path / "warm") == file_hashes(tmp_path / "full2")
    assert warm.invalid == full.invalid
    assert warm.splits == full.splits and warm.files == full.files


def test_a_refusal_from_the_cache_names_the_same_sentences(tricky, tmp_path):
    src = tmp_path / "in.conllu"
    write_conllu(tricky, src)
    out = tmp_path / "out"  # the message names it
    with pytest.raises(InvalidSentencesError) as without:
        export_corpus(src, out, cache=False)
    cache = tmp_path / "cache.sqlite"
    export_corpus(src, tmp_path / "b", cache=cache, allow_invalid=True)
    with pytest.raises(InvalidSentencesError) as warm:
        export_corpus(src, out, cache=cache)
    assert str(warm.value) == str(without.value)
    assert warm.value.invalid == without.value.invalid


def test_the_cache_keeps_only_the_latest_export_s_sentences(sample_sentences, tmp_path):
    src = tmp_path / "in.conllu"
    out = tmp_path / "out"
    write_conllu(sample_sentences(30), src)
    export_corpus(src, out)
    path = default_cache_path(out)
    assert path.name == ".out-export-cache.sqlite" and path.parent == tmp_path
    assert _entries(path) == 30
    write_conllu(sample_sentences(40)[25:], src)  # 5 kept, 10 new
    export_corpus(src, out)
    assert _entries(path) == 15
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out-export-cache.sqlite", "in.conllu", "out"]


def test_a_mostly_unused_cache_is_compacted(sample_sentences, tmp_path):
    src, out = tmp_path / "in.conllu", tmp_path / "out"
    write_conllu(sample_sentences(120), src)
    export_corpus(src, out)
    size = default_cache_path(out).stat().st_size
    write_conllu(sample_sentences(130)[120:], src)  # 10 sentences, none seen before
    export_corpus(src, out)
    assert _entries(default_cache_path(out)) == 10
    assert default_cache_path(out).stat().st_size < size / 4


def _entries(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM sentences").fetchone()[0]
    finally:
        db.close()


def test_a_first_export_that_fails_leaves_no_cache_a_later_one_keeps_it(tricky, sample_sentences, tmp_path):
    src = tmp_path / "in.conllu"
    write_conllu(tricky, src)
    out = tmp_path / "out"
    with pytest.raises(InvalidSentencesError):
        export_corpus(src, out)  # refused: nothing written, no cache either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.conllu"]
    export_corpus(src, out, allow_invalid=True)
    assert _entries(default_cache_path(out)) == 80
    with pytest.raises(InvalidSentencesError):
        export_corpus(src, out)  # refused again: the cache stays, up to date
    assert _entries(default_cache_path(out)) == 80


def test_no_cache_when_asked(sample_file, tmp_path):
    export_corpus(sample_file, tmp_path / "out", cache=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_corrupt_cache_is_replaced(sample_file, tmp_path, file_hashes, exported):
    out = tmp_path / "out"
    default_cache_path(out).write_bytes(b"this is not a database" * 100)
    export_corpus(sample_file, out, name="pudtest", license="cc-by-sa-3.0",
                  source_description="UD Arabic-PUD (first 150 sentences)")
    assert file_hashes(out) == file_hashes(exported[0])
    assert _entries(default_cache_path(out)) == 150


def test_two_exports_at_once_share_one_cache(sample_file, tmp_path, file_hashes):
    cache = tmp_path / "shared.sqlite"
    code = ("import sys; from mudawwana.export.export_job import export_corpus; "
            "export_corpus(sys.argv[1], sys.argv[2], cache=sys.argv[3])")
    for _ in range(2):  # cold, then warm: both times the two runs overlap
        runs = [subprocess.Popen([sys.executable, "-c", code, str(sample_file), str(tmp_path / f"out{i}"),
                                  str(cache)], stderr=subprocess.PIPE, text=True) for i in range(2)]
        for run in runs:
            assert run.wait(timeout=300) == 0, run.stderr.read()[-3000:]
        assert file_hashes(tmp_path / "out0") == file_hashes(tmp_path / "out1")
    assert _entries(cache) == 150


# --- the Arrow conversion --------------------------------------------------------------------------------------

@pytest.mark.parametrize("schema", ["mudawwana", "ud"])
def test_codec_batches_are_the_bytes_datasets_writes(sample_sentences, tmp_path, schema):
    """writer.py builds each batch from RowCodec tuples with the features' types; datasets' own ArrowWriter.write
    infers and casts from dicts. Same bytes, also for nulls, labels outside the class lists and empty lists."""
    from datasets.arrow_writer import ArrowWriter

    from mudawwana.export import schema_mudawwana, schema_ud, writer

    sentences = sample_sentences(30)
    sentences[3].words[0].upos = "FOO"
    sentences[4].set_meta("agreement", "0.5")
    sentences[5].set_meta("annotators", "a,b")
    rows = [schema_mudawwana.row(s) if schema == "mudawwana" else schema_ud.row(s, i) for i, s in enumerate(sentences)]
    rows[6]["doc_id" if schema == "mudawwana" else "text"] = None
    if schema == "mudawwana":
        rows[7]["entities"] = []
        rows[8]["words"][0]["head"] = None
        rows[9]["entities"] = None
        rows[10]["annotators"] = None
    else:
        rows[7]["tokens"] = []
        rows[8]["xpos"] = None
    features = schema_mudawwana.FEATURES if schema == "mudawwana" else schema_ud.FEATURES
    old = ArrowWriter(features=features, path=str(tmp_path / "old.arrow"), writer_batch_size=7)
    for row in rows:
        old.write(row)
    old_bytes = old.finalize()
    old.close()
    writer.WRITER_BATCH_SIZE, saved = 7, writer.WRITER_BATCH_SIZE
    try:
        new = writer.SplitWriter(tmp_path / "x.conllu", tmp_path / "new.arrow", features)
        for row in rows:
            new.write("", new.codec.encode(row))
        new_bytes = new.finish()
    finally:
        writer.WRITER_BATCH_SIZE = saved
    assert new_bytes == old_bytes[1]
    assert (tmp_path / "new.arrow").read_bytes() == (tmp_path / "old.arrow").read_bytes()
