"""Mapping step 3b: the tokens of a written word whose words changed, in the project's clitic convention.

A word that crosses a boundary between tokens written together (the tagger's SpaceAfter=No gap) merges those
tokens into one. A token left with several words is a multi-word token (convention `mwt`, UD Arabic-PADT and
stanza's models) or, in the glued-tokens convention (`tokens`, UD Arabic-PUD), one token per word glued by
SpaceAfter=No when the words' forms spell the token (else it stays a multi-word token, as `mudawwana convert`
keeps it: docs/clitics.md). A token left with one word spells the word as the token. Tokens whose words did not
change are kept as they are, whatever the convention."""

from __future__ import annotations

from itertools import pairwise

from mudawwana.corpus.clitics import MWT, TOKENS, is_clitic_joint, is_prefix_clitic, is_pronoun_suffix
from mudawwana.corpus.data_model import NER_MISC_KEY, Sentence, Token, Word, format_misc, parse_misc

from .mapping_common import TOKEN_MISC_KEYS, MappingContext, Span, WrittenWord

_SPACE_KEYS = ("SpaceAfter", "SpacesAfter")


def sentence_clitics(sentence: Sentence, default: str = MWT) -> str:
    """The convention a sentence is written in, by its evidence: multi-word tokens whose words spell them (a
    glued-tokens corpus has none: `mudawwana convert` splits them all) against tokens written together that are a
    clitic and its host (ب + موجب, يجعل + ه: a multi-word-token corpus has them only where the tokenizer erred).
    The larger count wins, multi-word tokens on a tie; `default` without either."""
    tokens = sentence.tokens
    spelled = sum(1 for t in tokens if t.is_multiword and "".join(w.form for w in t.words) == t.form)
    glued = sum(1 for a, b in pairwise(tokens)
                if not a.space_after and not a.is_multiword and not b.is_multiword
                and is_clitic_joint(a.words[0], b.words[0]))
    if not spelled and not glued:
        return default
    return TOKENS if glued > spelled else MWT


def rebuild_tokens(ctx: MappingContext, ww: WrittenWord, old_tokens: list[Token], words: list[Word],
                   spans: list[Span]) -> list[Token]:
    """The written word's tokens for its new words (see the module docstring)."""
    token_spans = ctx.view.token_spans()
    token_letters = [ww.letter_range(token_spans[t]) for t in ww.tokens]
    word_letters = [ww.letter_range(sp) for sp in spans]
    # Tokens k and k+1 stay apart unless a word crosses the boundary between them.
    groups: list[list[int]] = [[0]]
    for k in range(1, len(old_tokens)):
        cut = token_letters[k][0]
        if any(i < cut < j for i, j in word_letters):
            groups[-1].append(k)
        else:
            groups.append([k])
    out: list[Token] = []
    for group in groups:
        start, end = token_letters[group[0]][0], token_letters[group[-1]][1]
        group_words = [w for w, (i, j) in zip(words, word_letters) if start <= i and j <= end]
        toks = [old_tokens[k] for k in group]
        if len(toks) == 1 and [id(w) for w in group_words] == [id(w) for w in toks[0].words]:
            out.append(toks[0])
            continue
        token = _replace_words(toks[0], group_words) if len(toks) == 1 else _merge(toks, group_words)
        out.extend(_glued(token) if ctx.clitics == TOKENS else [token])
    return out


def _replace_words(tok: Token, words: list[Word]) -> Token:
    """Put the new words into the token; token-level MISC moves between word and range line."""
    was_multi = tok.is_multiword
    token_misc = tok.misc
    tok.words = words
    if len(words) == 1:
        word = words[0]
        word.form = tok.form  # a single-word token's word is spelled as the token
        if was_multi:
            items = {**{k: v for k, v in parse_misc(word.misc).items() if k not in TOKEN_MISC_KEYS},
                     **parse_misc(tok.mwt_misc)}
            word.misc = format_misc(items)
            if word.feats == "_" and tok.mwt_feats != "_":
                word.feats = tok.mwt_feats
            tok.mwt_misc, tok.mwt_feats = "_", "_"
    elif not was_multi:
        items = parse_misc(token_misc)
        tok.mwt_misc = format_misc({k: v for k, v in items.items() if k in TOKEN_MISC_KEYS})
        for w in words:
            w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_MISC_KEYS})
    return tok


def _merge(tokens: list[Token], words: list[Word]) -> Token:
    """One token for tokens written together that a word now crosses: its surface is theirs joined; SpaceAfter
    comes from the last, the named-entity tag from the first that has one."""
    keys = {k: v for k, v in parse_misc(tokens[-1].misc).items() if k in _SPACE_KEYS}
    ner = next((tag for tag in (parse_misc(t.misc).get(NER_MISC_KEY, "O") for t in tokens) if tag != "O"), None)
    if ner:
        keys[NER_MISC_KEY] = ner
    for w in words:
        w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_MISC_KEYS})
    token = Token(form="".join(t.form for t in tokens), words=words)
    if len(words) == 1:
        words[0].form = token.form
        words[0].misc = format_misc({**parse_misc(words[0].misc), **keys})
    else:
        token.mwt_misc = format_misc(keys)
        token.mwt_feats = next((t.mwt_feats for t in tokens if t.mwt_feats != "_"), "_")
    return token


def _glued(tok: Token) -> list[Token]:
    """A multi-word token as one token per word glued by SpaceAfter=No, when its words spell it and its range line
    carries nothing a word cannot (else it stays as it is). The named-entity tag goes to the host word (neither a
    proclitic nor a pronoun suffix); a proclitic before it is inside the entity only when it began earlier (I-)."""
    range_misc = parse_misc(tok.mwt_misc)
    if (not tok.is_multiword or "".join(w.form for w in tok.words) != tok.form or tok.mwt_feats != "_"
            or any(k not in TOKEN_MISC_KEYS for k in range_misc)):
        return [tok]
    words = tok.words
    tag = range_misc.get(NER_MISC_KEY, "O")
    host = next((n for n, w in enumerate(words) if not is_prefix_clitic(w) and not is_pronoun_suffix(w)), 0)
    out = []
    for n, w in enumerate(words):
        items = {k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_MISC_KEYS}
        if n < len(words) - 1:
            items["SpaceAfter"] = "No"
        else:
            items.update({k: v for k, v in range_misc.items() if k in _SPACE_KEYS})
        word_tag = tag if n == host else (f"I-{tag[2:]}" if n < host and tag.startswith("I-") else "O")
        if word_tag != "O":
            items[NER_MISC_KEY] = word_tag
        w.misc = format_misc(items)
        out.append(Token(form=w.form, words=[w]))
    return out
