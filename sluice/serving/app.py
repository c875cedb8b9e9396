"""The prediction app: a FastAPI factory, one app per served model (and per worker process).

Endpoints: ``POST /predict``, ``POST /feedback``, ``GET /health``, ``GET /ready``,
``GET /metadata``, ``GET /metrics``, ``POST /admin/reload``. The request path reads
the body itself and answers with ready-made JSON bytes: no pydantic model per
request, no pandas until a batch reaches the worker thread.

Every timed endpoint answers with a ``Server-Timing`` header: ``app`` is the time
inside the app, and for ``/predict`` ``predict`` is the model call that answered
(shared by the requests of one batch), so a client can tell the model's time from
the server's.

Errors are JSON ``{"error": KIND, "message": ..., "problems": [...]}``; bad input is a
422 listing each problem (record, column, kind, expected, message), a model that is
not loaded yet a 503. Nothing a client sends produces a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response

from sluice.errors import (
    Forbidden,
    InvalidRequest,
    PredictionLogError,
    SluiceError,
    Unauthorized,
)
from sluice.serving.batching import BatcherClosed, MicroBatcher
from sluice.serving.feedback import parse_feedback
from sluice.serving.holder import ModelHolder, ReloadResult, Served
from sluice.serving.metadata import describe
from sluice.serving.metrics import ServingMetrics
from sluice.serving.scoring import BatchScorer
from sluice.serving.settings import ServeSettings

if TYPE_CHECKING:
    from sluice.registry import LoadedModel
    from sluice.workspace import Workspace

log = logging.getLogger("sluice.serving")
JSON = "application/json"
PARSE_IN_THREAD_BYTES = 256 * 1024  # bodies above this are parsed off the event loop
MAX_BODY_BYTES = 64 * 1024 * 1024  # refused before reading (413)

PREDICT_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "oneOf": [
                    {"type": "object", "properties": {"records": {"type": "array"}}},
                    {"type": "object", "properties": {"record": {"type": "object"}}},
                    {"type": "object", "properties": {"columns": {"type": "object"}}},
                    {"type": "array", "items": {"type": "object"}},
                ]
            }
        }
    },
}
FEEDBACK_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "properties": {
                    "feedback": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"request_id": {"type": "string"}, "label": {}},
                        },
                    }
                },
            }
        }
    },
}


class ServingState:
    """What the endpoints share: the model holder, the batcher, the log and the metrics."""

    def __init__(
        self, settings: ServeSettings, ws: Workspace | None, loaded: LoadedModel | None
    ) -> None:
        self.settings = settings
        self._ws = ws
        self._own_ws = ws is None
        self._loaded = loaded
        self.metrics = ServingMetrics()
        self.holder: ModelHolder | None = None
        self.batcher: MicroBatcher | None = None
        self.log: Any | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def ws(self) -> Workspace:
        assert self._ws is not None, "the app has not started"
        return self._ws

    async def start(self) -> None:
        from sluice.workspace import current

        if self._ws is None:
            self._ws = await asyncio.to_thread(current)
        self.holder = ModelHolder(self._ws, self.settings)
        if self.settings.log_predictions:
            from sluice.predictions import PredictionLog

            name = self.holder.ref.name
            self.log = PredictionLog(self._ws, name, flush_interval=self.settings.flush_interval)
        self.batcher = MicroBatcher(
            BatchScorer(self.metrics, self.log),
            max_rows=self.settings.max_batch_rows,
            max_wait=self.settings.max_wait_ms / 1000,
        )
        self.batcher.start()
        if self._loaded is not None:
            self.holder.set(self._loaded)
            self._loaded = None
        else:  # a worker: load before uvicorn accepts its first connection
            await asyncio.to_thread(self.holder.reload)
        assert self.holder.current is not None
        self.metrics.version.set(self.holder.current.version)
        if self.settings.poll:
            self._tasks.append(
                asyncio.create_task(self.holder.poll(self.settings.poll, self.on_reload))
            )

    def on_reload(self, result: ReloadResult) -> None:
        self.metrics.version.set(result.current)
        if result.changed and result.previous is not None:
            self.metrics.reloads.inc()
            log.warning("now serving version %s (was %s)", result.current, result.previous)

    async def stop(self) -> None:
        """Finish what was submitted, flush the prediction log, close the store."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        if self.batcher is not None:
            await self.batcher.close()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)
        if self._own_ws and self._ws is not None:
            self._ws.close()


