"""The labeling config: every layer combination is a config Label Studio's own validator accepts."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from label_studio_sdk.label_interface import LabelInterface

from mudawwana.annotate.config import (DEFAULT_LAYERS, DEPRELS, LAYERS, UPOS_HOTKEYS, build_config, check_layers,
                             word_control)
from mudawwana.corpus.data_model import NER_LABELS, UPOS_TAGS

COMBINATIONS = [c for n in range(1, len(LAYERS) + 1) for c in itertools.combinations(LAYERS, n)]


@pytest.mark.parametrize("layers", COMBINATIONS, ids=",".join)
def test_every_layer_combination_validates(layers):
    config = build_config(layers)
    li = LabelInterface(config)
    li.validate()
    controls = {c.name for c in li.controls}
    assert ("upos" in controls) == ("upos" in layers)
    assert ("lemma" in controls) == ("lemma" in layers)
    assert ("ner" in controls) == ("ner" in layers)
    assert ("root" in controls) == ("deps" in layers)  # the ROOT pseudo-word exists only for dependencies
    assert ("<Relations" in config) == ("deps" in layers)
    assert ({"seg", "segmentation"} <= controls) == ("seg" in layers)
    assert ("feat_Case" in controls) == ("feats" in layers)
    assert ("xpos" in controls) == ("xpos" in layers)
    assert ("xpos_shown" in controls) == ("feats" in layers and "xpos" not in layers)
    if word_control(layers):
        assert "words" in {o.name for o in li.objects}


def test_default_config_content():
    assert DEFAULT_LAYERS == ("upos", "lemma", "seg", "ner")
    root = ET.fromstring(build_config())
    upos = root.find(".//Labels[@name='upos']")
    assert [x.get("value") for x in upos] == list(UPOS_TAGS)
    hotkeys = [x.get("hotkey") for x in root.iter("Label") if x.get("hotkey")]
    assert len(hotkeys) == len(set(hotkeys)) and "u" not in hotkeys  # u = Label Studio's "unselect region"
    assert [x.get("value") for x in root.find(".//Labels[@name='ner']")] == list(NER_LABELS)
    assert set(UPOS_HOTKEYS) == set(UPOS_TAGS)
    # Both texts sit in right-to-left views; the fonts come from a <Style> tag.
    for name in ("words", "text"):
        view = next(v for v in root.iter("View") if v.find(f"Text[@name='{name}']") is not None)
        assert "direction: rtl" in view.get("style")
    assert "Noto Naskh Arabic" in root.find("Style").text
    assert root.find(".//TextArea[@name='lemma']").get("perRegion") == "true"
    assert root.find(".//Relations") is None


def test_deps_layer_adds_relations_with_arabic_deprels():
    root = ET.fromstring(build_config([*DEFAULT_LAYERS, "deps"]))
    values = [x.get("value") for x in root.iter("Relation")]
    assert values == list(DEPRELS)
    for deprel in ("root", "nsubj", "obl:tmod", "compound:prt", "acl:relcl", "flat:foreign", "advmod:emph"):
        assert deprel in values


def test_without_seg_no_new_word_regions_can_be_drawn():
    root = ET.fromstring(build_config(["upos", "lemma"]))
    assert root.find(".//Text[@name='words']").get("selectionEnabled") == "false"
    assert ET.fromstring(build_config()).find(".//Text[@name='words']").get("selectionEnabled") is None


def test_word_regions_without_upos_use_a_one_label_control():
    assert word_control(["upos", "seg"]) == "upos"
    assert word_control(["deps"]) == "word"
    assert word_control(["ner"]) is None


@pytest.mark.parametrize("bad", [["pos"], ["upos", "lemmas"], [], "syntax"])
def test_bad_layer_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="layer"):
        build_config(bad)


def test_layers_are_put_in_canonical_order():
    assert check_layers(["ner", "upos", "upos"]) == ("upos", "ner")
    assert check_layers("deps") == ("deps",)
    assert build_config(["ner", "upos"]) == build_config(["upos", "ner"])


def test_every_hotkey_is_unique_and_none_is_left_to_label_studio():
    """Label Studio hands every Choice/Label without a hotkey one of its own (1-0, then letters): feature values
    would toggle on stray keys. Each has one; those of features (and ROOT) are keys no keyboard sends."""
    root = ET.fromstring(build_config(LAYERS))
    keys = [x.get("hotkey") for x in (*root.iter("Label"), *root.iter("Choice"))]
    assert None not in keys and len(keys) == len(set(keys))
    typed = [k for k in keys if ord(k[0]) < 0xE000]
    assert sorted(typed) == sorted([*UPOS_HOTKEYS.values(), "1", "2", "3", "4", "j", "f", "l"])


def test_style_makes_the_arabic_font_win_and_labels_readable():
    style = ET.fromstring(build_config()).find("Style").text
    # Label Studio's own `.lsf-datamanager * { font-family: ... !important }` reaches every span of the text
    assert ".mdw-rtl .lsf-richtext__line *" in style
    assert "font-family: 'Noto Naskh Arabic'" in style and "!important" in style
    assert "font-size: 12px !important" in style  # the n:TAG after each word


def test_the_instruction_line_names_every_separator():
    hint = ET.fromstring(build_config()).find(".//View[@className='mdw-hint']/Header").get("value")
    for separator in ("+ joins the words of one token", "a plain space joins tokens written together", "· is a space"):
        assert separator in hint
    assert "Label All Tasks, Submit opens the next task" in hint


def test_feats_layer_offers_arabic_values_by_upos():
    root = ET.fromstring(build_config(["upos", "feats"]))
    case = root.find(".//Choices[@name='feat_Case']")
    assert [c.get("value") for c in case] == ["Acc", "Gen", "Nom"] and case.get("perRegion") == "true"
    aspect_view = next(v for v in root.iter("View") if v.find("Choices[@name='feat_Aspect']") is not None)
    assert aspect_view.get("whenLabelValue") == "AUX,VERB"
    assert root.find(".//TextArea[@name='xpos_shown']").get("editable") == "false"
    assert root.find(".//TextArea[@name='xpos']") is None
    assert ET.fromstring(build_config(["upos", "feats", "xpos"])).find(".//TextArea[@name='xpos']").get(
        "editable") == "true"


def test_legacy_config_is_the_previous_versions():
    """Projects made before the word panel: the seg layer without its controls (annotate/projects.py reads them)."""
    legacy = ET.fromstring(build_config(DEFAULT_LAYERS, legacy=True))
    assert legacy.find(".//Choices[@name='seg']") is None and legacy.find(".//TextArea[@name='lemma']") is not None
    with pytest.raises(ValueError, match="legacy"):
        build_config(["upos", "feats"], legacy=True)
