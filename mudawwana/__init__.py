"""mudawwana (مدوّنة): raw Arabic text to a human-corrected, annotated corpus."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mudawwana")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
