"""Errors a user can fix. The CLI prints them as one line (never a traceback), so say what and how."""


class MudawwanaError(Exception):
    """Base class: the message names the input and what is wrong, and how to fix it."""


class InputError(MudawwanaError):
    """An input file or record that cannot be used."""


class ModelNotFoundError(MudawwanaError):
    """No stanza model to load (offline, nothing downloaded, no --model-dir)."""
