"""Find and load a stanza model set: our own trained directory (see corpus/train.py) or stanza's official one.

A model directory (`mudawwana train ... -o DIR`) holds `tokenize.pt`, `mwt.pt` (only for corpora with
multi-word tokens), `pos.pt`, `lemma.pt`, `depparse.pt`, optionally `ner.pt` and `pretrain.pt`, a
`resources.json` containing `{}`, and `manifest.json`. It is loaded the way that works offline with stanza
1.15 (docs/stanza.md, "Loading a pipeline offline"): `dir=` a folder whose resources.json is `{}` (stanza's real one would
silently add the official Arabic mwt model), `allow_unknown_language=True`, every model given by path.

With no directory, stanza's official Arabic package (UD Arabic-PADT) from stanza's resources dir
(`$STANZA_RESOURCES_DIR`, else e.g. ~/.cache/stanza/1.15.0/resources) is used, downloaded on first use by
stanza's own download code from `$STANZA_RESOURCES_URL` (else stanza's servers): a mirror serving a model set
that corpus/stanza_resources.py wrote works the same way (see `_load_official`).
According to stanza's own package table (stanza/resources/default_packages.py:
`default_ners["ar"] = "aqmar_charlm"`) the default Arabic package DOES include NER (AQMAR: PER, LOC, ORG,
MISC); `ModelInfo.has_ner` says what was really loaded.

Tagging words that are already given (CoNLL-U input): load with `pretokenized=True`, which sets stanza's
`tokenize_pretokenized=True` and leaves out mwt, then call `tag_pretokenized(nlp, [[word, ...], ...])`.
Measured with stanza 1.15: stanza then takes each inner list as one sentence and each string as one token and
one word, whatever characters it holds (no splitting, no MWT expansion: CoNLL-U words are syntactic words
already); the tokenizer model is not even loaded. Passing a stanza Document built from CoNLL-U
(`stanza.utils.conll.CoNLL.conll2doc`) to such a pipeline also works and keeps multi-word tokens: the same
object comes back, modified in place, its tokens and words unchanged and UPOS, XPOS, FEATS, LEMMA, HEAD and
DEPREL overwritten. `tag_pretokenized` with plain word lists is the simple path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelNotFoundError
from .files import files_sha256

log = logging.getLogger(__name__)

REQUIRED = ("tokenize", "pos", "lemma", "depparse")
OPTIONAL = ("mwt", "ner")
HOW_TO_GET_ONE = ("connect to the internet and rerun, or train one offline: "
                  "`mudawwana train corpus/data/ar_pud-sample.conllu -o models/ar-pud`, "
                  "then pass `--model-dir models/ar-pud`")


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded: `model_version` ("name@hash") goes into every sentence it tags (# model_version)."""

    name: str
    model_version: str
    has_mwt: bool
    has_ner: bool
    processors: tuple[str, ...]
    path: Path | None = None  # the model directory (the official package: stanza's resources dir)


def load_pipeline(model_dir: Path | None = None, *, processors: str | None = None, pretokenized: bool = False,
                  device: str = "auto", lang: str = "ar", pos_batch_size: int | None = None,
                  depparse_batch_size: int | None = None, **stanza_options):
    """Return `(stanza.Pipeline, ModelInfo)` for `model_dir`, or for stanza's official package when it is None.

    processors: comma-separated subset ("tokenize,pos"); default everything the set has (ner only when it has
    one; mwt never with pretokenized). device: "cpu", "cuda" or "auto" (cuda when torch sees one).
    pos_batch_size / depparse_batch_size bound memory (stanza otherwise reuses the training batch sizes).
    Raises ModelNotFoundError, with one line saying what is missing and how to get a model.
    """
    options = dict(stanza_options)
    options.setdefault("logging_level", "WARN")
    options["device"] = _device(device)
    if pos_batch_size:
        options["pos_batch_size"] = pos_batch_size
    if depparse_batch_size:
        options["depparse_batch_size"] = depparse_batch_size
    if pretokenized:
        options["tokenize_pretokenized"] = True
    if model_dir is None:
        return _load_official(lang, processors, pretokenized, options)
    return _load_dir(Path(model_dir), lang, processors, pretokenized, options)


def tag_pretokenized(pipeline, sentences: list[list[str]]):
    """Run pos/lemma/depparse (and ner) on the given words; returns a stanza Document, one word per given form.

    `pipeline` must come from `load_pipeline(..., pretokenized=True)`: a raw-text pipeline would re-tokenize.
    """
    if not pipeline.config.get("tokenize_pretokenized"):
        raise ValueError("tag_pretokenized needs a pipeline loaded with pretokenized=True")
    sentences = [[str(w) for w in s] for s in sentences]
    if any(not s for s in sentences):
        raise ValueError("tag_pretokenized: every sentence needs at least one word")
    if any(not w for s in sentences for w in s):
        raise ValueError("tag_pretokenized: empty word form")
    return pipeline(sentences)


