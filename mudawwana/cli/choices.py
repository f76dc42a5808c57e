"""The closed choices of the command-line options, as Enums: typer lists them in --help and rejects anything
else with its usage error (exit 2) before a command runs. Commands pass `.value` on to the library.

Each mirrors a library constant (tests/cli/test_choices.py keeps them in step).
"""

from __future__ import annotations

from enum import Enum


class Policy(str, Enum):
    """`--policy` of pull and export (annotate/policies.py POLICIES)."""

    latest = "latest"
    majority = "majority"
    reviewed = "reviewed"


class Device(str, Enum):
    """`--device` of tag (corpus/stanza_models.py load_pipeline)."""

    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class TxtDocs(str, Enum):
    """`--txt-docs` of tag (corpus/readers.py ReaderOptions.txt_docs)."""

    file = "file"
    blank_line = "blank-line"


class Size(str, Enum):
    """`--size` of train (corpus/train.py SIZES)."""

    tiny = "tiny"
    small = "small"
    default = "default"


class Schema(str, Enum):
    """`--schema` of export."""

    mudawwana = "mudawwana"
    ud = "ud"


class Clitics(str, Enum):
    """`--clitics` of convert (corpus/clitics.py CLITICS)."""

    mwt = "mwt"
    tokens = "tokens"
