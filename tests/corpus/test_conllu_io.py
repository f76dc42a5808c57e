import hashlib
from pathlib import Path

import pytest

from mudawwana.corpus.conllu_io import ConlluError, format_sentence, parse_conllu, read_conllu, write_conllu
from mudawwana.corpus.files import atomic_writer
from mudawwana.corpus.data_model import Entity

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"

# A sentence with what PUD lacks: a multi-word token (clitics), an empty node, duplicate and key-less
# comments, FEATS/MISC in non-alphabetical order.
MWT = """\
# newdoc id = d1
# sent_id = d1-1
# text = وبانه كتب.
# note
# note
1-4	وبانه	_	_	_	_	_	_	_	_
1	و	و	CCONJ	C---------	_	5	cc	_	_
2	ب	ب	ADP	P---------	AdpType=Prep	3	case	_	_
3	أن	أن	SCONJ	C---------	_	5	mark	_	_
4	ه	هو	PRON	SP---3MS2-	Person=3|Gender=Masc	3	nsubj	_	_
5	كتب	كتب	VERB	VP-A-3MS--	Voice=Act|Aspect=Perf	0	root	_	SpaceAfter=No|Gloss=wrote
5.1	كتب	كتب	VERB	_	_	_	_	0:root	_
6	.	.	PUNCT	G---------	_	5	punct	_	_

"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sample_round_trip_is_byte_identical(tmp_path):
    out = tmp_path / "out.conllu"
    n = write_conllu(read_conllu(SAMPLE), out)
    assert n == 1000
    assert sha(out) == sha(SAMPLE)


def test_multiword_tokens_empty_nodes_and_comments_round_trip():
    [sentence] = parse_conllu(MWT)
    assert format_sentence(sentence) == MWT
    assert sentence.doc_id == "d1" and sentence.sent_id == "d1-1"
    token = sentence.tokens[0]
    assert token.is_multiword and [w.form for w in token.words] == ["و", "ب", "أن", "ه"]
    assert (token.start, token.end) == (0, 5)
    # ب + أن + ه does not spell بانه, so the words carry the token's span (stanza issue 1361 design).
    assert all((w.start, w.end) == (0, 5) for w in token.words)
    assert sentence.text[sentence.tokens[1].start:sentence.tokens[1].end] == "كتب"
    assert sentence.comments.count("note") == 2


def test_offsets_point_into_text_for_every_sample_token():
    for sentence in read_conllu(SAMPLE):
        for tok in sentence.tokens:
            assert sentence.text[tok.start:tok.end] == tok.form


def test_doc_id_carries_over_sentences_without_newdoc():
    second = "# sent_id = d1-2\n# text = كتب\n1\tكتب\t_\t_\t_\t_\t0\troot\t_\t_\n\n"
    third = "# newdoc id = d2\n" + second.replace("d1-2", "d2-1")
    sentences = parse_conllu(MWT + second + third)
    assert [s.doc_id for s in sentences] == ["d1", "d1", "d2"]


def test_entities_live_in_token_misc():
    [sentence] = parse_conllu(MWT)
    sentence.set_entities([Entity(0, 2, "PER")])
    assert sentence.entities == [Entity(0, 2, "PER")]
    assert sentence.tokens[0].mwt_misc == "NER=B-PER"
    assert sentence.tokens[1].words[0].misc == "SpaceAfter=No|Gloss=wrote|NER=I-PER"
    again = parse_conllu(format_sentence(sentence))[0]
    assert again.entities == [Entity(0, 2, "PER")]
    sentence.set_entities([])
    assert format_sentence(sentence) == MWT


def test_bad_column_count_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = x\n1\tx\t_\n\n", encoding="utf-8")
    with pytest.raises(ConlluError, match=r"bad\.conllu:2: expected 10"):
        list(read_conllu(bad))


def test_atomic_writer_keeps_the_old_file_on_failure(tmp_path):
    out = tmp_path / "out.conllu"
    out.write_text("good\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_writer(out) as f:
            f.write("half")
            raise RuntimeError("crash")
    assert out.read_text(encoding="utf-8") == "good\n"
    assert list(tmp_path.iterdir()) == [out]
