"""Upload a finished export to the Hugging Face Hub.

The local export is complete before this runs and is only read, so a failed push (offline, bad token,
no rights) leaves it intact. The token comes from the caller or HF_TOKEN; it is passed to the client and
never printed: error messages are reduced to the exception type and first line, with the token masked in
case a library ever echoes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from datasets import load_from_disk
from huggingface_hub import HfApi

from .errors import HubPushError

TOKEN_ENV = "HF_TOKEN"


def push_export(out_dir: str | Path, repo: str, *, token: str | None = None, private: bool | None = None) -> str:
    """Push the DatasetDict (Parquet under data/), then the card and CoNLL-U files. Returns the repo URL."""
    out_dir = Path(out_dir)
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is None:
        raise HubPushError(f"--push-to-hub {repo}: set {TOKEN_ENV} to a Hugging Face write token; "
                           f"the local export in {out_dir} is complete")
    try:
        dataset_dict = load_from_disk(str(out_dir))
        dataset_dict.push_to_hub(repo, token=token, private=private,
                                 commit_message="mudawwana export: data")
        # push_to_hub writes a minimal README; ours replaces it (same configs, plus the description).
        HfApi(token=token).upload_folder(
            repo_id=repo, repo_type="dataset", folder_path=str(out_dir),
            allow_patterns=["README.md", "*.conllu"], commit_message="mudawwana export: card and CoNLL-U")
    except Exception as e:  # network, auth, rights, missing repo: all reported alike, as one line
        raise HubPushError(f"could not push to the Hub dataset {repo}: {_describe(e, token)}; the local export "
                           f"in {out_dir} is complete and unchanged, rerun with --push-to-hub when online") from None
    return f"https://huggingface.co/datasets/{repo}"


def _describe(error: Exception, token: str) -> str:
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else 'no details'}"
    return text.replace(token, "***")