# --- our own model directories -------------------------------------------------------------------------------

def _load_dir(model_dir: Path, lang: str, processors: str | None, pretokenized: bool, options: dict):
    import stanza
    if not model_dir.is_dir():
        raise ModelNotFoundError(f"model directory {model_dir} does not exist; train one with `mudawwana train "
                                 f"CORPUS.conllu -o {model_dir}`, or leave out --model-dir to use stanza's "
                                 "official Arabic models")
    present = [p for p in REQUIRED + OPTIONAL if (model_dir / f"{p}.pt").is_file()]
    wanted = _split(processors) or [p for p in ("tokenize", "mwt", "pos", "lemma", "depparse", "ner")
                                    if p in present or p in REQUIRED]
    if pretokenized and "mwt" in wanted and processors is None:
        wanted.remove("mwt")
    # with pretokenized input stanza never loads the tokenizer model, so it may be absent
    needed = [p for p in wanted if not (pretokenized and p == "tokenize")]
    missing = [f"{p}.pt" for p in needed if p not in present]
    if not (model_dir / "resources.json").is_file():
        missing.append("resources.json (a file containing {})")
    if missing:
        raise ModelNotFoundError(f"model directory {model_dir} is missing {', '.join(missing)}; "
                                 f"train one with `mudawwana train CORPUS.conllu -o {model_dir}`")
    if "tokenize" not in wanted:
        wanted.insert(0, "tokenize")  # stanza needs the tokenize step even for pretokenized input
    for p in wanted:
        if (model_dir / f"{p}.pt").is_file():
            options[f"{p}_model_path"] = str(model_dir / f"{p}.pt")
    if (model_dir / "pretrain.pt").is_file():  # models trained with word vectors need them at load time
        for p in ("pos", "depparse", "ner"):
            options.setdefault(f"{p}_pretrain_path", str(model_dir / "pretrain.pt"))
    stanza_log = logging.getLogger("stanza")
    stanza_log.addFilter(_no_unknown_language_warning)  # expected: our resources.json is {} on purpose
    try:
        nlp = stanza.Pipeline(lang, dir=str(model_dir), processors=",".join(wanted), download_method=None,
                              allow_unknown_language=True, **options)
    finally:
        stanza_log.removeFilter(_no_unknown_language_warning)
    manifest = _read_manifest(model_dir)
    name = manifest.get("name") or model_dir.name
    version = manifest.get("model_version") or f"{name}@{model_hash(model_dir)}"
    return nlp, _info(nlp, name, version, model_dir)


def _no_unknown_language_warning(record: logging.LogRecord) -> bool:
    return "unsupported language" not in record.getMessage()


def _read_manifest(model_dir: Path) -> dict:
    try:
        return json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# --- stanza's official package -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StanzaSettings:
    """Where stanza's official models come from and go to, read from the environment when asked."""

    resources_dir: Path  # $STANZA_RESOURCES_DIR, else stanza's default (~/.cache/stanza/VERSION/resources)
    resources_url: str  # $STANZA_RESOURCES_URL, else stanza's (raw.githubusercontent.com/stanfordnlp/...)
    resources_version: str  # $STANZA_RESOURCES_VERSION, else the installed stanza's


def stanza_settings() -> StanzaSettings:
    """stanza reads these variables once, when stanza.resources.common is first imported (its DEFAULT_*
    constants and download()'s default arguments); reading them here at call time means a variable set after
    stanza was imported (a test, a notebook) still counts. docs/stanza.md, "stanza's download path, offline"."""
    from stanza.resources import common
    return StanzaSettings(
        resources_dir=Path(os.environ.get("STANZA_RESOURCES_DIR") or common.DEFAULT_MODEL_DIR),
        resources_url=os.environ.get("STANZA_RESOURCES_URL") or common.DEFAULT_RESOURCES_URL,
        resources_version=os.environ.get("STANZA_RESOURCES_VERSION") or common.DEFAULT_RESOURCES_VERSION)


