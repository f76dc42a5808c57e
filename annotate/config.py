"""The Label Studio labeling interface: two right-to-left text views and selectable correction layers.

`words` shows the syntactic words (the words of one written word joined by "+" or a plain space, written words
apart by " · "), one pre-annotated region per word; `text` shows the original sentence for named-entity spans.
The selected word's panel holds its lemma, the segmentation of its written word and its features. Why this
shape, and what an annotator does with it: docs/labeling-interface.md. Measured Label Studio behaviour:
docs/label-studio.md.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

from label_studio_sdk.label_interface import LabelInterface
from label_studio_sdk.label_interface.create import create_element, labels

from mudawwana.corpus.data_model import NER_LABELS, UPOS_TAGS

LAYERS = ("upos", "lemma", "seg", "feats", "xpos", "deps", "ner")
# deps is off by default: arcs over a 25-word sentence get crowded (docs/label-studio.md); turn it on for a parsing
# pass. feats is off by default too: a morphology pass shows ~6 controls per word.
DEFAULT_LAYERS = ("upos", "lemma", "seg", "ner")

# Object tags (names double as the task data keys) and control tags.
WORDS, TEXT = "words", "text"
UPOS, WORD, ROOT, LEMMA, NER = "upos", "word", "root", "lemma", "ner"
SEG, SEG_TEXT = "seg", "segmentation"  # the per-word segmentation actions, and the written word's segmentation typed
XPOS, XPOS_SHOWN = "xpos", "xpos_shown"  # XPOS editable (xpos layer) or shown read-only (feats without xpos)
FEAT_PREFIX = "feat_"  # one per-region Choices per UD feature: feat_Case, feat_Gender, ...
WORD_LABEL = "WORD"  # the one label of the `word` control (word regions when upos is not a layer)
ROOT_LABEL = "ROOT"

# The segmentation actions on the selected word (per-region Choices `seg`): value -> hotkey. Anything else is typed
# in the `segmentation` box as the written word's words joined by "+".
SEG_JOIN, SEG_PREFIX, SEG_SUFFIX = "join", "split prefix", "split suffix"
SEG_ACTIONS = {SEG_JOIN: "j", SEG_PREFIX: "f", SEG_SUFFIX: "l"}
SEG_JOINER = "+"  # between the words of a written word in the `segmentation` box: و+قع

# UD v2 relations plus the subtypes found in the Arabic treebanks (PADT, PUD, NYUAD).
DEPRELS = (
    "acl", "acl:relcl", "advcl", "advmod", "advmod:emph", "amod", "appos", "aux", "aux:pass", "case", "cc",
    "cc:preconj", "ccomp", "clf", "compound", "compound:prt", "conj", "cop", "csubj", "csubj:pass", "dep", "det",
    "discourse", "dislocated", "expl", "fixed", "flat", "flat:foreign", "goeswith", "iobj", "list", "mark",
    "nmod", "nmod:poss", "nsubj", "nsubj:pass", "nummod", "obj", "obl", "obl:arg", "obl:tmod", "orphan",
    "parataxis", "punct", "reparandum", "root", "vocative", "xcomp",
)

# One key per tag; none of Label Studio's own single keys (u = unselect region) and unique across controls.
UPOS_HOTKEYS = {
    "ADJ": "a", "ADP": "p", "ADV": "d", "AUX": "q", "CCONJ": "c", "DET": "t", "INTJ": "i", "NOUN": "n",
    "NUM": "m", "PART": "r", "PRON": "o", "PROPN": "e", "PUNCT": "k", "SCONJ": "s", "SYM": "y", "VERB": "v",
    "X": "x",
}
# Related tags get related hues (nominals blue, verbs red, modifiers green, function words orange/brown).
UPOS_COLORS = {
    "NOUN": "#1f77b4", "PROPN": "#17becf", "PRON": "#6baed6", "VERB": "#d62728", "AUX": "#ff9896",
    "ADJ": "#2ca02c", "ADV": "#98df8a", "ADP": "#ff7f0e", "SCONJ": "#ffbb78", "CCONJ": "#e377c2",
    "PART": "#8c564b", "DET": "#c49c94", "NUM": "#9467bd", "PUNCT": "#7f7f7f", "SYM": "#c7c7c7",
    "INTJ": "#bcbd22", "X": "#dbdb8d",
}
NER_HOTKEYS = {"PER": "1", "LOC": "2", "ORG": "3", "MISC": "4"}
NER_COLORS = {"PER": "#e6194b", "LOC": "#3cb44b", "ORG": "#4363d8", "MISC": "#f58231"}


def _dead_hotkeys():
    """Hotkeys no keyboard sends (private-use characters: their key code is above any real one). Label Studio gives
    every Choice and Label without a hotkey one of its own (1-0, then letters; docs/label-studio.md), so feature
    values would otherwise toggle on stray keys; each gets one of these instead (unique: a key bound twice fires
    both), and the hint that would show it is hidden by the <Style>."""
    n = 0xE000
    while True:
        yield chr(n)
        n += 1


FONT_STACK = "'Noto Naskh Arabic', 'Amiri', 'Noto Sans Arabic', 'Arial', sans-serif"
RTL = "direction: rtl; text-align: right"
LABEL_PX = 12  # the `n:TAG` after each word (Label Studio: 9.5 px)
# Fonts must be set through <Style>: a View's font-size does not reach the text, and Label Studio's own
# `.lsf-datamanager * { font-family: ... !important }` (and the labeling stream's body rule) beat any plain rule on
# every element, the highlight spans inside the text included, so ours are !important and name the spans too
# (docs/label-studio.md). Label Studio 1.23 renders a <Text> as `.lsf-richtext__line` spans (older versions:
# `.htx-text`) inside our View; the selectors are scoped by our class names. The words view shows each region's
# "index:TAG" (Label Studio hides it unless the user turns on "show labels"), so an annotator reads the tags
# without clicking every word.
STYLE = f"""
.mdw-rtl, .mdw-rtl .lsf-richtext__line, .mdw-rtl .htx-text {{ direction: rtl; text-align: right; }}
.mdw-rtl .lsf-richtext__line, .mdw-rtl .lsf-richtext__line *, .mdw-rtl .htx-text, .mdw-rtl .htx-text * {{
  font-family: {FONT_STACK} !important; }}
