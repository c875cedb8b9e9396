"""Reading and checking the audit trail of a workspace.

Events are appended by the code that changes state, in the same transaction
(:mod:`sluice.store.audit`); this module is what people use to look at them:
filtered listings and the verification of the whole chain.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from sluice.errors import ConfigError
from sluice.store import audit
from sluice.workspace import Workspace

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def audit_log(
    ws: Workspace,
    *,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: float | None = None,
    limit: int | None = 50,
) -> list[audit.AuditEvent]:
    """The newest events first, filtered by target (or its prefix), actor, action and time."""
    with ws.store.read() as conn:
        return audit.events(
            conn, target=target, actor=actor, action=action, since=since, limit=limit
        )


def verify_audit(ws: Workspace) -> audit.Verification:
    """Walk the whole chain; the first broken link if an event was edited, inserted or deleted."""
    with ws.store.read() as conn:
        return audit.verify(conn)


def parse_since(text: str, *, now: float | None = None) -> float:
    """``2026-12-01``, ``2026-12-01T10:00`` (UTC unless an offset is given), or ``7d``,
    ``24h``, ``30m``: Unix seconds."""
    value = text.strip()
    if _RELATIVE.match(value):
        return (now if now is not None else time.time()) - parse_age(value)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"Expected --since as a date (2026-12-01), a date and time (2026-12-01T10:00, UTC "
            f"unless it has an offset) or an age (30m, 24h, 7d, 2w); got {text!r}."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def parse_age(text: str, *, what: str = "--since") -> float:
    """``30m``, ``24h``, ``7d``, ``2w`` (or seconds, ``90s``) as seconds."""
    relative = _RELATIVE.match(text.strip())
    if relative is None:
        raise ConfigError(f"Expected {what} as an age such as 30m, 24h, 7d or 2w; got {text!r}.")
    return int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
