"""Lazy public names for a package `__init__`: `__all__` lists the API, a name's module loads on first use.

Importing `mudawwana.annotate.server` must not import the Label Studio SDK, nor `mudawwana.export.card`
import every dataset module: a package's `__init__` runs before any of its submodules, and the CLI's
start-up time is what every command pays.
"""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` resolving each public name from `names[name]` (a submodule of `package`)."""

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
