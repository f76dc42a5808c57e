"""corpus/clitics.py: clitics as multi-word tokens (UD Arabic-PADT) <-> glued tokens (UD Arabic-PUD).

The whole bundled sample goes PUD -> mwt -> tokens back to itself byte for byte, and both outputs pass the UD
validator (level 2); PADT-style sentences go mwt -> tokens -> mwt back to themselves; the joining rule is
pinned case by case (docs/clitics.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mudawwana.corpus.clitics import (CLITICS, KEPT_NOT_CONCATENATING, KEPT_RANGE_FEATS, KEPT_RANGE_MISC,
                                      LEFT_NOT_CLITICS, CliticsReport, convert_clitics, convert_sentences,
                                      renumber, to_glued_tokens, to_multiword_tokens)
from mudawwana.corpus.conllu_io import format_sentence, parse_conllu, read_conllu
from mudawwana.corpus.data_model import Entity
from mudawwana.corpus.errors import InputError
from mudawwana.corpus.sample import SAMPLE_CONLLU

# Sentences written the way UD Arabic-PADT writes them (its columns, XPOS tags, MISC keys and order, enhanced
# DEPS with case-marked relations, range lines with SpaceAfter=No): concatenating multi-word tokens
# (وقال, بموجبه at 16-18, عليه, منه, يخفني, vocalized وَلَمْ), ones that do not concatenate as PADT writes
# them (ل + التنمية = للتنمية, حياة + ه = حياته, أن + ه = انه, و + أميركية = واميركية), and a preposition
# glued to digits (ب300), which PADT itself leaves as two tokens.
PADT = """\
# newdoc id = padt-style
# sent_id = padt-style-1
# text = وقال الوزير ان الحكومة تعمل بموجبه للتنمية.
1-2	وقال	_	_	_	_	_	_	_	_
1	و	وَ	CCONJ	C---------	_	0	root	0:root	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
2	قال	قَال	VERB	VP-A-3MS--	Aspect=Perf|Gender=Masc|Number=Sing|Person=3|Voice=Act	1	parataxis	1:parataxis	Gloss=say,tell|LTranslit=qāl|Root=q w l|Translit=qāla|Vform=قَالَ
3	الوزير	وَزِير	NOUN	N------S1D	Case=Nom|Definite=Def|Number=Sing	2	nsubj	2:nsubj	Vform=اَلوَزِيرُ|Gloss=minister|Root=w z r|Translit=al-wazīru|LTranslit=wazīr
4	ان	أَنَّ	SCONJ	C---------	_	6	mark	6:mark	Vform=أَنَّ|Gloss=that|Root=' n|Translit=ʾanna|LTranslit=ʾanna
5	الحكومة	حُكُومَة	NOUN	N------S4D	Case=Acc|Definite=Def|Number=Sing	6	nsubj	6:nsubj	Vform=اَلحُكُومَةَ|Gloss=government|Root=.h k m|Translit=al-ḥukūmata|LTranslit=ḥukūmat
6	تعمل	عَمِل	VERB	VIIA-3FS--	Aspect=Imp|Gender=Fem|Mood=Ind|Number=Sing|Person=3|VerbForm=Fin|Voice=Act	2	ccomp	2:ccomp	Vform=تَعمَلُ|Gloss=work,do|Root=` m l|Translit=taʿmalu|LTranslit=ʿamil
7-9	بموجبه	_	_	_	_	_	_	_	_
7	ب	بِ	ADP	P---------	AdpType=Prep	8	case	8:case	Gloss=by,with|LTranslit=bi|Root=bi|Translit=bi|Vform=بِ
8	موجب	مُوجِب	NOUN	N------S2R	Case=Gen|Definite=Cons|Number=Sing	6	obl	6:obl:بِ:gen	Gloss=reason,cause|LTranslit=mūǧib|Root=w ^g b|Translit=mūǧibi|Vform=مُوجِبِ
9	ه	هُوَ	PRON	SP---3MS2-	Case=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs	8	nmod	8:nmod:gen	Gloss=he,she,it|LTranslit=huwa|Translit=hi|Vform=هِ
10-11	للتنمية	_	_	_	_	_	_	_	SpaceAfter=No
10	ل	لِ	ADP	P---------	AdpType=Prep	11	case	11:case	Gloss=for,to|LTranslit=li|Root=l|Translit=li|Vform=لِ
11	التنمية	تَنمِيَة	NOUN	N------S2D	Case=Gen|Definite=Def|Number=Sing	6	obl	6:obl:لِ:gen	Gloss=development|LTranslit=tanmiyat|Root=n m w|Translit=at-tanmiyati|Vform=اَلتَّنمِيَةِ
12	.	.	PUNCT	G---------	_	1	punct	1:punct	Vform=.|Translit=.

# sent_id = padt-style-2
# text = واتفق الطرفان على ان تتسلم الحكومة المبلغ وتنفق منه على مشروعات البلدية بموجبه.
1-2	واتفق	_	_	_	_	_	_	_	_
1	و	وَ	CCONJ	C---------	_	0	root	0:root	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
2	اتفق	اِتَّفَق	VERB	VP-A-3MS--	Aspect=Perf|Gender=Masc|Number=Sing|Person=3|Voice=Act	1	parataxis	1:parataxis	Gloss=agree|LTranslit=ittafaq|Root=w f q|Translit=ittafaqa|Vform=اِتَّفَقَ
3	الطرفان	طَرَف	NOUN	N------D1D	Case=Nom|Definite=Def|Number=Dual	2	nsubj	2:nsubj	Vform=اَلطَّرَفَانِ|Gloss=side,party|Root=.t r f|Translit=aṭ-ṭarafāni|LTranslit=ṭaraf
4	على	عَلَى	ADP	P---------	AdpType=Prep	6	mark	6:mark	Vform=عَلَى|Gloss=on,above|Root=` l w|Translit=ʿalā|LTranslit=ʿalā
5	ان	أَن	SCONJ	C---------	_	6	mark	6:mark	Vform=أَن|Gloss=to|Root=' n|Translit=ʾan|LTranslit=ʾan
6	تتسلم	تَسَلَّم	VERB	VISA-3FS--	Aspect=Imp|Gender=Fem|Mood=Sub|Number=Sing|Person=3|VerbForm=Fin|Voice=Act	2	advcl	2:advcl:عَلَى	Vform=تَتَسَلَّمَ|Gloss=receive|Root=s l m|Translit=tatasallama|LTranslit=tasallam
7	الحكومة	حُكُومَة	NOUN	N------S1D	Case=Nom|Definite=Def|Number=Sing	6	nsubj	6:nsubj|10:nsubj	Vform=اَلحُكُومَةُ|Gloss=government|Root=.h k m|Translit=al-ḥukūmatu|LTranslit=ḥukūmat
8	المبلغ	مَبلَغ	NOUN	N------S4D	Case=Acc|Definite=Def|Number=Sing	6	obj	6:obj	Vform=اَلمَبلَغَ|Gloss=amount,sum|Root=b l .g|Translit=al-mablaġa|LTranslit=mablaġ
9-10	وتنفق	_	_	_	_	_	_	_	_
9	و	وَ	CCONJ	C---------	_	10	cc	10:cc	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
10	تنفق	أَنفَق	VERB	VISA-3FS--	Aspect=Imp|Gender=Fem|Mood=Sub|Number=Sing|Person=3|VerbForm=Fin|Voice=Act	6	conj	2:advcl:عَلَى|6:conj	Gloss=spend|LTranslit=ʾanfaq|Root=n f q|Translit=tunfiqa|Vform=تُنفِقَ
11-12	منه	_	_	_	_	_	_	_	_
11	من	مِن	ADP	P---------	AdpType=Prep	12	case	12:case	Gloss=from|LTranslit=min|Root=min|Translit=min|Vform=مِن
12	ه	هُوَ	PRON	SP---3MS2-	Case=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs	10	obl	10:obl:مِن:gen	Gloss=he,she,it|LTranslit=huwa|Translit=hu|Vform=هُ
13	على	عَلَى	ADP	P---------	AdpType=Prep	14	case	14:case	Vform=عَلَى|Gloss=on,above|Root=` l w|Translit=ʿalā|LTranslit=ʿalā
14	مشروعات	مَشرُوع	NOUN	N------P2R	Case=Gen|Definite=Cons|Number=Plur	10	obl	10:obl:عَلَى:gen	Vform=مَشرُوعَاتِ|Gloss=project,plan|Root=^s r `|Translit=mašrūʿāti|LTranslit=mašrūʿ
15	البلدية	بَلَدِيَّة	NOUN	N------S2D	Case=Gen|Definite=Def|Number=Sing	14	nmod	14:nmod:gen	Vform=اَلبَلَدِيَّةِ|Gloss=municipality|Root=b l d|Translit=al-baladīyati|LTranslit=baladīyat
16-18	بموجبه	_	_	_	_	_	_	_	SpaceAfter=No
16	ب	بِ	ADP	P---------	AdpType=Prep	17	case	17:case	Gloss=by,with|LTranslit=bi|Root=bi|Translit=bi|Vform=بِ
17	موجب	مُوجِب	NOUN	N------S2R	Case=Gen|Definite=Cons|Number=Sing	10	obl	10:obl:بِ:gen	Gloss=reason,cause|LTranslit=mūǧib|Root=w ^g b|Translit=mūǧibi|Vform=مُوجِبِ
18	ه	هُوَ	PRON	SP---3MS2-	Case=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs	17	nmod	17:nmod:gen	Gloss=he,she,it|LTranslit=huwa|Translit=hi|Vform=هِ
19	.	.	PUNCT	G---------	_	1	punct	1:punct	Vform=.|Translit=.

