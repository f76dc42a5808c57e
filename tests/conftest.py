"""Shared fixtures live in plugin modules, one per real part (models, Label Studio)."""

pytest_plugins = ["fixtures_models", "fixtures_studio"]
