"""Mapping steps 1-2: read an annotation's result list into regions by layer, and file the word regions (and the
per-word values) under the written words they lie in."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import (LEMMA, NER, SEG, SEG_TEXT, TEXT, UPOS, WORD, WORDS, XPOS, XPOS_SHOWN, arabic_features,
                     feature_of_control)
from .config import ROOT as ROOT_CONTROL  # the control name "root"; mapping_common.ROOT is the pseudo-word
from .mapping_common import MappingContext, Region, Span
from .tasks import from_js

# The per-region controls on the words, each with the layer it belongs to.
_WORD_VALUE_LAYERS = {LEMMA: "lemma", SEG: "seg", SEG_TEXT: "seg", XPOS: "xpos", XPOS_SHOWN: "feats"}


@dataclass
class WordValue:
    """One per-region value on a word region (a lemma, a segmentation, features, ...): its span and its values."""
    region_id: str | None
    span: Span
    values: list


@dataclass
class AnnotationRegions:
    """An annotation's result, sorted by what each item is; items that could not be read are problems instead."""
    words: list[Region] = field(default_factory=list)     # word regions on `words` (the word control's)
    root: list[Region] = field(default_factory=list)      # regions labelled ROOT on `words`
    # control name (lemma, seg, segmentation, xpos, feat_Case, ...) -> region id -> its values
    values: dict[str, dict[str | None, list]] = field(default_factory=dict)
    # the segmentation controls' values with their spans (placed by span: they speak for a written word)
    seg: list[WordValue] = field(default_factory=list)
    seg_text: list[WordValue] = field(default_factory=list)
    entities: list[Region] = field(default_factory=list)  # NER regions on `text`
    relations: list[dict] = field(default_factory=list)

    @property
    def lemmas(self) -> dict[str | None, list]:
        return self.values.get(LEMMA, {})

    def value_regions(self) -> set[str | None]:
        """The ids of every region that carries a per-region value."""
        return {rid for by_region in self.values.values() for rid in by_region}


def read_result(ctx: MappingContext, result: list[dict]) -> AnnotationRegions:
    regions = AnnotationRegions()
    for item in result:
        if item.get("type") == "relation":
            regions.relations.append(item)
            continue
        region = _read_region(ctx, item)
        if region is not None:
            _file_region(ctx, regions, item, region)
    return regions


def _read_region(ctx: MappingContext, item: dict) -> Region | None:
    """The item's span in code points, checked against the text it claims to select."""
    rid, to_name = item.get("id"), item.get("to_name")
    value = item.get("value") or {}
    text = {WORDS: ctx.view.text, TEXT: ctx.sentence.text}.get(to_name)
    if text is None:
        ctx.problem(f"region on unknown object {to_name!r} ignored", rid)
        return None
    start, end = value.get("start"), value.get("end")
    # Label Studio counts UTF-16 units (docs/label-studio.md): convert, and refuse offsets inside a surrogate pair.
    start = from_js(text, start) if isinstance(start, int) else None
    end = from_js(text, end) if isinstance(end, int) else None
    if start is None or end is None or start >= end:
        ctx.problem(f"region offsets {value.get('start')}-{value.get('end')} are not a span of ${to_name}; ignored",
                    rid)
        return None
    if isinstance(value.get("text"), str) and value["text"] != text[start:end]:
        ctx.problem(f"region text {value['text']!r} does not match its offsets; ignored", rid)
        return None
    return Region(rid, start, end, list(value.get("labels") or []))