# sent_id = padt-style-3
# text = وقال انه يعتمد عليه في حياته اليومية.
1-2	وقال	_	_	_	_	_	_	_	_
1	و	وَ	CCONJ	C---------	_	0	root	0:root	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
2	قال	قَال	VERB	VP-A-3MS--	Aspect=Perf|Gender=Masc|Number=Sing|Person=3|Voice=Act	1	parataxis	1:parataxis	Gloss=say,tell|LTranslit=qāl|Root=q w l|Translit=qāla|Vform=قَالَ
3-4	انه	_	_	_	_	_	_	_	_
3	أن	أَنَّ	SCONJ	C---------	_	5	mark	5:mark	Gloss=that|LTranslit=ʾanna|Root=' n|Translit=ʾanna|Vform=أَنَّ
4	ه	هُوَ	PRON	SP---3MS4-	Case=Acc|Gender=Masc|Number=Sing|Person=3|PronType=Prs	5	nsubj	5:nsubj	Gloss=he,she,it|LTranslit=huwa|Translit=hu|Vform=هُ
5	يعتمد	اِعتَمَد	VERB	VIIA-3MS--	Aspect=Imp|Gender=Masc|Mood=Ind|Number=Sing|Person=3|VerbForm=Fin|Voice=Act	2	ccomp	2:ccomp	Vform=يَعتَمِدُ|Gloss=rely,depend|Root=` m d|Translit=yaʿtamidu|LTranslit=iʿtamad
6-7	عليه	_	_	_	_	_	_	_	_
6	علي	عَلَى	ADP	P---------	AdpType=Prep	7	case	7:case	Gloss=on,above|LTranslit=ʿalā|Root=` l w|Translit=ʿalay|Vform=عَلَي
7	ه	هُوَ	PRON	SP---3MS2-	Case=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs	5	obl:arg	5:obl:arg:عَلَى:gen	Gloss=he,she,it|LTranslit=huwa|Translit=hi|Vform=هِ
8	في	فِي	ADP	P---------	AdpType=Prep	9	case	9:case	Vform=فِي|Gloss=in|Root=fI|Translit=fī|LTranslit=fī
9-10	حياته	_	_	_	_	_	_	_	_
9	حياة	حَيَاة	NOUN	N------S2R	Case=Gen|Definite=Cons|Number=Sing	5	obl	5:obl:فِي:gen	Gloss=life|LTranslit=ḥayāt|Root=.h y y|Translit=ḥayāti|Vform=حَيَاةِ
10	ه	هُوَ	PRON	SP---3MS2-	Case=Gen|Gender=Masc|Number=Sing|Person=3|PronType=Prs	9	nmod	9:nmod:gen	Gloss=he,she,it|LTranslit=huwa|Translit=hi|Vform=هِ
11	اليومية	يَومِيّ	ADJ	A-----FS2D	Case=Gen|Definite=Def|Gender=Fem|Number=Sing	9	amod	9:amod	SpaceAfter=No|Vform=اَليَومِيَّةِ|Gloss=daily|Root=y w m|Translit=al-yawmīyati|LTranslit=yawmīy
12	.	.	PUNCT	G---------	_	1	punct	1:punct	Vform=.|Translit=.

