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
