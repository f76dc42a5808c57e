"""corpus.models: finding and loading model sets, the official package offline, tagging given words."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from mudawwana.corpus.errors import ModelNotFoundError
from mudawwana.corpus.data_model import UPOS_TAGS
from mudawwana.corpus.stanza_models import load_pipeline, tag_pretokenized
from fixtures_models import heads_form_a_tree


def test_missing_model_dir(tmp_path):
    with pytest.raises(ModelNotFoundError) as e:
        load_pipeline(tmp_path / "models" / "ar-pud")
    message = str(e.value)
    assert str(tmp_path / "models" / "ar-pud") in message and "mudawwana train" in message
    assert "\n" not in message


def test_model_dir_without_the_expected_files_names_what_is_missing(tmp_path):
    (tmp_path / "pos.pt").write_bytes(b"not really")
    with pytest.raises(ModelNotFoundError) as e:
        load_pipeline(tmp_path)
    message = str(e.value)
    assert str(tmp_path) in message
    for missing in ("tokenize.pt", "lemma.pt", "depparse.pt", "resources.json"):
        assert missing in message
    assert "pos.pt" not in message


def test_bad_device_is_refused(tmp_path):
    with pytest.raises(ValueError, match="device"):
        load_pipeline(tmp_path, device="tpu")


def test_official_package_offline_says_how_to_get_a_model(tmp_path, monkeypatch):
    """Whatever the network, a failed download must become one helpful line (stanza's download_file stubbed:
    every fetch of stanza's download code, the resources JSON's and each model's, goes through it)."""
    import requests
    from stanza.resources import common

    def offline(url, *args, **kwargs):
        raise requests.ConnectionError(f"Failed to resolve {url!r}\n(more lines)")

    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(tmp_path))
    monkeypatch.setenv("STANZA_RESOURCES_URL", "https://mirror.example/stanza")
    monkeypatch.setattr(common, "download_file", offline)
    with pytest.raises(ModelNotFoundError) as e:
        load_pipeline(None)
    message = str(e.value)
    assert str(tmp_path) in message and "ConnectionError" in message and "offline" in message
    assert "from https://mirror.example/stanza failed" in message
    assert "mudawwana train corpus/data/ar_pud-sample.conllu -o models/ar-pud" in message
    assert "--model-dir models/ar-pud" in message and "\n" not in message


def test_stanza_variables_are_read_when_loading_not_when_stanza_was_imported(tmp_path, monkeypatch):
    """stanza fixes its DEFAULT_* from the environment at import; the official path reads it at call time."""
    from stanza.resources import common

    from mudawwana.corpus.stanza_models import StanzaSettings, stanza_settings

    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(tmp_path))
    monkeypatch.setenv("STANZA_RESOURCES_URL", "http://127.0.0.1:9/stanza")
    monkeypatch.setenv("STANZA_RESOURCES_VERSION", "1.14.0")
    assert stanza_settings() == StanzaSettings(tmp_path, "http://127.0.0.1:9/stanza", "1.14.0")
    for name in ("STANZA_RESOURCES_DIR", "STANZA_RESOURCES_URL", "STANZA_RESOURCES_VERSION"):
        monkeypatch.delenv(name)
    settings = stanza_settings()
    assert settings.resources_dir == Path(common.DEFAULT_MODEL_DIR)
    assert settings.resources_url == common.DEFAULT_RESOURCES_URL
    assert settings.resources_version == common.DEFAULT_RESOURCES_VERSION


def _online() -> bool:
    try:
        socket.create_connection(("raw.githubusercontent.com", 443), timeout=2).close()
        return True
    except OSError:
        return False


def test_official_package_really_offline_fails_quickly(tmp_path, monkeypatch):
    if _online():
        pytest.skip("online: this would download the official Arabic models")
    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="--model-dir"):
        load_pipeline(None)
    assert time.monotonic() - start < 30


def test_tag_pretokenized_needs_a_pretokenized_pipeline():
    class RawPipeline:
        config = {"tokenize_pretokenized": False}

    with pytest.raises(ValueError, match="pretokenized=True"):
        tag_pretokenized(RawPipeline(), [["كتب"]])


@pytest.mark.slow
def test_pretokenized_tagging_keeps_the_given_words(tiny_model_dir):
    nlp, info = load_pipeline(tiny_model_dir, pretokenized=True, device="cpu")
    assert "mwt" not in info.processors
    # a clitic cluster left whole, split clitics, punctuation, a form with a space: each stays one word
    given = [["و", "قال", "إن", "ه", "سعيد", "."], ["وبانه", "كتاب", "نيو يورك"]]
    doc = tag_pretokenized(nlp, given)
    assert [[w.text for w in s.words] for s in doc.sentences] == given
    assert [[t.text for t in s.tokens] for s in doc.sentences] == given
    for sentence in doc.sentences:
        assert all(w.upos in UPOS_TAGS and w.lemma for w in sentence.words)
        assert heads_form_a_tree(sentence.words)


@pytest.mark.slow
def test_processor_subset_and_a_hand_assembled_dir(tiny_model_dir, tmp_path):
    # no manifest: the name is the folder's and the version hashes the model files
    for name in ("tokenize.pt", "pos.pt", "resources.json"):
        shutil.copy(tiny_model_dir / name, tmp_path / name)
    nlp, info = load_pipeline(tmp_path, processors="tokenize,pos", device="cpu")
    assert info.processors == ("tokenize", "pos")
    assert info.name == tmp_path.name and info.model_version.startswith(f"{tmp_path.name}@")
    words = nlp("كتب الطالب الدرس.").sentences[0].words
    assert all(w.upos in UPOS_TAGS for w in words) and all(w.head is None for w in words)