# sent_id = padt-style-4
# text = وَلَمْ يُخِفْنِي الأمرُ ب300 دولار من شركات اوروبية واميركية.
1-2	وَلَمْ	_	_	_	_	_	_	_	_
1	وَ	وَ	CCONJ	C---------	_	0	root	0:root	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
2	لَمْ	لَم	PART	F---------	_	3	advmod	3:advmod	Gloss=not|LTranslit=lam|Root=lam|Translit=lam|Vform=لَم
3-4	يُخِفْنِي	_	_	_	_	_	_	_	_
3	يُخِفْ	أَخَاف	VERB	VIJA-3MS--	Aspect=Imp|Gender=Masc|Mood=Jus|Number=Sing|Person=3|VerbForm=Fin|Voice=Act	1	parataxis	1:parataxis	Gloss=frighten,alarm|LTranslit=ʾaḫāf|Root=_h w f|Translit=yuḫif|Vform=يُخِف
4	نِي	هُوَ	PRON	SP---1MS4-	Case=Acc|Gender=Masc|Number=Sing|Person=1|PronType=Prs	3	obj	3:obj	Gloss=he,she,it|LTranslit=huwa|Translit=nī|Vform=نِي
5	الأمرُ	أَمر	NOUN	N------S1D	Case=Nom|Definite=Def|Number=Sing	3	nsubj	3:nsubj	Vform=اَلأَمرُ|Gloss=matter,issue|Root=' m r|Translit=al-ʾamru|LTranslit=ʾamr
6	ب	بِ	ADP	P---------	AdpType=Prep	7	case	7:case	SpaceAfter=No|Vform=بِ|Gloss=by,with|Root=bi|Translit=bi|LTranslit=bi
7	300	300	NUM	Q---------	NumForm=Digit	5	nmod	5:nmod:بِ:gen	Vform=٣٠٠|Translit=300
8	دولار	دُولَار	NOUN	N------S2I	Case=Gen|Definite=Ind|Number=Sing	7	nmod	7:nmod:gen	Vform=دُولَارٍ|Gloss=dollar|Root=dUlAr|Translit=dūlārin|LTranslit=dūlār
9	من	مِن	ADP	P---------	AdpType=Prep	10	case	10:case	Vform=مِن|Gloss=from|Root=min|Translit=min|LTranslit=min
10	شركات	شَرِكَة	NOUN	N------P2I	Case=Gen|Definite=Ind|Number=Plur	7	nmod	7:nmod:مِن:gen	Vform=شَرِكَاتٍ|Gloss=company,corporation|Root=^s r k|Translit=šarikātin|LTranslit=šarikat
11	اوروبية	أُورُوبِيّ	ADJ	A-----FS2I	Case=Gen|Definite=Ind|Gender=Fem|Number=Sing	10	amod	10:amod	Vform=أُورُوبِيَّةٍ|Gloss=European|Root='UrUb|Translit=ʾūrūbīyatin|LTranslit=ʾūrūbīy
12-13	واميركية	_	_	_	_	_	_	_	SpaceAfter=No
12	و	وَ	CCONJ	C---------	_	13	cc	13:cc	Gloss=and|LTranslit=wa|Root=wa|Translit=wa|Vform=وَ
13	أميركية	أَمِيرِكِيّ	ADJ	A-----FS2I	Case=Gen|Definite=Ind|Gender=Fem|Number=Sing	11	conj	10:amod|11:conj	Gloss=American|LTranslit=ʾamīrikīy|Root='amIrik|Translit=ʾamīrikīyatin|Vform=أَمِيرِكِيَّةٍ
14	.	.	PUNCT	G---------	_	1	punct	1:punct	Vform=.|Translit=.

