"""Who is calling: the bearer token's user, with repeated bad tokens slowed down.

A client (by address) that sent ``MAX_FAILURES`` wrong tokens within ``WINDOW``
seconds gets 429 with ``Retry-After`` until the oldest failure leaves the window,
whatever it sends: guessing a 256-bit token is hopeless anyway, and this keeps a
scanner from costing the store a lookup per guess.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from sluice.errors import GovernanceError, Unauthorized
from sluice.governance import User, authenticate, require
from sluice.workspace import Workspace

MAX_FAILURES = 10
WINDOW = 60.0


class TooManyFailures(GovernanceError):
    """This client sent too many bad tokens lately."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(
            f"Too many requests with a bad token from this client: try again in "
            f"{self.retry_after} s, with a valid token (`sluice tokens create USER`)."
        )


class FailureLimiter:
    """Bad-token failures per client within a sliding window (thread-safe)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = self._trim(client, now)
            if len(recent) >= self.max_failures:
                raise TooManyFailures(recent[0] + self.window - now)

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(client, now).append(now)

    def _trim(self, client: str, now: float) -> deque[float]:
        recent = self._failures[client]
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            del self._failures[client]
            return self._failures[client]
        return recent


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header (None without one)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Expected the header 'Authorization: Bearer slc_...'; got another scheme. "
            "Create a token with `sluice tokens create USER`."
        )
    return token.strip()


def identify(
    ws: Workspace, limiter: FailureLimiter, client: str, header: str | None, permission: str
) -> User:
    """The caller, allowed ``permission``; Unauthorized, TooManyFailures or Forbidden."""
    limiter.check(client)
    try:
        user = authenticate(ws, bearer(header))
    except Unauthorized:
        if header:  # a wrong token is a guess; no token at all is not
            limiter.failed(client)
        raise
    require(user.name, user.role, permission)
    return user
