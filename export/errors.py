"""Errors of the export stage. All are MudawwanaError, so the CLI prints them as one line."""

from __future__ import annotations

from mudawwana.corpus.errors import MudawwanaError


class ExportError(MudawwanaError):
    """The export cannot run or cannot finish (bad option, output directory not ours, ...)."""


class InvalidSentencesError(ExportError):
    """Sentences fail validation and --allow-invalid was not given; nothing was written."""

    def __init__(self, message: str, invalid: list) -> None:
        super().__init__(message)
        self.invalid = invalid  # list[InvalidSentence], for callers that want every detail


class HubPushError(ExportError):
    """Pushing to the Hugging Face Hub failed; the local export is complete and untouched."""