.mdw-words .lsf-richtext__line, .mdw-words .htx-text {{ font-size: 22px; line-height: 2.6; }}
.mdw-sentence .lsf-richtext__line, .mdw-sentence .htx-text {{ font-size: 20px; line-height: 2.2; }}
.mdw-words .htx-highlight.htx-no-label::after {{ display: inline; }}
.mdw-words .htx-highlight::after {{ direction: ltr; unicode-bidi: isolate; font-size: {LABEL_PX}px !important;
  line-height: 1.2; font-family: monospace !important; }}
.mdw-panel [data-testid=htx-textbox-content], .mdw-panel textarea, .mdw-panel input {{ direction: rtl;
  text-align: right; font-family: {FONT_STACK} !important; font-size: 20px; }}
.mdw-panel .mdw-xpos [data-testid=htx-textbox-content], .mdw-panel .mdw-xpos input {{ direction: ltr;
  text-align: left; font-family: monospace !important; font-size: 15px; }}
.mdw-panel h4, .mdw-panel h5, .mdw-panel h6 {{ direction: ltr; text-align: left; font-size: 13px !important;
  margin: 6px 0 2px !important; }}
.mdw-panel .lsf-choices {{ margin: 0 !important; }}
.mdw-feats {{ display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); column-gap: 24px; }}
.mdw-feat {{ display: flex; align-items: center; gap: 8px; }}
.mdw-feat h6 {{ min-width: 76px; margin: 0 !important; font-weight: 600; }}
.mdw-feats .lsf-hint {{ display: none !important; }}
.mdw-hint h4, .mdw-hint h5, .mdw-hint h6 {{ font-size: 13px !important; font-weight: normal; color: #555;
  margin: 2px 0 !important; }}