def _file_region(ctx: MappingContext, regions: AnnotationRegions, item: dict, region: Region) -> None:
    rid, from_name, to_name = item.get("id"), item.get("from_name"), item.get("to_name")
    value = item.get("value") or {}
    layer_off = f"{from_name} region ignored: its layer is not on"
    feature = feature_of_control(from_name or "")
    if to_name == WORDS and from_name in (UPOS, WORD):
        if from_name != ctx.control:
            ctx.problem(layer_off, rid)
        else:
            regions.words.append(region)
    elif to_name == WORDS and from_name == ROOT_CONTROL:
        regions.root.append(region)
    elif to_name == WORDS and (from_name in _WORD_VALUE_LAYERS or feature in arabic_features()):
        layer = _WORD_VALUE_LAYERS.get(from_name, "feats")
        if layer not in ctx.layers or (from_name == XPOS_SHOWN and XPOS in ctx.layers):
            ctx.problem(layer_off, rid)
            return
        values = value.get("choices") if item.get("type") == "choices" else value.get("text")
        regions.values.setdefault(from_name, {}).setdefault(rid, []).append(values)
        if from_name in (SEG, SEG_TEXT):
            span = ctx.view.trim(region.start, region.end)
            (regions.seg if from_name == SEG else regions.seg_text).append(WordValue(rid, span, values))
    elif to_name == TEXT and from_name == NER:
        if NER not in ctx.layers:
            ctx.problem(layer_off, rid)
        else:
            regions.entities.append(region)
    else:
        ctx.problem(f"region of unknown control {from_name!r} on {to_name!r} ignored", rid)


def flat_values(values: list | None) -> list:
    """A control's values on one region as one flat list ([["a"], "b"] -> ["a", "b"])."""
    return [t for v in values or [] for t in (v if isinstance(v, list) else [v])]


def root_region_ids(ctx: MappingContext, root_regions: list[Region]) -> list[str]:
    """The ids of the regions that are the ROOT pseudo-word (relations from them attach words to the root)."""
    ids = []
    for region in root_regions:
        if region.id is not None and (region.start, region.end) == ctx.view.root_span():
            ids.append(region.id)
        else:
            ctx.problem("ROOT label used off the ROOT pseudo-word; ignored", region.id)
    return ids


@dataclass
class PlacedRegions:
    by_written: dict[int, list[Region]] = field(default_factory=dict)  # written word -> its word regions, trimmed
    unreadable: set[int] = field(default_factory=set)  # written words whose regions cannot be read as words
    seg: dict[int, list] = field(default_factory=dict)  # written word -> its segmentation actions (WordValue)
    seg_text: dict[int, list] = field(default_factory=dict)  # written word -> the segmentations typed (WordValue)


def place_word_regions(ctx: MappingContext, regions: AnnotationRegions, written) -> PlacedRegions:
    """Trim separators off each word region and file it under the written word it lies in; the segmentation
    values too.

    Inside a written word a region may cross token boundaries (tokens written together are merged); a region
    across a space of the text is not applied and makes every written word it touches keep its predicted words."""
    view, placed = ctx.view, PlacedRegions()
    owner: list[int | None] = [None] * len(view.text)  # character -> written word (-1: ROOT), None between them
    root = view.root_span()
    if root:
        owner[root[0]:root[1]] = [-1] * (root[1] - root[0])
    for ww in written:
        owner[ww.span[0]:ww.span[1]] = [ww.index] * (ww.span[1] - ww.span[0])
    for r in regions.words:
        s, e = view.trim(r.start, r.end)
        first, last = (owner[s], owner[e - 1]) if s < e else (None, None)
        if s >= e:
            ctx.problem(f"region {view.text[r.start:r.end]!r} selects no word; ignored", r.id)
        elif first == -1 or last == -1:
            ctx.problem("the ROOT pseudo-word cannot be a word; region ignored", r.id)
        elif first is not None and first == last:
            placed.by_written.setdefault(first, []).append(Region(r.id, s, e, r.labels))
        else:
            ctx.problem(f"region {view.text[s:e]!r} crosses a space of the text (only words written together can "
                        "be merged)", r.id)
            inside = [t for t in owner[s:e] if t is not None and t >= 0]
            placed.unreadable.update(range(min(inside), max(inside) + 1))
    for values, target in ((regions.seg, placed.seg), (regions.seg_text, placed.seg_text)):
        for v in values:
            s, e = v.span
            where = {owner[i] for i in range(s, e)} - {None} if s < e else set()
            if len(where) == 1 and -1 not in where:
                target.setdefault(where.pop(), []).append(v)
            else:
                ctx.problem("segmentation on a region that is not inside one written word ignored", v.region_id)
    return placed
