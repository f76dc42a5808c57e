"""Fixtures: tiny stanza models trained from the bundled sample (see corpus/train.py)."""
