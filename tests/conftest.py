"""Shared fixtures live in plugin modules, one per real part (models, Label Studio); Ray's is here."""

import pytest

pytest_plugins = ["fixtures_models", "fixtures_studio"]


@pytest.fixture(scope="session")
def ray_cluster():
    """One real local Ray for the whole session, 2 CPUs (the development machines' cores): starting Ray costs
    ~10 s on them, so never one per test. `mudawwana tag --workers N` reuses an initialized Ray
    (corpus/tag_ray.py `connect`), so every Ray test runs on this one; a test that called the library first
    would have had it start the same kind of local instance, which this fixture then reuses as well."""
    import ray  # in the `test` extra: a missing Ray is a broken test environment, not a skip

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
