"""Stanza output -> the data model, with every offset pointing into the ORIGINAL text.

Stanza sees the normalized paragraph; each stanza token's span is mapped back through the
NormalizedText, so `sentence.text[token.start:token.end] == token.form` is the surface an annotator sees.

How the written CoNLL-U keeps both forms and still passes the UD validator (which checks that the token
FORMs concatenate to `# text`):
- `# text` and every token's FORM (a single-word token's word FORM, or a multi-word token's range line)
  are the ORIGINAL surface, diacritics and tatweel included;
- `# text_norm` holds the normalized sentence the tagger saw, when it differs;
- a single-word token whose normalized form differs carries `Norm=<form>` in MISC;
- the words inside a multi-word token carry stanza's (normalized) forms, e.g. ب + أن + ه.
A stray invisible character the normalizer deleted and that sits between two spaces belongs to no token;
it is written as a space in `# text` (same length, so offsets still hold), as is a line break (CR) between
tokens, which would end the comment line.

Every value taken from the model (lemmas, tags, features, relations, the forms of the words inside a
multi-word token, `Norm=`, `# text_norm`) goes through corpus/ud_values.py before it is written, so that the
UD validator accepts it: the rules, and what replaces a value that cannot be kept, are listed there.
"""

from __future__ import annotations

import logging
from typing import Iterable, Iterator, Sequence

from .stanza_models import tag_pretokenized
from .data_model import (META_MODEL_VERSION, META_TEXT_NORM, Document, Entity, Sentence, Token, Word, assign_offsets,
                    set_misc)
from .normalize import NormalizationOptions, NormalizedText, normalize
from .readers import RawDocument, TokenizedDocument
from .ud_values import TAGGED_COLUMNS, make_valid, misc_value

log = logging.getLogger(__name__)


def paragraph_sentences(doc_id: str, para_index: int, norm: NormalizedText, stanza_doc,
                        model_version: str) -> list[Sentence]:
    """Convert one tagged paragraph into Sentences with ids `<doc>-p<k>-s<n>`."""
    sentences = []
    for n, st_sent in enumerate(stanza_doc.sentences, 1):
        sent_id = f"{doc_id}-p{para_index}-s{n}"
        sentence = _convert_sentence(norm, st_sent, sent_id)
        sentence.doc_id = doc_id
        comments = []
        if para_index == 1 and n == 1:
            comments.append(f"newdoc id = {doc_id}")
        if n == 1:
            comments.append(f"newpar id = {doc_id}-p{para_index}")
        comments.append(f"sent_id = {sent_id}")
        sentence.comments = comments + sentence.comments
        sentence.set_meta(META_MODEL_VERSION, model_version)
        make_valid(sentence)
        sentences.append(sentence)
    return sentences


def _convert_sentence(norm: NormalizedText, st_sent, sent_id: str) -> Sentence:
    groups = _surface_groups(norm, st_sent.tokens)
    sent_start, sent_end = groups[0][1], groups[-1][2]
    original = norm.original
    text = _validator_safe_text(original[sent_start:sent_end], [(s - sent_start, e - sent_start) for _, s, e in groups])
    norm_text = norm.text[st_sent.tokens[0].start_char:st_sent.tokens[-1].end_char]

    tokens: list[Token] = []
    for i, (st_tokens, start, end) in enumerate(groups):
        surface = original[start:end]
        words = [_convert_word(w) for t in st_tokens for w in t.words]
        token = Token(form=surface, words=words)
        if len(words) == 1:
            words[0].form = surface
            if st_tokens[0].text != surface:
                value = misc_value(st_tokens[0].text)
                if value is None:
                    log.warning("sentence %s: token %d (%s): Norm=%r cannot be written in MISC; left out",
                                sent_id, i + 1, surface, st_tokens[0].text)
                else:
                    words[0].misc = set_misc(words[0].misc, "Norm", value)
        if i + 1 < len(groups) and groups[i + 1][1] == end:
            token.misc = set_misc(token.misc, "SpaceAfter", "No")
        tokens.append(token)

    sentence = Sentence(tokens=tokens, comments=[f"text = {text}"])
    if norm_text != text:
        sentence.set_meta(META_TEXT_NORM, norm_text)
    assign_offsets(sentence)
    token_index = {id(t): i for i, (st_tokens, _, _) in enumerate(groups) for t in st_tokens}
    sentence.set_entities(_entities(st_sent, token_index))
    return sentence


