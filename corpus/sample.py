"""The bundled UD Arabic-PUD sample (CC BY-SA 3.0; see data/README.md), installed as package data."""

from __future__ import annotations

from pathlib import Path

SAMPLE_CONLLU = Path(__file__).resolve().parent / "data" / "ar_pud-sample.conllu"
