"""Monitors, results and alerts in the metadata store (tables ``monitors``,
``monitor_results`` and ``alerts``).

Unknown names never come back empty-handed: the error lists the monitors that
exist and suggests the nearest one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sluice.errors import MonitorError, MonitorNotFound, did_you_mean
from sluice.monitoring.monitor_settings import MonitorSettings
from sluice.monitoring.records import Alert, Monitor, MonitorResult, Status
from sluice.registry.register import jsonable
from sluice.store import audit
from sluice.store import tables as t
from sluice.workspace import Workspace

_M, _R, _A = t.monitors, t.monitor_results, t.alerts


def insert_monitor(ws: Workspace, row: Mapping[str, Any]) -> Monitor:
    """Store a new monitor; AlreadyExists (from the store) when the name is taken."""
    with ws.store.write() as conn:
        conn.execute(_M.insert().values(**row, created_at=time.time()))
        audit.append(
            conn,
            "monitor.created",
            f"monitors:/{row['name']}",
            after={k: row.get(k) for k in ("model_name", "alias", "window")},
        )
    return get_monitor(ws, str(row["name"]))


def get_monitor(ws: Workspace, name: str) -> Monitor:
    """The monitor called ``name``; NotFound with the known names and a suggestion."""
    with ws.store.read() as conn:
        row = conn.execute(sa.select(_M).where(_M.c.name == name)).mappings().first()
        if row is None:
            names = list(conn.execute(sa.select(_M.c.name).order_by(_M.c.name)).scalars())
    if row is None:
        known = f"monitors: {', '.join(names)}" if names else "no monitor exists yet"
        raise MonitorNotFound(
            f"Expected the name of a monitor; got {name!r} ({known}).{did_you_mean(name, names)} "
            "Run `sluice monitor list` to see them, or `sluice monitor create` to make one."
        )
    return _monitor(row)


def list_monitors(ws: Workspace) -> list[Monitor]:
    """Every monitor, by name."""
    with ws.store.read() as conn:
        rows = conn.execute(sa.select(_M).order_by(_M.c.name)).mappings().all()
    return [_monitor(r) for r in rows]


def insert_result(
    ws: Workspace,
    monitor: Monitor,
    *,
    status: Status,
    window_start: float,
    window_end: float,
    rows: int,
    summary: Mapping[str, Any],
    model_version: int | None,
    report_hash: str | None,
    cursor: float,
) -> MonitorResult:
    """Store a window's result and move the monitor's cursor past it, in one transaction,
    so that a window is never stored twice nor skipped.

    The cursor moves only from where this run found it: when a concurrent run of the
    same monitor got there first, nothing is stored and MonitorError says so.
    """
    row = {
        "monitor_id": monitor.id,
        "model_version": model_version,
        "window_start": window_start,
        "window_end": window_end,
        "rows": rows,
        "status": status.value,
        "summary": jsonable(summary),
        "report_hash": report_hash,
        "created_at": time.time(),
    }
    with ws.store.write() as conn:
        new_id = conn.execute(_R.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
        found = _M.c.cursor.is_(None) if monitor.cursor is None else _M.c.cursor == monitor.cursor
        moved = conn.execute(
            _M.update().where(_M.c.id == monitor.id, found).values(cursor=cursor)
        ).rowcount
        if moved != 1:
            raise MonitorError(
                f"Expected to evaluate the window of monitor {monitor.name!r} ending at "
                f"{window_end}; another run of the same monitor evaluated it first. Nothing was "
                "stored twice; run one `sluice monitor run` at a time per monitor."
            )
    return _result(row | {"id": new_id})


def insert_alert(
    ws: Workspace,
    monitor: Monitor,
    result: MonitorResult,
    kind: str,
    message: str,
    actions: Sequence[Mapping[str, Any]],
) -> Alert:
    row = {
        "monitor_id": monitor.id,
        "result_id": result.id,
        "kind": kind,
        "message": message,
        "actions": jsonable(list(actions)),
        "created_at": time.time(),
    }
    with ws.store.write() as conn:
        new_id = conn.execute(_A.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
        audit.append(
            conn,
            "monitor.alert",
            f"monitors:/{monitor.name}",
            after={
                "kind": kind,
                "result_id": result.id,
                "model_version": result.model_version,
                "actions": [a.get("type") for a in actions],
            },
        )
    return _alert(row | {"id": new_id})


def latest_results(ws: Workspace, monitor: Monitor, limit: int = 10) -> list[MonitorResult]:
    """The monitor's most recent results, newest window first."""
    query = (
        sa.select(_R)
        .where(_R.c.monitor_id == monitor.id)
        .order_by(_R.c.window_end.desc(), _R.c.id.desc())
        .limit(limit)
    )
    with ws.store.read() as conn:
        return [_result(r) for r in conn.execute(query).mappings().all()]


def result_by_id(ws: Workspace, result_id: int) -> MonitorResult | None:
    """One stored result, or None when there is no result with that id."""
    with ws.store.read() as conn:
        row = conn.execute(sa.select(_R).where(_R.c.id == result_id)).mappings().first()
    return _result(row) if row is not None else None


def alerts_of(ws: Workspace, monitor: Monitor, limit: int = 50) -> list[Alert]:
    """The monitor's most recent alerts, newest first."""
    query = (
        sa.select(_A)
        .where(_A.c.monitor_id == monitor.id)
        .order_by(_A.c.created_at.desc(), _A.c.id.desc())
        .limit(limit)
    )
    with ws.store.read() as conn:
        return [_alert(r) for r in conn.execute(query).mappings().all()]


def _monitor(r: Any) -> Monitor:
    return Monitor(
        id=r["id"],
        name=r["name"],
        model_name=r["model_name"],
        alias=r["alias"],
        window=r["window"],
        settings=MonitorSettings.from_dict(r["settings"] or {}),
        actions=tuple(r["actions"] or ()),
        created_at=r["created_at"],
        reference_version_id=r["reference_version_id"],
        cursor=r["cursor"],
    )


def _result(r: Any) -> MonitorResult:
    return MonitorResult(
        id=int(r["id"]),
        monitor_id=r["monitor_id"],
        model_version=r["model_version"],
        window_start=r["window_start"],
        window_end=r["window_end"],
        rows=r["rows"],
        status=Status(r["status"]),
        summary=r["summary"],
        report_hash=r["report_hash"],
        created_at=r["created_at"],
    )


def _alert(r: Any) -> Alert:
    return Alert(
        id=int(r["id"]),
        monitor_id=r["monitor_id"],
        result_id=r["result_id"],
        kind=r["kind"],
        message=r["message"],
        actions=tuple(r["actions"] or ()),
        created_at=r["created_at"],
    )
