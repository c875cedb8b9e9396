"""The audit trail: every change of state appends a chained event; tampering is found.

Tampering is done the way an intruder would: plain SQL on the database, around
sluice. ``verify`` must name the first broken link every time.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression

import sluice
from sluice.config import Settings
from sluice.data import add_version
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.registry import register_version, set_alias
from sluice.store import audit
from sluice.store import tables as t
from sluice.workspace import Workspace

N_WRITERS = 4
EVENTS_EACH = 25


def _append_many(n: int, ws: Workspace, prefix: str = "things:") -> None:
    for i in range(n):
        with ws.store.write() as conn:
            audit.append(conn, "test.touched", f"{prefix}/{i}", before={"i": i}, after={"i": i + 1})


def _verify(ws: Workspace) -> audit.Verification:
    with ws.store.read() as conn:
        return audit.verify(conn)


def _sql(ws: Workspace, statement: str, **params: object) -> None:
    with ws.store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_untouched_chain_verifies(any_ws: Workspace) -> None:
    empty = _verify(any_ws)
    assert empty.ok and empty.events == 0 and empty.head_seq == 0
    _append_many(5, any_ws)
    report = _verify(any_ws)
    assert report.ok and report.events == 5 and report.head_seq == 5
    with any_ws.store.read() as conn:
        newest = audit.events(conn, limit=1)[0]
        first = audit.events(conn, newest_first=False)[0]
    assert report.head_hash == newest.hash and first.prev_hash == audit.GENESIS
    assert newest.before == {"i": 4} and newest.after == {"i": 5}
    assert newest.actor == audit.current_actor()


@pytest.mark.parametrize(
    ("tamper", "broken", "says"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3, "edited"),
        ("UPDATE audit_events SET after = replace(after, '2', '9') WHERE seq = 2", 2, "edited"),
        ("DELETE FROM audit_events WHERE seq = 3", 3, "event 3 is missing"),
        ("DELETE FROM audit_events WHERE seq = 6", 6, "events at the end were deleted"),
        (
            "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)",
            6,
            "head",
        ),
        (
            "UPDATE audit_events SET prev_hash = (SELECT hash FROM audit_events WHERE seq = 1) "
            "WHERE seq = 4",
            4,
            "an event before it was edited, inserted or deleted",
        ),
    ],
)
def test_tampering_with_the_table_is_found(
    any_ws: Workspace, tamper: str, broken: int, says: str
) -> None:
    _append_many(6, any_ws)
    _sql(any_ws, tamper)
    report = _verify(any_ws)
    assert not report.ok
    assert report.broken_seq == broken, report
    assert report.problem and says in report.problem


def test_an_inserted_event_is_found(any_ws: Workspace) -> None:
    """A forged event copied from a real one, squeezed in with the next number."""
    _append_many(3, any_ws)
    _sql(
        any_ws,
        "INSERT INTO audit_events (seq, ts_us, actor, action, target, before, after, prev_hash, "
        "hash) SELECT 4, ts_us, 'mallory', 'model.alias_moved', 'models:/x@production', NULL, "
        "NULL, hash, :forged FROM audit_events WHERE seq = 3",
        forged="f" * 64,
    )
    report = _verify(any_ws)
    assert not report.ok and report.broken_seq == 4
    assert "does not match its hash" in (report.problem or "")


def test_filters_are_bound_parameters(any_ws: Workspace) -> None:
    _append_many(3, any_ws)
    _append_many(2, any_ws, prefix="models:/bike")
    with any_ws.store.read() as conn:
        assert len(audit.events(conn, target="models:/bike")) == 2
        assert len(audit.events(conn, target="things:/1")) == 1
        assert audit.events(conn, target="x' OR '1'='1") == []
        assert audit.events(conn, actor="nobody'; DROP TABLE audit_events; --") == []
        assert audit.events(conn, target="%") == [], "LIKE wildcards are escaped"
    assert _verify(any_ws).events == 5, "the table is still there"


def _writer(url: str, home: str, barrier: mp.synchronize.Barrier, queue: mp.Queue) -> None:
    try:
        barrier.wait(timeout=60)
        ws = Workspace(Settings(home=Path(home), db_url=url, artifacts=str(Path(home) / "art")))
        _append_many(EVENTS_EACH, ws)
        ws.close()
        queue.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_concurrent_writers_never_fork_the_chain(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    home = tmp_path / "home"
    url = (
        f"sqlite:///{home / 'sluice.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    Workspace(Settings(home=home, db_url=url, artifacts=str(home / "art"))).close()  # migrate once
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(N_WRITERS), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, str(home), barrier, queue)) for _ in range(N_WRITERS)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok"] * N_WRITERS
    ws = Workspace(Settings(home=home, db_url=url, artifacts=str(home / "art")))
    try:
        report = _verify(ws)
    finally:
        ws.close()
    assert report.ok, report.problem
    assert report.events == N_WRITERS * EVENTS_EACH


def test_changes_of_state_are_audited(ws: Workspace, tmp_path: Path) -> None:
    """Data added, a pipeline run, a version registered, aliases moved: one event each."""
    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40.0) * 2})
    csv = tmp_path / "d.csv"
    frame.to_csv(csv, index=False)
    version = add_version(ws, csv, "d")

    @sluice.step
    def fit(df: pd.DataFrame) -> LinearRegression:
        return LinearRegression().fit(df[["x"]], df["y"])

    @sluice.pipeline
    def train(df: pd.DataFrame) -> None:
        fit(df)

    run = train.run(ws, df=frame)
    model = run.output("fit")
    for _ in range(2):
        register_version(
            ws,
            "m",
            model_bytes=dumps(model),
            signature=infer_signature(frame[["x"]], model, task="regression"),
            dataset_version_id=version.id,
            pipeline_run_id=run.id,
            params={},
            metrics={"r2": 1.0},
        )
    set_alias(ws, "m", 2, "champion")
    set_alias(ws, "m", 2, "champion")  # no move, no event
    with ws.store.read() as conn:
        got = [
            (e.action, e.target, e.before, e.after) for e in audit.events(conn, newest_first=False)
        ]
    actions = [(a, target) for a, target, _, _ in got]
    assert actions == [
        ("dataset.version_added", "datasets:/d/1"),
        ("pipeline.run_started", f"runs:/{run.id}"),
        ("pipeline.run_finished", f"runs:/{run.id}"),
        ("model.version_registered", "models:/m/1"),
        ("model.alias_moved", "models:/m@challenger"),
        ("model.alias_moved", "models:/m@champion"),
        ("model.version_registered", "models:/m/2"),
        ("model.alias_moved", "models:/m@challenger"),
        ("model.alias_moved", "models:/m@champion"),
    ]
    assert got[-1][2:] == ({"version": 1}, {"version": 2}), "before and after of the move"
    assert got[2][3] == {"status": "completed", "error": None}
    assert _verify(ws).ok
    assert [r[0] for r in _all_rows(ws)] == list(range(1, len(got) + 1))


def _all_rows(ws: Workspace) -> list[tuple[int]]:
    with ws.store.read() as conn:
        return [tuple(r) for r in conn.execute(sa.select(t.audit_events.c.seq))]