"""


def check_layers(layers: Iterable[str]) -> tuple[str, ...]:
    """The layers in canonical order; an unknown, repeated-only or empty selection is a ValueError."""
    if isinstance(layers, str):  # "upos" would otherwise be read as five one-letter layers
        layers = [layers]
    chosen = list(layers)
    unknown = [x for x in chosen if x not in LAYERS]
    if unknown:
        raise ValueError(f"unknown annotation layer(s) {', '.join(map(repr, unknown))}: "
                         f"choose from {', '.join(LAYERS)}")
    if not chosen:
        raise ValueError(f"no annotation layer chosen: choose from {', '.join(LAYERS)}")
    return tuple(x for x in LAYERS if x in chosen)


def word_control(layers: Sequence[str]) -> str | None:
    """The control whose regions are the words: upos when it is a layer (upos and seg share the regions),
    else a one-label `word` control so the other word layers still have regions; None when no layer needs words."""
    layers = check_layers(layers)
    if UPOS in layers:
        return UPOS
    if set(layers) - {NER}:
        return WORD
    return None


# --- morphological features: what UD allows for Arabic ------------------------------------------------------

# A feature is offered for a UPOS when UD Arabic uses it there at least this share as often as with its commonest
# UPOS (udtools' counts): Aspect for VERB and AUX, not for the 51 NOUNs that carry it. A feature used fewer than
# RARE_FEATURE times in all UD Arabic (Foreign, ExtPos, PronType, NumType, ...) sits in a collapsed panel.
FEATURE_UPOS_SHARE = 0.005
RARE_FEATURE = 100


@lru_cache(maxsize=1)
def rare_features() -> frozenset[str]:
    data = _feats_json()["features"]["ar"]
    return frozenset(f for f in arabic_features()
                     if sum(sum(v.values()) for v in data[f].get("byupos", {}).values()) < RARE_FEATURE)


@lru_cache(maxsize=1)
def _feats_json() -> dict:
    return json.loads(resources.files("udtools").joinpath("data", "feats.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def arabic_features() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Feature -> (its values, the UPOS it is offered for), from the UD validator's own data (udtools'
    feats.json, language `ar`): the features UD permits for Arabic, with the values it permits (universal and
    language-specific), in UD's order (case-insensitive). A feature no UPOS may carry (Typo: range lines only) is
    left out."""
    out = {}
    for name, record in sorted(_feats_json()["features"]["ar"].items(), key=lambda x: x[0].lower()):
        counts = {upos: sum(values.values()) for upos, values in record.get("byupos", {}).items()}
        if not record.get("permitted") or not counts:
            continue
        values = sorted(set(record.get("uvalues", [])) | set(record.get("lvalues", [])), key=str.lower)
        top = max(counts.values())
        upos = tuple(u for u in UPOS_TAGS if counts.get(u, 0) and counts[u] >= FEATURE_UPOS_SHARE * top)
        out[name] = (tuple(values), upos)
    return out


def feature_control(feature: str) -> str:
    return FEAT_PREFIX + feature


def feature_of_control(name: str) -> str | None:
    return name[len(FEAT_PREFIX):] if name.startswith(FEAT_PREFIX) else None


# --- the config -----------------------------------------------------------------------------------------------

def _labels(name: str, to_name: str, values: Sequence[str], hotkeys: dict, colors: dict, **attrs) -> tuple:
    tag, attr, children = labels(values, name=name, toName=to_name, **attrs)
    for _, label_attr, _ in children:
        value = label_attr["value"]
        if value in hotkeys:
            label_attr["hotkey"] = hotkeys[value]
        if value in colors:
            label_attr["background"] = colors[value]
    return tag, attr, children


def hint_text(layers: Sequence[str]) -> str:
    """The instruction line above the words: every separator of the words view, and how each layer is corrected."""
    layers = check_layers(layers)
    hint = ("Words: + joins the words of one token; a plain space joins tokens written together (no space in the "
            "text); · is a space in the text. Click a word, then a tag or its key.")
    if "seg" in layers:
        hint += (" Segmentation of the selected word: j joins it with the next word of its written word, f splits "
                 "off its first letter, l splits off a pronoun suffix; or type the written word's words joined by +.")
    if "feats" in layers:
        hint += " Features: click a value (click it again to remove the feature)."
    if "deps" in layers:
        hint += " Dependencies: select the head, Alt+R, click the dependent, then pick the relation."
    return hint + " In Label All Tasks, Submit opens the next task."


def build_config(layers: Sequence[str] = DEFAULT_LAYERS, *, legacy: bool = False) -> str:
    """The labeling config XML for these layers, validated by the SDK's LabelInterface.

    legacy: the config of mudawwana versions before the word panel (the seg layer without its segmentation
    controls; no feats/xpos): what projects made by them still have (annotate/projects.py reads them)."""
    layers = check_layers(layers)
    if legacy and {"feats", "xpos"} & set(layers):
        raise ValueError("legacy configs have no feats or xpos layer")
    control = word_control(layers)
    word_labels = ",".join(UPOS_TAGS if control == UPOS else [WORD_LABEL])
    dead = _dead_hotkeys()
    root = ET.Element("View")
    ET.SubElement(root, "Style").text = STYLE
    if control:
        create_element(("View", {"className": "mdw-hint"}, (("Header", {"value": hint_text(layers), "size": "6"},
                                                                 ()),)), root)
        if control == UPOS:
            create_element(_labels(UPOS, WORDS, UPOS_TAGS, UPOS_HOTKEYS, UPOS_COLORS, showInline="true"), root)
        else:
            create_element(_labels(WORD, WORDS, [WORD_LABEL], {WORD_LABEL: "w"}, {WORD_LABEL: "#1f77b4"}), root)
        if "deps" in layers:
            # The ROOT pseudo-word (region w0) is pre-annotated; its control stays out of sight so it is never
            # offered as a tag for a real word (and gets a dead hotkey: no key turns a word into ROOT).
            root_hotkey = {} if legacy else {ROOT_LABEL: next(dead)}
            create_element(("View", {"style": "display: none"},
                            (_labels(ROOT, WORDS, [ROOT_LABEL], root_hotkey, {ROOT_LABEL: "#444444"}),)), root)
        # selectionEnabled=false without seg: no new word regions can be drawn, only relabelled.
        words_attrs = {"name": WORDS, "value": "$" + WORDS}
        if "seg" not in layers:
            words_attrs["selectionEnabled"] = "false"
        create_element(("View", {"className": "mdw-rtl mdw-words", "style": RTL},
                        (("Text", words_attrs, ()),)), root)
        if "deps" in layers:
            create_element(("Relations", {"choice": "single"},
                            tuple(("Relation", {"value": d}, ()) for d in DEPRELS)), root)
        panel = _word_panel(layers, word_labels, dead, legacy)
        if panel:
            # Shown when a word is selected. whenLabelValue, not whenTagName: Label Studio 1.23 compares
            # whenTagName with the region's control (docs: its object), so only labels select reliably. On a View
            # it only hides: the per-region results inside are submitted all the same (docs/label-studio.md).
            create_element(("View", {"className": "mdw-panel", "visibleWhen": "region-selected",
                                     "whenLabelValue": word_labels}, tuple(panel)), root)
    create_element(("Header", {"value": "Sentence" + (" — named entities" if "ner" in layers else ""),
                               "size": "5"}, ()), root)
    if "ner" in layers:
        create_element(_labels(NER, TEXT, NER_LABELS, NER_HOTKEYS, NER_COLORS, showInline="true"), root)
    create_element(("View", {"className": "mdw-rtl mdw-sentence", "style": RTL},
                    (("Text", {"name": TEXT, "value": "$" + TEXT}, ()),)), root)
    config = ET.tostring(root, encoding="unicode")
    LabelInterface(config).validate()  # raises on a config Label Studio would refuse
    return config