"""


def udvalidate(path: Path) -> None:
    """The real UD validator (udtools' `udvalidate`), level 2, for Arabic."""
    script = Path(sys.executable).parent / "udvalidate"
    command = str(script) if script.is_file() else shutil.which("udvalidate")
    if command is None:
        pytest.skip("udtools' udvalidate is not installed")
    done = subprocess.run([command, "--lang", "ar", "--level", "2", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{path.name} fails udvalidate --level 2:\n{(done.stdout + done.stderr)[-3000:]}"


def text_of(sentences) -> str:
    return "".join(format_sentence(s) for s in sentences)


def sentence(rows: list[tuple], text: str | None = None) -> str:
    """CoNLL-U for one sentence from (form, upos, misc) rows; `head` 0 for the first word, 1 for the rest."""
    lines = []
    for n, (form, upos, misc) in enumerate(rows, 1):
        lines.append("\t".join([str(n), form, "_", upos, "_", "_", "0" if n == 1 else "1",
                                "root" if n == 1 else "dep", "_", misc]))
    surface = text
    if surface is None:
        parts = []
        for form, _, misc in rows:
            parts.append(form + ("" if "SpaceAfter=No" in misc else " "))
        surface = "".join(parts).rstrip()
    return f"# sent_id = t\n# text = {surface}\n" + "\n".join(lines) + "\n\n"


def tokens_of(s) -> list[str]:
    """Each token as its words joined by +."""
    return ["+".join(w.form for w in t.words) for t in s.tokens]


NO = "SpaceAfter=No"


# --- the whole bundled sample ---------------------------------------------------------------------------------

def test_the_whole_sample_goes_to_mwt_and_back_unchanged_and_both_validate(tmp_path):
    mwt, back = tmp_path / "sample-mwt.conllu", tmp_path / "sample-back.conllu"
    joined = convert_clitics(SAMPLE_CONLLU, mwt, "mwt")
    split = convert_clitics(mwt, back, "tokens")

    assert back.read_bytes() == SAMPLE_CONLLU.read_bytes()  # PUD field for field, comments and all
    assert (joined.sentences, joined.joined, joined.pieces_joined) == (1000, 2390, 4899)
    assert (split.sentences, split.split, split.pieces_split) == (1000, 2390, 4899)
    assert dict(joined.kept) == {LEFT_NOT_CLITICS: 19} and not split.kept

    original, converted = list(read_conllu(SAMPLE_CONLLU)), list(read_conllu(mwt))
    for a, b in zip(original, converted):
        assert b.comments == a.comments and b.text == a.text
        # the same words with the same columns, but for SpaceAfter, which moves to the range line
        assert [w.columns()[:9] for w in a.words] == [w.columns()[:9] for w in b.words]
        for tok in b.tokens:
            if tok.is_multiword:
                assert all("SpaceAfter" not in w.misc for w in tok.words)
    multiword = [t for s in converted for t in s.tokens if t.is_multiword]
    assert len(multiword) == 2390
    assert "و+يجعل+ه" in {"+".join(w.form for w in t.words) for t in multiword}
    udvalidate(mwt)
    udvalidate(back)


# --- PADT-style sentences -------------------------------------------------------------------------------------

def test_padt_style_mwt_to_tokens_and_back_is_unchanged_and_validates(tmp_path):
    source = tmp_path / "padt.conllu"
    source.write_text(PADT, encoding="utf-8")
    udvalidate(source)
    tokens, back = tmp_path / "padt-tokens.conllu", tmp_path / "padt-back.conllu"

    split = convert_clitics(source, tokens, "tokens")
    joined = convert_clitics(tokens, back, "mwt")

    assert back.read_text(encoding="utf-8") == PADT
    assert (split.sentences, split.split, split.pieces_split) == (4, 10, 22)
    assert dict(split.kept) == {KEPT_NOT_CONCATENATING: 4}
    assert split.examples[KEPT_NOT_CONCATENATING] == ["padt-style-1: للتنمية", "padt-style-3: انه",
                                                      "padt-style-3: حياته"]
    assert (joined.joined, joined.pieces_joined) == (10, 22) and not joined.kept
    udvalidate(tokens)

    s1, s2, s3, s4 = read_conllu(tokens)
    assert tokens_of(s1) == ["و", "قال", "الوزير", "ان", "الحكومة", "تعمل", "ب", "موجب", "ه", "ل+التنمية", "."]
    assert [t.form for t in s2.tokens][-4:] == ["ب", "موجب", "ه", "."]
    assert [w.id for w in s2.words][15:18] == [16, 17, 18]  # ids, heads and DEPS stay
    assert s2.words[16].deps == "10:obl:بِ:gen" and s2.words[6].deps == "6:nsubj|10:nsubj"
    assert tokens_of(s3) == ["و", "قال", "أن+ه", "يعتمد", "علي", "ه", "في", "حياة+ه", "اليومية", "."]
    assert tokens_of(s4)[:4] == ["وَ", "لَمْ", "يُخِفْ", "نِي"]
    assert tokens_of(s4)[5:7] == ["ب", "300"] and tokens_of(s4)[-2] == "و+أميركية"
    # the last piece takes the range line's SpaceAfter=No; the others are glued
    assert s2.tokens[-4].misc.endswith("|SpaceAfter=No") and s2.tokens[-2].misc.endswith("Vform=هِ|SpaceAfter=No")
    assert s2.tokens[-3].misc.endswith("|SpaceAfter=No")


# --- the joining rule -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, expected", [
    # proclitic + word + pronoun suffix: one token, as stanza's official models write it
    ([("و", "CCONJ", NO), ("يجعل", "VERB", NO), ("ه", "PRON", "_")], ["و+يجعل+ه"]),
    # every prefix particle, with or without diacritics
    ([("فَ", "CCONJ", NO), ("قال", "VERB", "_")], ["فَ+قال"]),
    ([("بِ", "ADP", NO), ("النسبة", "NOUN", "_")], ["بِ+النسبة"]),
    ([("ل", "ADP", NO), ("لسلطة", "NOUN", "_")], ["ل+لسلطة"]),  # PUD's own spelling of للسلطة
    ([("ك", "ADP", NO), ("رئيس", "NOUN", "_")], ["ك+رئيس"]),
    ([("س", "PART", NO), ("يكون", "AUX", "_")], ["س+يكون"]),
    ([("و", "CCONJ", NO), ("ب", "ADP", NO), ("أن", "SCONJ", NO), ("ه", "PRON", "_")], ["و+ب+أن+ه"]),
    # a proclitic before a pronoun that is not a suffix (بهذا): joined, the proclitic decides
    ([("ب", "ADP", NO), ("هذا", "PRON", "_")], ["ب+هذا"]),
    ([("ل", "ADP", NO), ("ي", "PRON", "_")], ["ل+ي"]),
    ([("علي", "ADP", NO), ("ها", "PRON", "_")], ["علي+ها"]),
    ([("يخيف", "VERB", NO), ("نِي", "PRON", "_")], ["يخيف+نِي"]),
    # the article is part of the word: nothing to join, nothing split
    ([("الحكومة", "NOUN", "_"), ("الجديدة", "ADJ", "_")], ["الحكومة", "الجديدة"]),
    # punctuation, digits and symbols are never joined
    ([("قال", "VERB", NO), (",", "PUNCT", "_"), ("و", "CCONJ", NO), ("\"", "PUNCT", "_")],
     ["قال", ",", "و", "\""]),
    ([("\"", "PUNCT", NO), ("و", "CCONJ", NO), ("قال", "VERB", "_")], ["\"", "و+قال"]),
    ([("ب", "ADP", NO), ("300", "NUM", "_")], ["ب", "300"]),
    ([("و", "CCONJ", NO), ("ـ", "SYM", NO), ("ربما", "ADV", "_")], ["و", "ـ", "ربما"]),
    ([("و", "CCONJ", NO), ("Google", "PROPN", "_")], ["و", "Google"]),
    # numbers written in letters are words
    ([("ب", "ADP", NO), ("ثلاث", "NUM", "_")], ["ب+ثلاث"]),
    # glued words that are not clitics stay tokens: the whole run, not a part of it
    ([("في", "ADP", NO), ("ما", "PRON", "_")], ["في", "ما"]),
    ([("و", "CCONJ", NO), ("في", "ADP", NO), ("ما", "PRON", "_")], ["و", "في", "ما"]),
    ([("ل", "ADP", NO), ("قدرت", "NOUN", NO), ("ه", "NOUN", "_")], ["ل", "قدرت", "ه"]),  # PUD tagged ه NOUN
    ([("ك", "PRON", NO), ("هذه", "PRON", "_")], ["ك", "هذه"]),  # ك tagged as a pronoun is not a proclitic
    ([("مررنا", "VERB", NO), ("على", "ADP", "_")], ["مررنا", "على"]),
])
def test_which_glued_tokens_are_joined(rows, expected):
    s = parse_conllu(sentence(rows))[0]
    assert tokens_of(to_multiword_tokens(s)) == expected


def test_spaceafter_goes_to_the_range_line_and_words_keep_their_misc():
    s = parse_conllu(sentence([("و", "CCONJ", "LId=وَ_1|SpaceAfter=No"), ("قال", "VERB", "LId=قال_1|SpaceAfter=No"),
                               (".", "PUNCT", "_")]))[0]
    out = to_multiword_tokens(s)
    tok = out.tokens[0]
    assert (tok.form, tok.mwt_misc, [w.misc for w in tok.words]) == ("وقال", NO, ["LId=وَ_1", "LId=قال_1"])
    assert (tok.start, tok.end, [(w.start, w.end) for w in tok.words]) == (0, 4, [(0, 1), (1, 4)])
    assert format_sentence(to_glued_tokens(out)) == format_sentence(s)
    assert len(s.tokens) == 3 and s.tokens[0].words[0].misc == "LId=وَ_1|SpaceAfter=No"  # input unchanged


def test_not_clitic_runs_are_reported():
    report = CliticsReport("mwt")
    s = parse_conllu(sentence([("في", "ADP", NO), ("ما", "PRON", "_"), ("ب", "ADP", NO), ("ه", "PRON", "_")]))[0]
    out = to_multiword_tokens(s, report)
    assert tokens_of(out) == ["في", "ما", "ب+ه"]
    assert (report.joined, report.pieces_joined, dict(report.kept)) == (1, 2, {LEFT_NOT_CLITICS: 1})
    assert report.examples[LEFT_NOT_CLITICS] == ["t: في+ما"]


# --- named entities: token-level, on the range line ---------------------------------------------------------

def test_an_entity_on_the_host_moves_to_the_range_line_and_back():
    s = parse_conllu(sentence([("قال", "VERB", "_"), ("ل", "ADP", NO), ("أوباما", "PROPN", "NER=B-PER"),
                               ("و", "CCONJ", NO), ("ل", "ADP", NO), ("لبنك", "PROPN", "NER=B-ORG"),
                               ("الدولي", "ADJ", "NER=I-ORG")]))[0]
    out = to_multiword_tokens(s)
    assert tokens_of(out) == ["قال", "ل+أوباما", "و+ل+لبنك", "الدولي"]
    assert out.tokens[1].mwt_misc == "NER=B-PER" and out.tokens[1].words[1].misc == "_"
    assert out.entities == [Entity(1, 2, "PER"), Entity(2, 4, "ORG")]
    assert format_sentence(to_glued_tokens(out)) == format_sentence(s)


def test_an_entity_inside_and_around_a_token_keeps_its_span():
    # بنك و+التنمية: the proclitic is inside the entity; جهود+ه الكبيرة: the suffix too
    s = parse_conllu(sentence([("بنك", "PROPN", "NER=B-ORG"), ("و", "CCONJ", "SpaceAfter=No|NER=I-ORG"),
                               ("التنمية", "PROPN", "NER=I-ORG"), ("جهود", "NOUN", "SpaceAfter=No|NER=B-MISC"),
                               ("ه", "PRON", "NER=I-MISC"), ("الكبيرة", "ADJ", "NER=I-MISC")]))[0]
    out = to_multiword_tokens(s)
    assert [t.misc for t in out.tokens] == ["NER=B-ORG", "NER=I-ORG", "NER=B-MISC", "NER=I-MISC"]
    assert format_sentence(to_glued_tokens(out)) == format_sentence(s)


# --- multi-word tokens that stay -----------------------------------------------------------------------------

def test_multiword_tokens_that_cannot_be_glued_tokens_are_kept_and_counted():
    conllu = (
        "# sent_id = k\n# text = للتنمية بموجبه وبه لها\n"
        "1-2\tللتنمية\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tل\t_\tADP\t_\t_\t2\tcase\t_\t_\n2\tالتنمية\t_\tNOUN\t_\t_\t0\troot\t_\t_\n"
        "3-5\tبموجبه\t_\t_\t_\tTypo=Yes\t_\t_\t_\t_\n"
        "3\tب\t_\tADP\t_\t_\t4\tcase\t_\t_\n4\tموجب\t_\tNOUN\t_\t_\t2\tnmod\t_\t_\n"
        "5\tه\t_\tPRON\t_\t_\t4\tnmod\t_\t_\n"
        "6-8\tوبه\t_\t_\t_\t_\t_\t_\t_\tTranslit=wabihi\n"
        "6\tو\t_\tCCONJ\t_\t_\t8\tcc\t_\t_\n7\tب\t_\tADP\t_\t_\t8\tcase\t_\t_\n"
        "8\tه\t_\tPRON\t_\t_\t2\tconj\t_\t_\n"
        "9-10\tلها\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "9\tل\t_\tADP\t_\t_\t10\tcase\t_\t_\n10\tها\t_\tPRON\t_\t_\t2\tnmod\t_\t_\n\n")
    report = CliticsReport("tokens")
    out = to_glued_tokens(parse_conllu(conllu)[0], report)
    assert tokens_of(out) == ["ل+التنمية", "ب+موجب+ه", "و+ب+ه", "ل", "ها"]
    assert dict(report.kept) == {KEPT_NOT_CONCATENATING: 1, KEPT_RANGE_FEATS: 1, KEPT_RANGE_MISC: 1}
    assert (report.split, report.pieces_split) == (1, 2)
    assert format_sentence(to_multiword_tokens(out)) == conllu  # and back


# --- ids, enhanced DEPS, empty nodes --------------------------------------------------------------------------

ENHANCED = """\
# sent_id = e
# text = وبأنه كتب.
1-4\tوبأنه\t_\t_\t_\t_\t_\t_\t_\t_
1\tو\tو\tCCONJ\t_\t_\t5\tcc\t5.1:cc\t_
2\tب\tب\tADP\t_\t_\t3\tcase\t3:case\t_
3\tأن\tأن\tSCONJ\t_\t_\t5\tmark\t5:mark\t_
4\tه\tهو\tPRON\t_\t_\t3\tnsubj\t5:nsubj|5.1:nsubj\t_
5\tكتب\tكتب\tVERB\t_\t_\t0\troot\t0:root\tSpaceAfter=No
5.1\tكتب\tكتب\tVERB\t_\t_\t_\t_\t5:conj\t_
6\t.\t.\tPUNCT\t_\t_\t5\tpunct\t5:punct\t_

"""


def test_enhanced_deps_and_empty_nodes_survive_both_ways():
    source = parse_conllu(ENHANCED)[0]
    glued = to_glued_tokens(source)
    assert tokens_of(glued) == ["و", "ب", "أن", "ه", "كتب", "."]
    assert [w.deps for w in glued.words] == ["5.1:cc", "3:case", "5:mark", "5:nsubj|5.1:nsubj", "0:root", "5:punct"]
    assert [(n.after, n.columns[0], n.columns[8]) for n in glued.empty_nodes] == [(5, "5.1", "5:conj")]
    assert format_sentence(to_multiword_tokens(glued)) == ENHANCED


def test_renumber_remaps_heads_deps_and_empty_nodes():
    s = parse_conllu(ENHANCED)[0]
    del s.tokens[0].words[1]  # word 2 gone: 3.. become 2..
    s.tokens[0].form = "وأنه"
    renumber(s)
    assert [w.id for w in s.words] == [1, 2, 3, 4, 5]
    assert [w.head for w in s.words] == [4, 4, 2, 0, 4]
    assert [w.deps for w in s.words] == ["4.1:cc", "4:mark", "4:nsubj|4.1:nsubj", "0:root", "4:punct"]
    assert [(n.after, n.columns[0], n.columns[8]) for n in s.empty_nodes] == [(4, "4.1", "4:conj")]


# --- files ----------------------------------------------------------------------------------------------------

def test_convert_in_place_and_unknown_convention(tmp_path):
    path = tmp_path / "c.conllu"
    path.write_text(PADT, encoding="utf-8")
    with pytest.raises(InputError, match="unknown clitics convention 'padt'"):
        convert_clitics(path, tmp_path / "out.conllu", "padt")
    assert not (tmp_path / "out.conllu").exists()
    convert_clitics(path, path, "tokens")
    convert_clitics(path, path, "mwt")
    assert path.read_text(encoding="utf-8") == PADT
    assert CLITICS == ("mwt", "tokens")


def test_convert_sentences_streams():
    report = CliticsReport("mwt")
    stream = convert_sentences(read_conllu(SAMPLE_CONLLU), "mwt", report)
    first = next(stream)
    assert report.sentences == 1 and tokens_of(first)[6] == "ل+أوباما"


# --- the demo model learns multi-word tokens ------------------------------------------------------------------

def test_the_demo_model_trains_on_multiword_tokens_and_replaces_a_glued_token_model(tmp_path, monkeypatch):
    import importlib

    from mudawwana.corpus import demo

    seen = {}

    def fake_train(corpus, out_dir, dev=None, **kwargs):
        seen["train"], seen["dev"] = list(read_conllu(corpus)), list(read_conllu(dev))
        seen.update(kwargs)

    monkeypatch.setattr(importlib.import_module(f"{demo.__package__}.train"), "train", fake_train)
    demo.train_demo_model(tmp_path / "models")
    assert (len(seen["train"]), len(seen["dev"]), seen["size"]) == (800, 100, "small")
    sample = list(read_conllu(SAMPLE_CONLLU))
    assert seen["train"][0].sent_id == sample[0].sent_id and seen["dev"][0].sent_id == sample[800].sent_id
    assert sum(t.is_multiword for s in seen["train"] for t in s.tokens) > 1500
    assert text_of(seen["train"]) == text_of(to_multiword_tokens(s) for s in sample[:800])

    # a model trained earlier is reused only when it has an MWT expander (the sample as multi-word tokens)
    assert demo.is_current_demo_model({"size": "small", "processors": ["tokenize", "mwt", "pos", "lemma",
                                                                       "depparse"]})
    assert not demo.is_current_demo_model({"size": "small", "processors": ["tokenize", "pos", "lemma", "depparse"]})
    assert not demo.is_current_demo_model({"size": "tiny", "processors": ["tokenize", "mwt", "pos"]})