def create_app(
    settings: ServeSettings,
    *,
    workspace: Workspace | None = None,
    loaded: LoadedModel | None = None,
) -> FastPath:
    """The app serving ``settings.uri``; ``loaded`` skips the first load (already done)."""
    state = ServingState(settings, workspace, loaded)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="sluice model server",
        summary=f"Predictions of {settings.uri}",
        lifespan=lifespan,
    )
    app.state.serving = state
    _routes(app, state)
    return FastPath(app, state)


class FastPath:
    """``POST /predict`` straight to its handler; everything else to the FastAPI app.

    At concurrency 1 the request path is all overhead on top of ``predict``, and
    FastAPI's routing and middleware stack cost about half a millisecond of it.
    The handler, its errors and its metrics are the same either way; the route
    stays declared in the FastAPI app for the OpenAPI spec.
    """

    def __init__(self, app: FastAPI, state: ServingState) -> None:
        self.app = app
        self.state = app.state
        self._timed = _timer(state)
        self._serving = state

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/predict" and scope["method"] == "POST":
            request = Request(scope, receive)
            response = await self._timed("/predict", lambda: _predict(self._serving, request))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _routes(app: FastAPI, state: ServingState) -> None:
    timed = _timer(state)

    @app.post("/predict", openapi_extra={"requestBody": PREDICT_BODY})
    async def predict(request: Request) -> Response:
        """Predictions for one record or many (see sluice.serving.parsing for the shapes)."""
        return await timed("/predict", lambda: _predict(state, request))

    @app.post("/feedback", openapi_extra={"requestBody": FEEDBACK_BODY})
    async def feedback(request: Request) -> Response:
        """Ground-truth labels for earlier request ids; any time after the prediction."""
        return await timed("/feedback", lambda: _feedback(state, request))

    @app.get("/health")
    async def health() -> Response:
        """The process is alive."""
        return _json(200, {"status": "ok"})

    @app.get("/ready")
    async def ready() -> Response:
        """200 when a model is loaded and predictions are accepted; 503 otherwise."""
        served = _served(state)
        if served is None:
            return _not_ready(state)
        return _json(200, {"status": "ready", "model": _model(served)})

    @app.get("/metadata")
    async def metadata() -> Response:
        """Signature, version and lineage (dataset version, pipeline run, metrics)."""
        served = _served(state)
        if served is None:
            return _not_ready(state)
        data = await asyncio.to_thread(describe, state.ws, served, state.settings)
        return _json(200, data)

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format."""
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    @app.post("/admin/reload")
    async def reload(request: Request) -> Response:
        """Re-resolve the alias; load the new version, then switch to it (a token with
        serving.admin once the store has users; from this machine only before)."""
        return await timed("/admin/reload", lambda: _reload(state, request))


async def _predict(state: ServingState, request: Request) -> Response:
    served = _served(state)
    if served is None:
        return _not_ready(state)
    _check_length(request)
    body = await _body(request)
    if len(body) > PARSE_IN_THREAD_BYTES:
        parsed = await asyncio.to_thread(served.plan.parse, body)
    else:
        parsed = served.plan.parse(body)
    assert state.batcher is not None
    answer = await state.batcher.submit(served, parsed)  # raises what the scorer found
    response = _raw(200, answer.body)
    response.headers["Server-Timing"] = f"predict;dur={answer.predict_seconds * 1000:.3f}"
    return response


async def _feedback(state: ServingState, request: Request) -> Response:
    served = _served(state)
    if served is None:
        return _not_ready(state)
    _check_length(request)
    ids, labels = parse_feedback(await _body(request), served.classes is not None)
    if state.log is not None:
        state.log.append_feedback(request_ids=ids, labels=labels, timestamp=time.time())
    return _json(200, {"accepted": len(ids), "logged": state.log is not None})


class _TooLarge(Exception):
    pass


def _check_length(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        _too_large(f"{int(length):,} bytes")


async def _body(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit (a chunked body names no length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            _too_large(f"more than {size:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(got: str) -> None:
    raise _TooLarge(
        f"Expected a body of at most {MAX_BODY_BYTES // (1024 * 1024)} MiB; got {got}. "
        "Split the request, or score files with `sluice predict`."
    )


async def _reload(state: ServingState, request: Request) -> Response:
    from sluice.serving.admin import authorize_reload, record_reload

    assert state.holder is not None
    host = request.client.host if request.client else None
    actor = await asyncio.to_thread(
        authorize_reload, state.ws, host, request.headers.get("authorization")
    )
    result = await asyncio.to_thread(state.holder.reload)
    state.on_reload(result)
    await asyncio.to_thread(
        record_reload, state.ws, actor, state.settings.uri, result.previous, result.current
    )
    return _json(200, result.to_dict())


def _timer(state: ServingState) -> Callable[..., Awaitable[Response]]:
    """Run an endpoint body: metrics for every answer, typed errors as JSON, never a 500
    for something the client sent."""

    async def run(endpoint: str, body: Callable[[], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        try:
            response = await body()
        except InvalidRequest as exc:
            kind = exc.problems[0]["kind"] if exc.problems else "invalid_request"
            state.metrics.observe_error(endpoint, str(kind))
            response = _error(422, "invalid_request", str(exc), exc.problems)
        except _TooLarge as exc:
            state.metrics.observe_error(endpoint, "too_large")
            response = _error(413, "too_large", str(exc))
        except BatcherClosed as exc:
            state.metrics.observe_error(endpoint, "shutting_down")
            response = _error(503, "shutting_down", str(exc))
        except PredictionLogError as exc:  # nothing is answered that cannot be logged
            state.metrics.observe_error(endpoint, "prediction_log")
            response = _error(503, "prediction_log", str(exc))
        except Unauthorized as exc:
            state.metrics.observe_error(endpoint, "unauthorized")
            response = _error(401, "unauthorized", str(exc))
            response.headers["WWW-Authenticate"] = "Bearer"
        except Forbidden as exc:
            state.metrics.observe_error(endpoint, "forbidden")
            response = _error(403, "forbidden", str(exc))
        except SluiceError as exc:  # e.g. the alias was removed: keep serving what we have
            state.metrics.observe_error(endpoint, type(exc).__name__)
            response = _error(409, type(exc).__name__, str(exc))
        except Exception as exc:
            log.exception("%s failed", endpoint)
            state.metrics.observe_error(endpoint, "internal")
            response = _error(500, "internal", f"The server failed: {type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - start
        state.metrics.observe_request(endpoint, response.status_code, seconds)
        timing = f"app;dur={seconds * 1000:.3f}"
        earlier = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{earlier}, {timing}" if earlier else timing
        return response

    return run


def _served(state: ServingState) -> Served | None:
    return state.holder.current if state.holder is not None else None


def _model(served: Served) -> dict[str, Any]:
    return {"name": served.name, "version": served.version, "uri": served.loaded.uri}


def _not_ready(state: ServingState) -> Response:
    return _error(
        503,
        "not_ready",
        f"No model is loaded for {state.settings.uri} (the app is starting or stopping). "
        "Try again in a moment.",
    )


def _error(
    status: int, kind: str, message: str, problems: list[dict[str, Any]] | None = None
) -> Response:
    body: dict[str, Any] = {"error": kind, "message": message}
    if problems is not None:
        body["problems"] = problems
    return _json(status, body)


def _json(status: int, data: Any) -> Response:
    return _raw(status, json.dumps(data, default=_plain).encode())


def _raw(status: int, content: bytes) -> Response:
    return Response(content, status_code=status, media_type=JSON)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
