"""Fixtures: a real Label Studio server on 127.0.0.1 (see annotate/server.py)."""
