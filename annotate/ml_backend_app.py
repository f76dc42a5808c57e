"""The HTTP side of `mudawwana serve`: Label Studio's ML backend protocol on Starlette, served by uvicorn.

One process, one worker: the stanza pipelines are loaded once, before the server listens (annotate/ml_backend.py
StanzaBackend). Routes (what Label Studio 1.23 calls and when: docs/ml-backend.md):
- `GET /` and `/health`: `{"status": "UP", "model_class": ..., "model_version": ...}`, plus the counters;
- `POST /setup`: `{"model_version": ...}`; `GET /versions`; `GET /metrics`;
- `POST /predict`: `{"results": [{"result": [...], "model_version": ...}, ...], "model_version": ...}`;
- `POST /webhook`: annotation events and START_TRAINING; `POST /train`: the older "Start training" request.
`/health`, `/setup` and `/webhook` are async handlers that only read or flip state: Label Studio gives them 1 s,
3 s and 1 s (webhooks), and they must answer while a batch is tagged or a round trains. `/predict` tags in a
worker thread.

Security: the server binds 127.0.0.1 unless told otherwise; with `basic_auth` every route needs HTTP basic auth
(what Label Studio sends when the backend is registered with BASIC_AUTH); request bodies and headers are never
logged (`/setup` carries the project creator's API token; Label Studio's requests carry the password), and
uvicorn's access log shows method, path and status only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mudawwana.annotate.ml_backend import StanzaBackend

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090  # the port Label Studio's own ML backends use by default


def create_app(backend: StanzaBackend, *, basic_auth: tuple[str, str] | None = None):
    """The Starlette app serving `backend`; with basic_auth (user, password) every request must carry it."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from mudawwana.annotate.ml_backend import BackendError
    from mudawwana.corpus.errors import MudawwanaError

    async def body_of(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise BackendError("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise BackendError("the request body is not a JSON object")
        return body

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(backend.health())

    async def setup(request: Request) -> JSONResponse:
        return JSONResponse(backend.setup(await body_of(request)))

    async def versions(request: Request) -> JSONResponse:
        return JSONResponse({"versions": [backend.model_version], "model_version": backend.model_version})

    async def metrics(request: Request) -> JSONResponse:
        return JSONResponse({})

    async def predict(request: Request) -> JSONResponse:
        body = await body_of(request)
        return JSONResponse(await run_in_threadpool(backend.predict, body))

    async def webhook(request: Request) -> JSONResponse:
        return JSONResponse(backend.webhook(await body_of(request)))

    async def train(request: Request) -> JSONResponse:
        """The request of Label Studio versions (or a feature flag) that POST /train instead of the webhook."""
        from mudawwana.annotate.ml_backend import _project_id

        body = await body_of(request)
        project_id = _project_id(body.get("project"))
        if project_id is None:
            raise BackendError("/train without a project")
        return JSONResponse(backend.start_training(project_id, reason="/train"), status_code=201)

    async def user_error(request: Request, exc: Exception) -> JSONResponse:
        # Label Studio shows `error` in the backend's state (MLApiResult.error_message)
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        status = 400 if isinstance(exc, BackendError) else 500
        return JSONResponse({"error": str(exc)}, status_code=status)

    routes = [Route("/", health), Route("/health", health), Route("/setup", setup, methods=["POST"]),
              Route("/versions", versions), Route("/metrics", metrics),
              Route("/predict", predict, methods=["POST"]), Route("/webhook", webhook, methods=["POST"]),
              Route("/train", train, methods=["POST"])]
    app = Starlette(routes=routes, exception_handlers={MudawwanaError: user_error})
    if basic_auth is not None:
        return BasicAuth(app, *basic_auth)
    return app


class BasicAuth:
    """ASGI middleware: HTTP basic auth on every request (constant-time comparison; nothing logged)."""

    def __init__(self, app, user: str, password: str):
        if not user or not password:
            raise ValueError("basic auth needs a user and a password")
        self.app = app
        self._expected = ("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not self._allowed(scope):
            from starlette.responses import JSONResponse

            response = JSONResponse({"error": "authentication required"}, status_code=401,
                                    headers={"WWW-Authenticate": 'Basic realm="mudawwana"'})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope) -> bool:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        try:  # a malformed header is simply wrong credentials
            scheme, _, value = given.partition(b" ")
            normalized = b"Basic " + base64.b64encode(base64.b64decode(value, validate=True)) if \
                scheme.lower() == b"basic" else b""
        except (binascii.Error, ValueError):
            normalized = b""
        return hmac.compare_digest(normalized, self._expected)


def run(backend: StanzaBackend, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
        basic_auth: tuple[str, str] | None = None, log_level: str = "info") -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM): one uvicorn worker, the model already loaded."""
    import uvicorn

    config = uvicorn.Config(create_app(backend, basic_auth=basic_auth), host=host, port=port, workers=1,
                            log_level=log_level, access_log=True, server_header=False, proxy_headers=False,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()


create_backend_app = create_app  # the package's public name (annotate/__init__.py)

__all__ = ["create_app", "create_backend_app", "run", "BasicAuth", "DEFAULT_HOST", "DEFAULT_PORT"]
