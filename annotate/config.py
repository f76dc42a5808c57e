"""The Label Studio labeling interface: two right-to-left text views and selectable correction layers.

`words` shows the syntactic words (clitics joined by "+", tokens apart), one pre-annotated region per word;
`text` shows the original sentence for named-entity spans. Why this shape, and what an annotator does with
it: docs/labeling-interface.md. Measured Label Studio behaviour: docs/label-studio.md.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterable, Sequence

from label_studio_sdk.label_interface import LabelInterface
from label_studio_sdk.label_interface.create import create_element, labels

from mudawwana.corpus.data_model import NER_LABELS, UPOS_TAGS

LAYERS = ("upos", "lemma", "seg", "deps", "ner")
# deps is off by default: arcs over a 25-word sentence get crowded (docs/label-studio.md); turn it on for a parsing pass.
DEFAULT_LAYERS = ("upos", "lemma", "seg", "ner")

# Object tags (names double as the task data keys) and control tags.
WORDS, TEXT = "words", "text"
UPOS, WORD, ROOT, LEMMA, NER = "upos", "word", "root", "lemma", "ner"
WORD_LABEL = "WORD"  # the one label of the `word` control (word regions when upos is not a layer)
ROOT_LABEL = "ROOT"

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

FONT_STACK = "'Noto Naskh Arabic', 'Amiri', 'Noto Sans Arabic', 'Arial', sans-serif"
RTL = "direction: rtl; text-align: right"
# Font size must be set through <Style>: a View's font-size does not reach the text (docs/label-studio.md). Label Studio 1.23
# renders a <Text> as `.lsf-richtext__line` spans (older versions: `.htx-text`) inside our View; the selectors
# are scoped by our class names. The words view shows each region's "index:TAG" (Label Studio hides it unless the
# user turns on "show labels"), so an annotator reads the tags without clicking every word.
STYLE = f"""
.mdw-rtl, .mdw-rtl .lsf-richtext__line, .mdw-rtl .htx-text {{ direction: rtl; text-align: right; }}
.mdw-rtl .lsf-richtext__line, .mdw-rtl .htx-text {{ font-family: {FONT_STACK}; }}
.mdw-words .lsf-richtext__line, .mdw-words .htx-text {{ font-size: 22px; line-height: 2.6; }}
.mdw-sentence .lsf-richtext__line, .mdw-sentence .htx-text {{ font-size: 20px; line-height: 2.2; }}
.mdw-lemma [data-testid=htx-textbox-content], .mdw-lemma textarea, .mdw-lemma input {{ direction: rtl;
  text-align: right; font-family: {FONT_STACK}; font-size: 20px; }}
.mdw-lemma h4, .mdw-lemma h5, .mdw-lemma h6 {{ direction: ltr; text-align: left; }}
.mdw-words .htx-highlight.htx-no-label::after {{ display: inline; }}
.mdw-words .htx-highlight::after {{ direction: ltr; unicode-bidi: isolate; }}
.mdw-hint h4, .mdw-hint h5, .mdw-hint h6 {{ font-size: 13px !important; font-weight: normal; color: #666;
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
    else a one-label `word` control so lemma/seg/deps still have regions; None when no layer needs words."""
    layers = check_layers(layers)
    if UPOS in layers:
        return UPOS
    if {"lemma", "seg", "deps"} & set(layers):
        return WORD
    return None


def _labels(name: str, to_name: str, values: Sequence[str], hotkeys: dict, colors: dict, **attrs) -> tuple:
    tag, attr, children = labels(values, name=name, toName=to_name, **attrs)
    for _, label_attr, _ in children:
        value = label_attr["value"]
        if value in hotkeys:
            label_attr["hotkey"] = hotkeys[value]
        if value in colors:
            label_attr["background"] = colors[value]
    return tag, attr, children


def build_config(layers: Sequence[str] = DEFAULT_LAYERS) -> str:
    """The labeling config XML for these layers, validated by the SDK's LabelInterface."""
    layers = check_layers(layers)
    control = word_control(layers)
    root = ET.Element("View")
    ET.SubElement(root, "Style").text = STYLE
    if control:
        hint = "Words: + joins the words of one token, · separates tokens. Click a word, then a tag or key."
        if "seg" in layers:
            hint += " Resegment: delete a word (Backspace) and select the new word(s) inside its token."
        if "deps" in layers:
            hint += " Dependencies: select the head, Alt+R, click the dependent, then pick the relation."
        create_element(("View", {"className": "mdw-hint"}, (("Header", {"value": hint, "size": "6"}, ()),)), root)
        if control == UPOS:
            create_element(_labels(UPOS, WORDS, UPOS_TAGS, UPOS_HOTKEYS, UPOS_COLORS, showInline="true"), root)
        else:
            create_element(_labels(WORD, WORDS, [WORD_LABEL], {WORD_LABEL: "w"}, {WORD_LABEL: "#1f77b4"}), root)
        if "deps" in layers:
            # The ROOT pseudo-word (region w0) is pre-annotated; its control stays out of sight so it is never
            # offered as a tag for a real word.
            create_element(("View", {"style": "display: none"},
                            (_labels(ROOT, WORDS, [ROOT_LABEL], {}, {ROOT_LABEL: "#444444"}),)), root)
        # selectionEnabled=false without seg: no new word regions can be drawn, only relabelled.
        words_attrs = {"name": WORDS, "value": "$" + WORDS}
        if "seg" not in layers:
            words_attrs["selectionEnabled"] = "false"
        create_element(("View", {"className": "mdw-rtl mdw-words", "style": RTL},
                        (("Text", words_attrs, ()),)), root)
        if "deps" in layers:
            create_element(("Relations", {"choice": "single"},
                            tuple(("Relation", {"value": d}, ()) for d in DEPRELS)), root)
        if "lemma" in layers:
            # Shown when a word is selected. whenLabelValue, not whenTagName: Label Studio 1.23 compares
            # whenTagName with the region's control (docs: its object), so only labels select reliably.
            word_labels = ",".join(UPOS_TAGS if control == UPOS else [WORD_LABEL])
            create_element(("View", {"className": "mdw-rtl mdw-lemma", "visibleWhen": "region-selected",
                                     "whenLabelValue": word_labels},
                            (("Header", {"value": "Lemma", "size": "6"}, ()),
                             ("TextArea", {"name": LEMMA, "toName": WORDS, "perRegion": "true",
                                           "editable": "true", "maxSubmissions": "1",
                                           "placeholder": "lemma"}, ()))), root)
    create_element(("Header", {"value": "Sentence" + (" — named entities" if "ner" in layers else ""),
                               "size": "5"}, ()), root)
    if "ner" in layers:
        create_element(_labels(NER, TEXT, NER_LABELS, NER_HOTKEYS, NER_COLORS, showInline="true"), root)
    create_element(("View", {"className": "mdw-rtl mdw-sentence", "style": RTL},
                    (("Text", {"name": TEXT, "value": "$" + TEXT}, ()),)), root)
    config = ET.tostring(root, encoding="unicode")
    LabelInterface(config).validate()  # raises on a config Label Studio would refuse
    return config
