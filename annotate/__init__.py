"""Annotate stage: Label Studio as a view on the corpus.

`start_label_studio` runs a local server; `connect` returns the one client every call to a server goes
through; `push_corpus` sends a CoNLL-U file as tasks with predictions; `pull_corpus` maps the annotators'
submissions back to CoNLL-U; `measure_agreement` measures how far annotators agree; `build_config` is the labeling
interface; `StanzaBackend`, `create_backend_app` and `connect_backend` are the ML backend of `mudawwana
serve` (docs/ml-backend.md). Names load on first use (the Label Studio SDK is not imported until needed).
"""

from mudawwana.corpus._lazy import lazy_exports

_EXPORTS = {
    "start_label_studio": "server", "stop_studio": "server", "find_running": "server", "StudioServer": "server",
    "StudioError": "client",
    "connect": "client", "ProjectNotFoundError": "projects",
    "push_corpus": "push", "PushReport": "push", "PushError": "push",
    "pull_corpus": "pull", "PullReport": "pull", "PullError": "pull",
    "measure_agreement": "agreement", "AgreementReport": "agreement",
    "build_config": "config", "LAYERS": "config", "DEFAULT_LAYERS": "config",
    "StanzaBackend": "ml_backend", "TrainingSettings": "ml_backend", "BackendError": "ml_backend",
    "create_backend_app": "ml_backend_app", "connect_backend": "ml_backend_connect",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

