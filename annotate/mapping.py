"""Label Studio annotation -> corrected Sentence.

The task's `conllu` is the starting point (everything the interface does not show comes from it); the
annotation's regions and relations overwrite what the layers show. An annotation equal to the prediction gives
back exactly the input sentence. Whatever cannot be mapped is reported as a MappingProblem, never dropped
silently; the Sentence returned next to problems is best effort (the affected part keeps its predicted value).
Design and the annotator's view: docs/labeling-interface.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.corpus.data_model import (NER_LABELS, NER_MISC_KEY, UPOS_TAGS, Entity, Sentence, Token, Word, assign_offsets,
                          format_misc, parse_misc)

from .config import (DEFAULT_LAYERS, DEPRELS, LEMMA, NER, ROOT, TEXT, UPOS, WORD, WORDS, check_layers,
                     word_control)
from .tasks import WordSpan, display_words, from_js

# MISC keys that describe the whole token: on the range line of a multi-word token, else on its word.
TOKEN_MISC_KEYS = ("SpaceAfter", "SpacesAfter", "SpacesBefore", "SpacesInToken", NER_MISC_KEY)


@dataclass(frozen=True)
class MappingProblem:
    sent_id: str | None
    reason: str
    region_id: str | None = None

    def __str__(self) -> str:
        where = f" (region {self.region_id})" if self.region_id else ""
        return f"sentence {self.sent_id}: {self.reason}{where}"


@dataclass
class _Region:
    id: str | None
    start: int
    end: int
    labels: list = field(default_factory=list)


_ROOT = Word(0, "ROOT")  # head target standing for the ROOT pseudo-word


def annotation_to_sentence(task_data: dict, result: list[dict], *, layers: Sequence[str] | None = None,
                           ) -> tuple[Sentence, list[MappingProblem]]:
    """Rebuild the corrected sentence from a task's data and one annotation's `result` list.

    `layers`: those of the project's config; by default the ones the task was built for (`data["layers"]`).
    """
    sentences = parse_conllu(task_data["conllu"])
    if len(sentences) != 1:
        raise ValueError(f"task {task_data.get('sent_id')}: `conllu` holds {len(sentences)} sentences, not 1")
    if layers is None:
        layers = task_data.get("layers") or DEFAULT_LAYERS
    return _Mapper(sentences[0], task_data, check_layers(layers)).run(result)


class _Mapper:
    def __init__(self, sentence: Sentence, data: dict, layers: tuple[str, ...]):
        self.sent, self.data, self.layers = sentence, data, layers
        self.control = word_control(layers)
        self.problems: list[MappingProblem] = []
        self.words_text: str = data["words"]
        self.spans = [WordSpan(*s) for s in data["word_spans"]]
        # Which characters of the words text belong to a word: the rest ("+", " · ") are separators, even
        # where a word itself is spelled with "+" (C++).
        self.in_word = [False] * len(self.words_text)
        for sp in self.spans:
            self.in_word[sp.start:sp.end] = [True] * (sp.end - sp.start)
        self.word_regions: list[_Region] = []
        self.root_regions: list[_Region] = []
        self.lemmas: dict[str | None, list] = {}
        self.ner_regions: list[_Region] = []
        self.relations: list[dict] = []
        self.region_word: dict[str, Word] = {}  # region id -> the word it became (or _ROOT)
        self.heir: dict[int, Word] = {}  # predicted word id -> the word that inherits its place in the tree
        self.overlaps: dict[int, list[tuple[Word, int]]] = {}  # id(new word) -> [(old word, shared chars)]
        self.new: set[int] = set()  # id() of the words the annotator created (merged or split)
        self.by_token: dict[int, list[_Region]] = {}  # word regions, trimmed, by the token they lie in
        self.bad_tokens: set[int] = set()  # tokens whose regions cannot be read as a segmentation

    def problem(self, reason: str, region_id: str | None = None) -> None:
        self.problems.append(MappingProblem(self.sent.sent_id, reason, region_id))

    def run(self, result: list[dict]) -> tuple[Sentence, list[MappingProblem]]:
        root = any(s.word_id == 0 for s in self.spans)
        if display_words(self.sent, root=root) != (self.words_text, self.spans):
            self.problem("task data is inconsistent: `words`/`word_spans` do not match `conllu`; "
                         "nothing from the annotation was applied")
            return self.sent, self.problems
        self.sort(result)
        old_words = list(self.sent.words)
        parsed = any(w.head is not None for w in old_words)
        pred_heads = {w.id: (w.head, w.deprel) for w in old_words}
        if self.control:
            self.place_regions()
            for ti, tok in enumerate(self.sent.tokens):
                self.map_token(ti, tok)
            for rid in self.lemmas:
                if rid not in self.region_word:
                    self.problem("lemma on a region that is not a word ignored", rid)
            self.map_heads(old_words, pred_heads, parsed)
        elif self.relations:
            self.problem(f"{len(self.relations)} relation(s) ignored: no word layer is on")
        if NER in self.layers:
            self.map_entities()
        assign_offsets(self.sent)
        return self.sent, self.problems

    # --- reading the result ----------------------------------------------------------------------------

    def sort(self, result: list[dict]) -> None:
        for item in result:
            if item.get("type") == "relation":
                self.relations.append(item)
                continue
            rid, from_name, to_name = item.get("id"), item.get("from_name"), item.get("to_name")
            value = item.get("value") or {}
            text = {WORDS: self.words_text, TEXT: self.sent.text}.get(to_name)
            if text is None:
                self.problem(f"region on unknown object {to_name!r} ignored", rid)
                continue
            start, end = value.get("start"), value.get("end")
            start = from_js(text, start) if isinstance(start, int) else None
            end = from_js(text, end) if isinstance(end, int) else None
            if start is None or end is None or start >= end:
                self.problem(f"region offsets {value.get('start')}-{value.get('end')} are not a span of "
                             f"${to_name}; ignored", rid)
                continue
            if isinstance(value.get("text"), str) and value["text"] != text[start:end]:
                self.problem(f"region text {value['text']!r} does not match its offsets; ignored", rid)
                continue
            region = _Region(rid, start, end, list(value.get("labels") or []))
            layer_off = f"{from_name} region ignored: its layer is not on"
            if to_name == WORDS and from_name in (UPOS, WORD):
                if from_name != self.control:
                    self.problem(layer_off, rid)
                else:
                    self.word_regions.append(region)
            elif to_name == WORDS and from_name == ROOT:
                self.root_regions.append(region)
            elif to_name == WORDS and from_name == LEMMA:
                if "lemma" not in self.layers:
                    self.problem(layer_off, rid)
                else:
                    self.lemmas.setdefault(rid, []).append(value.get("text"))
            elif to_name == TEXT and from_name == NER:
                if NER not in self.layers:
                    self.problem(layer_off, rid)
                else:
                    self.ner_regions.append(region)
            else:
                self.problem(f"region of unknown control {from_name!r} on {to_name!r} ignored", rid)
        for region in self.root_regions:
            if region.id is not None and (region.start, region.end) == self.root_span():
                self.region_word[region.id] = _ROOT
            else:
                self.problem("ROOT label used off the ROOT pseudo-word; ignored", region.id)

    def root_span(self) -> tuple[int, int] | None:
        return next(((s.start, s.end) for s in self.spans if s.word_id == 0), None)

    # --- words: segmentation, UPOS, lemma ---------------------------------------------------------------

    def place_regions(self) -> None:
        """Trim separators off each word region and file it under the token it lies in."""
        text, in_word = self.words_text, self.in_word
        owner: list[int | None] = [None] * len(text)  # character -> token index (-1: ROOT), None in gaps
        for t, (start, end) in self.token_spans().items():
            owner[start:end] = [t] * (end - start)
        for r in self.word_regions:
            s, e = r.start, r.end
            while s < e and not in_word[s]:
                s += 1
            while e > s and not in_word[e - 1]:
                e -= 1
            first, last = (owner[s], owner[e - 1]) if s < e else (None, None)
            if s >= e:
                self.problem(f"region {text[r.start:r.end]!r} selects no word; ignored", r.id)
            elif first == -1 or last == -1:
                self.problem("the ROOT pseudo-word cannot be a word; region ignored", r.id)
            elif first is not None and first == last:
                self.by_token.setdefault(first, []).append(_Region(r.id, s, e, r.labels))
            else:
                self.problem(f"region {text[s:e]!r} crosses a token gap", r.id)
                inside = [t for t in owner[s:e] if t is not None and t >= 0]
                self.bad_tokens.update(range(min(inside), max(inside) + 1))

    def token_spans(self) -> dict[int, tuple[int, int]]:
        """Token index (-1: ROOT) -> its span in the words text, "+" between its words included."""
        out: dict[int, tuple[int, int]] = {}
        for sp in self.spans:
            start, end = out.get(sp.token, (sp.start, sp.end))
            out[sp.token] = (min(start, sp.start), max(end, sp.end))
        return out

    def map_token(self, ti: int, tok: Token) -> None:
        old = [(s.start, s.end) for s in self.spans if s.token == ti]
        t_start, t_end = old[0][0], old[-1][1]
        text = self.words_text
        mine, ok = self.by_token.get(ti, []), ti not in self.bad_tokens
        mine.sort(key=lambda r: (r.start, r.end))
        pieces: dict[tuple[int, int], list[_Region]] = {}
        for r in mine:
            pieces.setdefault((r.start, r.end), []).append(r)
        spans = sorted(pieces)
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            if s2 < e1:
                self.problem(f"regions {text[s1:e1]!r} and {text[s2:e2]!r} overlap", pieces[(s2, e2)][0].id)
                ok = False
        covered = set()
        for s, e in spans:
            covered.update(range(s, e))
        gaps = "".join(c if i not in covered and self.in_word[i] else " "
                       for i, c in enumerate(text[t_start:t_end], t_start)).split()
        if gaps:
            self.problem(f"part of token {tok.form!r} is not covered by any word: {' '.join(gaps)!r}")
            ok = False
        if ok and spans != old and "seg" not in self.layers:
            self.problem(f"words of token {tok.form!r} were resegmented but the seg layer is off",
                         next((p[0].id for sp, p in pieces.items() if sp not in old), None))
            ok = False
        if not ok:  # keep the predicted words; tags and lemmas still come from regions that match them
            spans = old
        by_span = {sp: w for sp, w in zip(old, tok.words)}
        new_words = [self.make_word(sp, pieces.get(sp, []), by_span.get(sp)) for sp in spans]
        for w_old, sp_old in zip(tok.words, old):
            shares = []
            for w_new, sp_new in zip(new_words, spans):
                n = sum(1 for i in range(max(sp_old[0], sp_new[0]), min(sp_old[1], sp_new[1]))
                        if self.in_word[i])
                if n:
                    shares.append((w_new, n))
                    self.overlaps.setdefault(id(w_new), []).append((w_old, n))
            self.heir[w_old.id] = max(shares, key=lambda x: x[1])[0]  # first on ties
        if [id(w) for w in new_words] != [id(w) for w in tok.words]:
            self.resegment(tok, new_words)

    def make_word(self, span: tuple[int, int], regions: list[_Region], old: Word | None) -> Word:
        region = regions[0] if regions else None
        if len(regions) > 1:
            self.problem(f"two labels on one word {self.words_text[span[0]:span[1]]!r}; the first kept",
                         regions[1].id)
        form = "".join(c for i, c in enumerate(self.words_text[span[0]:span[1]], span[0]) if self.in_word[i])
        word = old or Word(0, form)
        if old is None:
            self.new.add(id(word))
        if region is None:
            return word
        for r in regions:
            if r.id is not None:
                self.region_word[r.id] = word
        if self.control == UPOS:
            labels = region.labels
            if len(labels) == 1 and labels[0] in UPOS_TAGS:
                word.upos = labels[0]
            elif len(labels) > 1:
                self.problem(f"two labels on one word {word.form!r}: {', '.join(labels)}", region.id)
            elif labels or word.upos != "_" or old is None:
                self.problem(f"word {word.form!r} has no valid UPOS label: {labels}", region.id)
        if "lemma" in self.layers:
            values = self.lemmas.get(region.id)
            texts = [t for v in values or [] for t in (v if isinstance(v, list) else [v])]
            if len(texts) == 1 and isinstance(texts[0], str) and texts[0].strip():
                word.lemma = texts[0].strip()
            elif len(texts) > 1:
                self.problem(f"several lemmas for word {word.form!r}: {texts}", region.id)
            # no lemma typed: a kept word keeps its lemma, a new word gets "_"
        return word

    def resegment(self, tok: Token, new_words: list[Word]) -> None:
        """Put the new words into the token; token-level MISC moves between word and range line."""
        was_multi = tok.is_multiword
        token_misc = tok.misc
        tok.words = new_words
        if len(new_words) == 1:
            word = new_words[0]
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
            for w in new_words:
                w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k not in TOKEN_MISC_KEYS})

    # --- heads and deprels ---------------------------------------------------------------------------------

    def predicted_head(self, word: Word, pred: dict) -> tuple[Word | None, str]:
        """Head and deprel from the prediction, through the resegmentation: a merged word takes the head of
        the part that attached outside it, a split's largest piece takes the old word's place, the others
        hang from it as `dep`."""
        def ref(head: int | None) -> Word | None:
            return None if head is None else _ROOT if head == 0 else self.heir[head]

        shares = self.overlaps.get(id(word), [])
        if id(word) not in self.new:
            head, deprel = pred[word.id]
            return ref(head), deprel
        owned = [w for w, _ in shares if self.heir[w.id] is word]
        if owned:
            outside = [w for w in owned if pred[w.id][0] in (None, 0) or ref(pred[w.id][0]) is not word]
            pick = next((w for w in outside if pred[w.id][0] == 0), outside[0] if outside else owned[0])
            head, deprel = pred[pick.id]
            return (ref(head), deprel) if ref(head) is not word else (None, "_")
        biggest = max(shares, key=lambda x: x[1])[0]
        if pred[biggest.id][0] is None:
            return None, "_"
        return self.heir[biggest.id], "dep"

    def map_heads(self, old_words: list[Word], pred: dict, parsed: bool) -> None:
        words = self.sent.words
        heads: dict[int, tuple[Word | None, str]] = {id(w): self.predicted_head(w, pred) for w in words}
        if "deps" in self.layers:
            self.apply_relations(words, heads, parsed)
        elif self.relations:
            self.problem(f"{len(self.relations)} relation(s) ignored: the deps layer is off")
        self.number(words, heads, old_words)

    def apply_relations(self, words: list[Word], heads: dict, parsed: bool) -> None:
        incoming: dict[int, list[tuple[Word, str, str | None]]] = {}
        for rel in self.relations:
            a, b = (self.region_word.get(rel.get(k)) for k in ("from_id", "to_id"))
            for key, w in (("from_id", a), ("to_id", b)):
                if w is None:
                    self.problem("relation to an unknown region (not a word) ignored", rel.get(key))
            if a is None or b is None:
                continue
            direction = rel.get("direction", "right")
            if direction not in ("right", "left"):
                self.problem(f"relation {rel.get('from_id')}-{rel.get('to_id')} has direction {direction!r}: "
                             "make it point from head to dependent", rel.get("to_id"))
                continue
            head, dep = (a, b) if direction == "right" else (b, a)
            dep_id = rel.get("to_id") if direction == "right" else rel.get("from_id")
            labels = rel.get("labels") or []
            if dep is _ROOT:
                self.problem("ROOT cannot be a dependent", dep_id)
            elif len(labels) != 1 or labels[0] not in DEPRELS:
                self.problem(f"relation to {dep.form!r} needs exactly one known deprel, has {labels}", dep_id)
            else:
                incoming.setdefault(id(dep), []).append((head, labels[0], dep_id))
        roots = []
        for w in words:
            rid = self.region_id(w)
            got = incoming.get(id(w), [])
            if len(got) > 1:
                self.problem(f"word {w.form!r} has {len(got)} heads; the predicted one kept", rid)
            elif not got:
                if parsed:
                    self.problem(f"word {w.form!r} has no head; the predicted one kept", rid)
            else:
                head, deprel, _ = got[0]
                if (head is _ROOT) != (deprel == "root"):
                    self.problem(f"word {w.form!r}: only a relation from ROOT is labelled root", rid)
                heads[id(w)] = (head, deprel)
            if heads[id(w)][0] is _ROOT:
                roots.append(w)
        if len(roots) > 1:
            self.problem(f"{len(roots)} words hang from ROOT: {', '.join(w.form for w in roots)}",
                         self.region_id(roots[1]))
        self.report_cycles(words, heads)

    def report_cycles(self, words: list[Word], heads: dict) -> None:
        done: set[int] = set()
        for w in words:
            path, cur = [], w
            while cur is not None and cur is not _ROOT and id(cur) not in done:
                if cur in path:
                    cycle = path[path.index(cur):]
                    self.problem("cycle: " + " -> ".join(x.form for x in cycle), self.region_id(cycle[0]))
                    break
                path.append(cur)
                cur = heads[id(cur)][0]
            done.update(id(x) for x in path)

    def region_id(self, word: Word) -> str | None:
        return next((rid for rid, w in self.region_word.items() if w is word), None)

    def number(self, words: list[Word], heads: dict, old_words: list[Word]) -> None:
        """Ids 1..n in order (Sentence.renumber), heads from the word objects, enhanced ids remapped."""
        changed = [id(w) for w in words] != [id(w) for w in old_words]
        new_pos = {id(w): i for i, w in enumerate(words, 1)}
        old_to_new = {0: 0, **{w.id: new_pos[id(self.heir[w.id])] for w in old_words}}
        temp = {}
        for i, w in enumerate(words, 1):
            if id(w) in self.new:
                w.id = -i  # unique and unused: predicted ids are positive
            temp[id(w)] = w.id
        for w in words:
            head, w.deprel = heads[id(w)]
            w.head = None if head is None else 0 if head is _ROOT else temp[id(head)]
            if id(w) in self.new:  # what described the old words does not describe the new ones
                w.xpos = w.feats = w.deps = "_"
                w.misc = format_misc({k: v for k, v in parse_misc(w.misc).items() if k in TOKEN_MISC_KEYS})
        self.sent.renumber()
        if changed:
            for w in words:
                w.deps = _remap_deps(w.deps, old_to_new)
            for node in self.sent.empty_nodes:
                node.after = old_to_new.get(node.after, node.after)
                node.columns[8] = _remap_deps(node.columns[8], old_to_new)
                node.columns[0] = f"{node.after}.{node.columns[0].split('.', 1)[1]}"

    # --- named entities --------------------------------------------------------------------------------------

    def map_entities(self) -> None:
        tokens, text = self.sent.tokens, self.sent.text
        before = self.sent.entities
        # Entities on tokens not found in the text were never shown: keep them.
        kept = [e for e in before if tokens[e.start_token].start is None or tokens[e.end_token - 1].end is None]
        starts = {t.start: i for i, t in enumerate(tokens) if t.start is not None}
        ends = {t.end: i for i, t in enumerate(tokens) if t.end is not None}
        found: list[tuple[Entity, str | None]] = []
        for r in self.ner_regions:
            s, e = r.start, r.end
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if len(r.labels) != 1 or r.labels[0] not in NER_LABELS:
                self.problem(f"entity {text[s:e]!r} needs exactly one of {', '.join(NER_LABELS)}, has {r.labels}",
                             r.id)
            elif s not in starts or e not in ends or ends[e] < starts[s]:
                self.problem(f"entity {text[s:e]!r} is not aligned to tokens", r.id)
            else:
                found.append((Entity(starts[s], ends[e] + 1, r.labels[0]), r.id))
        found.sort(key=lambda x: (x[0].start_token, x[0].end_token))
        entities = list(kept)
        for ent, rid in found:
            if any(ent.start_token < o.end_token and o.start_token < ent.end_token for o in entities):
                self.problem(f"entity {ent.label} over tokens {ent.start_token}-{ent.end_token - 1} overlaps "
                             "another; ignored", rid)
            else:
                entities.append(ent)
        entities.sort(key=lambda x: x.start_token)
        if entities != before:
            self.sent.set_entities(entities)


def _remap_deps(deps: str, ids: dict[int, int]) -> str:
    """Enhanced DEPS `head:rel|...` with word ids (and empty-node ids `n.k`) renumbered."""
    if deps == "_":
        return deps
    out = []
    for item in deps.split("|"):
        head, sep, rel = item.partition(":")
        major, dot, minor = head.partition(".")
        if major.isdigit() and int(major) in ids:
            head = f"{ids[int(major)]}{dot}{minor}"
        out.append(head + sep + rel)
    return "|".join(out)