def _text_box(name: str, placeholder: str, editable: bool = True) -> tuple:
    return ("TextArea", {"name": name, "toName": WORDS, "perRegion": "true", "editable": str(editable).lower(),
                         "maxSubmissions": "1", "placeholder": placeholder}, ())


def _word_panel(layers: tuple[str, ...], word_labels: str, dead, legacy: bool) -> list[tuple]:
    """The selected word's controls: lemma, segmentation, XPOS, features (each per region)."""
    panel: list[tuple] = []
    if "lemma" in layers:
        panel.append(("View", {"className": "mdw-rtl mdw-lemma"},
                      (("Header", {"value": "Lemma", "size": "6"}, ()), _text_box(LEMMA, "lemma"))))
    if "seg" in layers and not legacy:
        actions = tuple(("Choice", {"value": value, "hotkey": key}, ()) for value, key in SEG_ACTIONS.items())
        panel.append(("View", {"className": "mdw-seg"}, (
            ("Header", {"value": "Segmentation: j join with the next word, f split off the first letter, "
                                 "l split off the pronoun suffix; or edit the written word (words joined by +)",
                        "size": "6"}, ()),
            ("Choices", {"name": SEG, "toName": WORDS, "perRegion": "true", "choice": "single",
                         "showInline": "true"}, actions),
            _text_box(SEG_TEXT, "the written word, its words joined by +"))))
    if "xpos" in layers:
        panel.append(("View", {"className": "mdw-xpos"},
                      (("Header", {"value": "XPOS", "size": "6"}, ()), _text_box(XPOS, "xpos"))))
    elif "feats" in layers:
        panel.append(("View", {"className": "mdw-xpos"},
                      (("Header", {"value": "XPOS (read only)", "size": "6"}, ()),
                       _text_box(XPOS_SHOWN, "no xpos", editable=False))))
    if "feats" in layers:
        rows, rare = [], []
        for feature, (values, upos) in arabic_features().items():
            # Each feature only for the UPOS that carry it in UD Arabic (the word layer's WORD label: all).
            shown_for = ",".join(upos) if word_labels != WORD_LABEL else WORD_LABEL
            choices = tuple(("Choice", {"value": v, "hotkey": next(dead)}, ()) for v in values)
            row = ("View", {"className": "mdw-feat", "visibleWhen": "region-selected", "whenLabelValue": shown_for},
                   (("Header", {"value": feature, "size": "6"}, ()),
                    ("Choices", {"name": feature_control(feature), "toName": WORDS, "perRegion": "true",
                                 "choice": "single", "showInline": "true"}, choices)))
            (rare if feature in rare_features() else rows).append(row)
        more = ("Collapse", {"bordered": "false"},
                (("Panel", {"value": "Rare features"}, (("View", {"className": "mdw-feats"}, tuple(rare)),)),))
        panel.append(("View", {}, (("Header", {"value": "Features (click a value; again to remove it)", "size": "6"},
                                    ()), ("View", {"className": "mdw-feats"}, tuple(rows)), more)))
    return panel
