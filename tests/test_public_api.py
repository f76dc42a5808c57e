"""Each stage's `__all__` names its public API; every name resolves, and to the function or class, never to a
submodule that happens to share its name (importing a submodule sets the package attribute of that name)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = ("mudawwana.corpus", "mudawwana.annotate", "mudawwana.export")


@pytest.mark.parametrize("package_name", PACKAGES)
def test_every_public_name_resolves_after_every_submodule_is_imported(package_name):
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package_name}.{info.name}")
    assert package.__all__, package_name
    for name in package.__all__:
        value = getattr(package, name)
        assert not isinstance(value, types.ModuleType), f"{package_name}.{name} is a module"


def test_the_names_a_researcher_looks_for_are_there():
    import mudawwana.annotate as annotate
    import mudawwana.corpus as corpus
    import mudawwana.export as export

    assert {"read_conllu", "tag_files", "train_models", "normalize_text", "SAMPLE_CONLLU"} <= set(corpus.__all__)
    assert {"push_corpus", "pull_corpus", "measure_agreement", "connect"} <= set(annotate.__all__)
    assert {"export_corpus", "push_export"} <= set(export.__all__)
