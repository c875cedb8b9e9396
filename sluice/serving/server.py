"""Running the app on uvicorn: one process, or N workers that each build their own app.

uvicorn owns the signals: on SIGTERM or SIGINT it stops accepting connections,
lets the requests in flight finish, then runs the app's shutdown, which predicts
what is queued and flushes the prediction log. So every answered prediction is
in the log when the process exits. uvloop and httptools keep the request path lean;
access lines are off unless asked for (they cost more than a prediction).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sluice.serving.app import FastPath, create_app
from sluice.serving.settings import ENV_VAR, ServeSettings

if TYPE_CHECKING:
    from sluice.registry import LoadedModel

GRACEFUL_SECONDS = 30


def serve(settings: ServeSettings, *, loaded: LoadedModel | None = None) -> None:
    """Serve until stopped. ``loaded`` (one process only) skips loading the model again."""
    import uvicorn

    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": settings.access_log,
        "log_level": "info",
        "loop": "uvloop",
        "http": "httptools",
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings, loaded=loaded), **common)
        return
    os.environ[ENV_VAR] = settings.to_env()
    uvicorn.run(
        "sluice.serving.server:app_from_env", factory=True, workers=settings.workers, **common
    )


def app_from_env() -> FastPath:
    """The app factory each worker process calls (settings come from ``SLUICE_SERVE_SETTINGS``)."""
    return create_app(ServeSettings.from_env())