def _load_official(lang: str, processors: str | None, pretokenized: bool, options: dict):
    """Stanza's own download code, then an offline load: the same steps for stanza's servers and a mirror.

    1. resources.json: fetched from `{resources_url}/resources_{version}.json` only when the resources dir has
       none that knows `lang` (so a set downloaded once loads offline ever after);
    2. `stanza.download(lang, processors=...)`: each model and its dependencies (pretrain, charlm) as
       `{processor}/{package}.pt` from the JSON's `url`, md5-checked. A file already there with the right md5
       is not fetched again, so this needs no network once everything is in place, and a file refused for its
       md5 (left on disk by stanza) is fetched again on the next run;
    3. `stanza.Pipeline(..., download_method=None)`: load, nothing fetched.
    Failures in 1-2 (offline, HTTP errors, a refused md5) become one ModelNotFoundError line.
    """
    import stanza
    from stanza.resources.common import download_resources_json, logging_level_context

    settings = stanza_settings()
    resources_dir = settings.resources_dir
    url = options.pop("resources_url", None) or settings.resources_url
    version = options.pop("resources_version", None) or settings.resources_version
    level = options.get("logging_level")
    try:
        if not _knows_lang(resources_dir, lang):
            log.info("fetching stanza's resources.json for %s from %s into %s", lang, url, resources_dir)
            with logging_level_context(level, None):
                download_resources_json(str(resources_dir), resources_url=url, resources_version=version)
        wanted_str = processors or _official_processors(resources_dir, lang, pretokenized)
        stanza.download(lang, model_dir=str(resources_dir), processors=wanted_str, resources_url=url,
                        resources_version=version, download_json=False, logging_level=level)
    except Exception as e:  # offline: requests' ConnectionError and friends; never a traceback for users
        raise ModelNotFoundError(
            f"no stanza model for '{lang}' in {resources_dir} and downloading it from {url} failed "
            f"({_download_failure(e)}); {HOW_TO_GET_ONE}") from None
    try:
        nlp = stanza.Pipeline(lang, dir=str(resources_dir), processors=wanted_str, download_method=None,
                              **options)
    except (FileNotFoundError, ValueError) as e:  # downloaded, yet not loadable: a broken or partial set
        raise ModelNotFoundError(
            f"stanza's '{lang}' models in {resources_dir} (from {url}) could not be loaded "
            f"({type(e).__name__}: {_one_line(e)}); delete {resources_dir / lang} to download them again, "
            f"or {HOW_TO_GET_ONE.split(', or ', 1)[-1]}") from None
    return nlp, _info(nlp, f"stanza-{lang}", f"stanza-{lang}@{_official_hash(nlp, resources_dir, lang)}",
                      resources_dir)


def _knows_lang(resources_dir: Path, lang: str) -> bool:
    try:
        resources = json.loads((resources_dir / "resources.json").read_text(encoding="utf-8"))
        return isinstance(resources.get(lang), dict)
    except (OSError, ValueError, AttributeError):
        return False


_MD5_REFUSED = re.compile(r"^md5 for (?P<path>.+) is [0-9a-f]{32}, expected [0-9a-f]{32}$")


def _download_failure(e: Exception) -> str:
    """Why a download failed, in a few words for the one error line."""
    import requests
    name = type(e).__name__
    if isinstance(e, (requests.ConnectionError, requests.Timeout)) or "connect" in name.lower():
        return f"{name}: the server cannot be reached; offline?"
    message = _one_line(e)
    if isinstance(e, ValueError) and _MD5_REFUSED.match(message):
        return (f"stanza's md5 check refused a file: {message}; the server sent a damaged or changed file, "
                "rerun to fetch it again")
    return f"{name}: {message}" if message else name


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def _official_processors(resources_dir: Path, lang: str, pretokenized: bool) -> str:
    """The package's default processors that we use (no sentiment/constituency); mwt not for given words."""
    try:
        resources = json.loads((resources_dir / "resources.json").read_text(encoding="utf-8"))
        defaults = set(resources[lang]["default_processors"])
    except (OSError, ValueError, KeyError, TypeError):  # nothing downloaded yet
        defaults = {"tokenize", "mwt", "pos", "lemma", "depparse"}
    return ",".join(p for p in ("tokenize", "mwt", "pos", "lemma", "depparse", "ner")
                    if p in defaults and not (pretokenized and p == "mwt"))


def _official_hash(nlp, resources_dir: Path, lang: str) -> str:
    """Hash of the md5s stanza's resources.json lists for the loaded packages: cheap and exact."""
    try:
        resources = json.loads((resources_dir / "resources.json").read_text(encoding="utf-8"))[lang]
        parts = [f"{proc}:{spec.package}:{resources.get(proc, {}).get(spec.package, {}).get('md5', '')}"
                 for proc, specs in nlp.load_list for spec in specs]
    except (OSError, ValueError, KeyError, AttributeError):
        import stanza
        parts = [stanza.__version__]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def model_hash(model_dir: Path) -> str:
    """Short sha256 over the model files (names and bytes): the `@hash` half of a model_version.

    It names these files, not the recipe: stanza stores the (temporary) training paths inside each model, so
    two identical trainings (which predict identically) still get different hashes.
    """
    return files_sha256(sorted(Path(model_dir).glob("*.pt")))[:12]


# --- helpers ---------------------------------------------------------------------------------------------------

def _info(nlp, name: str, version: str, path: Path | None) -> ModelInfo:
    loaded = tuple(nlp.processors)
    return ModelInfo(name=name, model_version=version, has_mwt="mwt" in loaded, has_ner="ner" in loaded,
                     processors=loaded, path=path)


def _split(processors: str | None) -> list[str]:
    return [p.strip() for p in (processors or "").split(",") if p.strip()]


def _device(device: str) -> str:
    if device == "auto":
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be cpu, cuda or auto, not {device!r}")
    return device