def _surface_groups(norm: NormalizedText, st_tokens) -> list[tuple[list, int, int]]:
    """Stanza tokens grouped by the original characters they come from: (tokens, start, end).

    Usually one stanza token per group. Tokens whose original spans overlap become one surface token with
    several words: stanza split a character that normalization expanded (the ligature ﻻ -> ل + ا), and an
    original character can't be cut in two.
    """
    groups: list[tuple[list, int, int]] = []
    for tok in st_tokens:
        start, end = norm.to_original_span(tok.start_char, tok.end_char)
        if groups and start < groups[-1][2]:
            members, first, last = groups[-1]
            groups[-1] = (members + [tok], first, max(last, end))
        else:
            groups.append(([tok], start, end))
    return groups


def _convert_word(w) -> Word:
    """Stanza's values as they are; `make_valid` (corpus/ud_values.py) then makes them UD-valid, e.g. `root` on
    the word attached to 0, which a weak parser may label otherwise."""
    return Word(id=w.id, form=w.text, lemma=w.lemma or "_", upos=w.upos or "_", xpos=w.xpos or "_",
                feats=w.feats or "_", head=w.head, deprel=w.deprel or "_")


def _validator_safe_text(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace characters that are in no token and are not whitespace, and line breaks between tokens, by
    spaces (length kept)."""
    covered = bytearray(len(text))
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    chars = list(text)
    for i, ch in enumerate(chars):
        if not covered[i] and (not ch.isspace() or ch in "\r\n"):
            chars[i] = " "
    return "".join(chars)


def _entities(st_sent, token_index: dict[int, int]) -> list[Entity]:
    """Stanza's entity spans (if the model has NER) as spans over our tokens."""
    out = []
    for ent in getattr(st_sent, "ents", None) or []:
        toks = [token_index[id(t)] for t in ent.tokens if id(t) in token_index]
        if toks:
            out.append(Entity(min(toks), max(toks) + 1, ent.type))
    return out


def tag_raw_documents(pipeline, documents: Sequence[RawDocument], options: NormalizationOptions,
                      model_version: str) -> Iterator[Document]:
    """Tag a batch of raw documents in one stanza bulk call; yield each as a Document (paragraphs joined by
    newlines as its text)."""
    import stanza

    jobs = []  # (doc, paragraph index, normalized text)
    for doc in documents:
        for k, para in enumerate(doc.paragraphs, 1):
            jobs.append((doc, k, normalize(para.text, options)))
    tagged = pipeline.bulk_process([stanza.Document([], text=norm.text) for _, _, norm in jobs]) if jobs else []
    by_doc: dict[int, list[Sentence]] = {id(d): [] for d in documents}
    for (doc, k, norm), st_doc in zip(jobs, tagged):
        by_doc[id(doc)].extend(paragraph_sentences(doc.doc_id, k, norm, st_doc, model_version))
    for doc in documents:
        yield Document(doc.doc_id, "\n".join(p.text for p in doc.paragraphs), by_doc[id(doc)])


def tag_tokenized_documents(pipeline, documents: Sequence[TokenizedDocument],
                            model_version: str) -> Iterator[Document]:
    """Re-tag already tokenized sentences (pos, lemma, depparse) keeping their tokens and words."""
    sentences = [s for d in documents for s in d.sentences]
    if sentences:
        st_doc = tag_pretokenized(pipeline, [[w.form for w in s.words] for s in sentences])
        for sentence, st_sent in zip(sentences, st_doc.sentences):
            for word, st_word in zip(sentence.words, st_sent.words):
                new = _convert_word(st_word)
                word.lemma, word.upos, word.xpos, word.feats = new.lemma, new.upos, new.xpos, new.feats
                word.head, word.deprel = new.head, new.deprel
            sentence.set_meta(META_MODEL_VERSION, model_version)
            make_valid(sentence, TAGGED_COLUMNS)
    for doc in documents:
        yield Document(doc.doc_id, "\n".join(s.text for s in doc.sentences), doc.sentences)


def batches(items: Iterable, size_of, budget: int) -> Iterator[list]:
    """Group items into lists whose summed size_of(item) stays near `budget` (at least one item each)."""
    batch, used = [], 0
    for item in items:
        batch.append(item)
        used += size_of(item)
        if used >= budget:
            yield batch
            batch, used = [], 0
    if batch:
        yield batch
