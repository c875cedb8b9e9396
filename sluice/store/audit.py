"""The audit trail: an append-only, hash-chained record of every change of state.

Each event holds who (actor), what (action, target), when (microseconds, UTC),
the state before and after (canonical JSON), and the hash of the event before
it. Its own hash is SHA-256 over all of that, so editing, inserting or deleting
an event anywhere breaks a link that :func:`verify` names. A one-row head table
holds the last sequence number and hash: deleting events at the end shows too.

Events are appended inside the caller's write transaction, so a change and its
event commit together or not at all. Appends are serialized: SQLite write
transactions hold the database's write lock (``BEGIN IMMEDIATE``), PostgreSQL
ones take a transaction-level advisory lock, so concurrent writers never fork
the chain.

There is deliberately no function here that updates or deletes an event. A
chain in the same database as its head cannot stop someone with write access
from rewriting both consistently; publish the head (``sluice audit verify``
prints it) somewhere else to anchor it.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import ConfigError
from sluice.store import tables as t

GENESIS = "0" * 64  # the prev_hash of the first event
_PG_LOCK_KEY = 0x5C1CEA  # advisory lock id for appends
_HEAD_ID = 1
_VERIFY_CHUNK = 5000
ACTOR_ENV = "SLUICE_ACTOR"


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    ts_us: int
    actor: str
    action: str
    target: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    @property
    def timestamp(self) -> float:
        return self.ts_us / 1_000_000

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.timestamp))
            + f".{self.ts_us % 1_000_000:06d}Z",
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: ``ok``, how many events, the head, or the first broken link."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("sluice_actor", default=None)


@contextlib.contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Record ``name`` as the actor of every event appended inside (the team server sets
    it to the token's user for each request)."""
    reset = _acting.set(name)
    try:
        yield
    finally:
        _acting.reset(reset)


def current_actor() -> str:
    """Who acts: the user set by :func:`acting_as`; in the embedded local mode,
    ``SLUICE_ACTOR`` if set, else the operating-system user."""
    acting = _acting.get()
    if acting:
        return acting
    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def canonical(value: Any) -> str | None:
    """The JSON text an event stores and hashes (sorted keys, no spaces); None stays None."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    seq: int,
    ts_us: int,
    actor: str,
    action: str,
    target: str,
    before: str | None,
    after: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 over every field of an event as stored, in a fixed order."""
    fields = [str(seq), str(ts_us), actor, action, target, before, after, prev_hash]
    payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    actor: str | None = None,
) -> AuditEvent:
    """Append one event inside the caller's write transaction; returns it."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    head = conn.execute(sa.select(t.audit_head.c.seq, t.audit_head.c.hash)).first()
    seq, prev = (int(head.seq) + 1, str(head.hash)) if head else (1, GENESIS)
    row: dict[str, Any] = {
        "seq": seq,
        "ts_us": time.time_ns() // 1000,
        "actor": actor or current_actor(),
        "action": action,
        "target": target,
        "before": canonical(before),
        "after": canonical(after),
        "prev_hash": prev,
    }
    row["hash"] = event_hash(**row)
    conn.execute(t.audit_events.insert(), [row])
    if head:
        conn.execute(
            t.audit_head.update()
            .where(t.audit_head.c.id == _HEAD_ID)
            .values(seq=seq, hash=row["hash"])
        )
    else:
        conn.execute(t.audit_head.insert(), [{"id": _HEAD_ID, "seq": seq, "hash": row["hash"]}])
    return _event(row)


def events(
    conn: Connection,
    *,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: float | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[AuditEvent]:
    """Events matching every filter given (all bound parameters); newest first by default.

    ``target`` matches the target exactly or as a prefix ending at ``/`` or ``@``:
    ``models:/bike-demand`` finds its versions and aliases too.
    """
    e = t.audit_events
    query = sa.select(e)
    if target is not None:
        query = query.where(
            sa.or_(
                e.c.target == target,
                e.c.target.startswith(target + "/", autoescape=True),
                e.c.target.startswith(target + "@", autoescape=True),
            )
        )
    if actor is not None:
        query = query.where(e.c.actor == actor)
    if action is not None:
        query = query.where(e.c.action == action)
    if since is not None:
        query = query.where(e.c.ts_us >= int(since * 1_000_000))
    query = query.order_by(e.c.seq.desc() if newest_first else e.c.seq)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"Expected a limit of at least 1; got {limit}.")
        query = query.limit(limit)
    return [_event(r._mapping) for r in conn.execute(query)]


def verify(conn: Connection) -> Verification:
    """Walk the chain from the first event; the first broken link, if any, by sequence number."""
    head = conn.execute(sa.select(t.audit_head.c.seq, t.audit_head.c.hash)).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
    expected_seq, prev, count = 1, GENESIS, 0
    for row in _in_order(conn):
        count += 1
        stored = {k: row[k] for k in ("before", "after")}
        problem = None
        if int(row["seq"]) != expected_seq:
            problem = (
                f"event {expected_seq} is missing (the next one is {row['seq']}): "
                "events were deleted"
                if int(row["seq"]) > expected_seq
                else f"event {row['seq']} appears twice or out of order"
            )
        elif row["prev_hash"] != prev:
            problem = (
                f"event {row['seq']} names {row['prev_hash'][:12]} as the event before it, but "
                f"that event's hash is {prev[:12]}: an event before it was edited, inserted or "
                "deleted"
            )
        else:
            recomputed = event_hash(
                seq=int(row["seq"]),
                ts_us=int(row["ts_us"]),
                actor=row["actor"],
                action=row["action"],
                target=row["target"],
                before=stored["before"],
                after=stored["after"],
                prev_hash=row["prev_hash"],
            )
            if recomputed != row["hash"]:
                problem = (
                    f"event {row['seq']} ({row['action']} on {row['target']}) does not match "
                    "its hash: it was edited after it was written"
                )
        if problem:
            return Verification(False, count, head_seq, head_hash, expected_seq, problem)
        prev, expected_seq = row["hash"], expected_seq + 1
    last = expected_seq - 1
    if (last, prev) != (head_seq, head_hash):
        problem = (
            f"the chain ends at event {last} ({prev[:12]}) but its head records event "
            f"{head_seq} ({head_hash[:12]}): events at the end were deleted, or the head edited"
        )
        return Verification(False, count, head_seq, head_hash, min(last, head_seq) + 1, problem)
    return Verification(True, count, head_seq, head_hash)


def _in_order(conn: Connection) -> Iterator[Any]:
    """Every event by sequence number, a chunk at a time (keyset pagination)."""
    e = t.audit_events
    after = None
    while True:
        query = sa.select(e).order_by(e.c.seq).limit(_VERIFY_CHUNK)
        if after is not None:
            query = query.where(e.c.seq > after)
        rows = [r._mapping for r in conn.execute(query)]
        if not rows:
            return
        yield from rows
        after = rows[-1]["seq"]


def _event(r: Any) -> AuditEvent:
    return AuditEvent(
        seq=int(r["seq"]),
        ts_us=int(r["ts_us"]),
        actor=r["actor"],
        action=r["action"],
        target=r["target"],
        before=json.loads(r["before"]) if r["before"] is not None else None,
        after=json.loads(r["after"]) if r["after"] is not None else None,
        prev_hash=r["prev_hash"],
        hash=r["hash"],
    )
