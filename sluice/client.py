"""Talking to a team server: ``SLUICE_TRACKING_URI`` names it, ``SLUICE_TOKEN`` says who.

The command line uses this when the URI is set: the same commands, answered by
the server (with its users, roles and audit trail) instead of a local store.
Errors come back as the same typed exceptions, with the server's message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sluice import errors
from sluice.errors import ConfigError, SluiceError

URI_ENV = "SLUICE_TRACKING_URI"
TOKEN_ENV = "SLUICE_TOKEN"


@dataclass(frozen=True)
class Remote:
    url: str
    token: str

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of ``method path`` under /api/v1; a typed error otherwise."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
                response = client.request(method, f"/api/v1{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"Expected a sluice team server at {self.url} ({URI_ENV}); could not reach it: "
                f"{exc}. Check the URL, or unset {URI_ENV} to use a local store."
            ) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            raise _error(response.status_code, data, self.url)
        return data

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)


def remote() -> Remote | None:
    """The team server the environment names, or None for a local store."""
    url = os.environ.get(URI_ENV, "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Expected {URI_ENV} to be an http:// or https:// URL; got {url!r}.")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"{URI_ENV} names a team server ({url}) but {TOKEN_ENV} is not set. Set it to your "
            "token (an admin makes one with `sluice tokens create YOU`)."
        )
    return Remote(url.rstrip("/"), token)


def _error(status: int, data: Any, url: str) -> SluiceError:
    kind = data.get("error") if isinstance(data, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    if message is None and isinstance(data, dict) and "detail" in data:  # FastAPI's validation
        message = f"The server refused the request as invalid: {data['detail']}"
    cls = getattr(errors, str(kind), None)
    if not (isinstance(cls, type) and issubclass(cls, SluiceError)):
        cls = ConfigError if status in (400, 422) else SluiceError
    exc = cls.__new__(cls)
    SluiceError.__init__(exc, message or f"The team server at {url} answered HTTP {status}.")
    return exc
