"""Turn a model directory (`mudawwana train ... -o DIR`) into a tree that stanza's own download code accepts.

Organisations that mirror stanza's models offline serve such a tree from any HTTP server and point stanza at
it with `STANZA_RESOURCES_URL` (or `resources_url=`); `mudawwana tag` without `--model-dir` then downloads,
md5-checks and loads it exactly as it would stanza's official Arabic package (docs/stanza.md, "Serving a model
set in stanza's resources layout").

The layout is the one stanza's `stanza/resources/prepare_resources.py` writes and `stanza/resources/common.py`
reads (stanza 1.15):

    OUT/resources_{version}.json            what stanza fetches from `{resources_url}/resources_{version}.json`
    OUT/{lang}/models/{processor}/{package}.pt  one model; its md5 is in the JSON
    OUT/{lang}/models/default.zip           every file of the default package; `default_md5` in the JSON

and the JSON holds, for the language, `{processor: {package: {"md5": ..., "dependencies": [...]}}}`,
`default_processors` and `packages["default"]` (processor -> package), `default_md5` and `lang_name`; an alias
entry for the language's name (`"arabic": {"alias": "ar"}`); and `url`, the template stanza formats with
`resources_version`, `lang` and `filename` (`pos/PACKAGE.pt` or `default.zip`) to fetch each file. The URL is
absolute (stanza requests it as given), so the base URL the tree will be served from is needed when writing.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

from .errors import InputError
from .files import staged_directory, write_json_atomic
from .stanza_models import REQUIRED

# stanza's pipeline order; pretrain is a dependency, not a processor
PROCESSORS = ("tokenize", "mwt", "pos", "lemma", "depparse", "ner")
# which models depend on `pretrain.pt` when a model directory has one: the same rule stanza_models._load_dir
# uses to pass `*_pretrain_path`, so both ways of loading a directory load the same thing
NEEDS_PRETRAIN = ("pos", "depparse", "ner")


def write_stanza_resources(model_dir: str | Path, out_dir: str | Path, base_url: str, *, lang: str | None = None,
                           package: str | None = None, resources_version: str | None = None) -> Path:
    """Write `model_dir`'s models into `out_dir` in stanza's resources layout, to be served at `base_url`.

    The models become the language's default package (tokenize, mwt if present, pos, lemma, depparse, ner if
    present; pretrain.pt as the dependency of pos, depparse and ner). `lang`: default the manifest's, else "ar".
    `package`: the package name in file names, default the manifest's name (lowercased, e.g. `tiny-ar-pud`).
    `resources_version`: the version stanza asks for, default the installed stanza's (`resources_1.15.0.json`).
    `out_dir` is written aside and swapped into place; an existing one must be empty or such a tree.
    Returns the path of the resources JSON. Raises InputError for a directory that is not a model set.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    manifest = _read_manifest(model_dir)
    lang = (lang or manifest.get("lang") or "ar").lower()
    package = _package_name(package or manifest.get("name") or model_dir.name)
    version = resources_version or _stanza_resources_version()
    if not re.match(r"^https?://", base_url):
        raise InputError(f"base URL {base_url!r}: stanza fetches models over http(s); give http://HOST:PORT/PATH")
    present = [p for p in PROCESSORS if (model_dir / f"{p}.pt").is_file()]
    missing = [f"{p}.pt" for p in REQUIRED if p not in present]
    if missing:
        raise InputError(f"model directory {model_dir} is missing {', '.join(missing)}; train one with "
                         f"`mudawwana train CORPUS.conllu -o {model_dir}`")
    has_pretrain = (model_dir / "pretrain.pt").is_file()

    with staged_directory(out_dir, _check_replaceable) as stage:
        models = stage / lang / "models"
        entry: dict = {"lang_name": _lang_name(lang)}
        files = [(p, model_dir / f"{p}.pt") for p in present]
        if has_pretrain:
            files.append(("pretrain", model_dir / "pretrain.pt"))
        for processor, source in files:
            target = models / processor / f"{package}.pt"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            spec: dict = {"md5": _md5(target)}
            if has_pretrain and processor in NEEDS_PRETRAIN:
                spec["dependencies"] = [{"model": "pretrain", "package": package}]
            entry[processor] = {package: spec}
        with zipfile.ZipFile(models / "default.zip", "w", zipfile.ZIP_DEFLATED) as zipf:
            for processor, _ in files:  # arcnames as stanza's own default.zip: pos/PACKAGE.pt
                zipf.write(models / processor / f"{package}.pt", arcname=f"{processor}/{package}.pt")
        defaults = {p: package for p in present}
        entry["default_processors"] = dict(defaults)
        entry["packages"] = {"default": dict(defaults), package: dict(defaults)}
        entry["default_md5"] = _md5(models / "default.zip")
        resources: dict = {lang: entry}
        name = entry["lang_name"].lower()
        if name and name != lang:
            resources[name] = {"alias": lang}
        resources["url"] = base_url.rstrip("/") + "/{lang}/models/{filename}"
        write_json_atomic(stage / f"resources_{version}.json", resources)
    return out_dir / f"resources_{version}.json"


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir() or (any(out_dir.iterdir()) and not any(out_dir.glob("resources_*.json"))):
        raise InputError(f"{out_dir} exists and is not a stanza resources tree: choose a new output directory")


def _read_manifest(model_dir: Path) -> dict:
    if not model_dir.is_dir():
        raise InputError(f"model directory {model_dir} does not exist; train one with `mudawwana train "
                         f"CORPUS.conllu -o {model_dir}`")
    try:
        return json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _package_name(name: str) -> str:
    """Lowercase (stanza lowercases package names it is given) and file-name safe."""
    return re.sub(r"[^a-z0-9_.-]+", "_", name.lower()).strip("._") or "mudawwana"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lang_name(lang: str) -> str:
    try:
        from stanza.models.common.constant import lcode2lang
        return lcode2lang.get(lang, "")
    except ImportError:
        return ""


def _stanza_resources_version() -> str:
    from .stanza_models import stanza_settings
    return stanza_settings().resources_version
