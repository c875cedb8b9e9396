"""Runs end to end on a real store: what is logged is what is read back."""

from __future__ import annotations

import math
import threading
import time

import pytest
import sqlalchemy as sa

import sluice.tracking as tr
from sluice.errors import TrackingError
from sluice.store import tables as t
from sluice.tracking import RunStatus
from sluice.workspace import Workspace


def test_a_run_round_trips_params_metrics_and_tags(any_ws: Workspace) -> None:
    before = time.time()
    with tr.start_run(
        "rf", experiment="bike", params={"trees": 200}, tags={"team": "ml"}, workspace=any_ws
    ) as run:
        run.log_param("depth", None)
        run.log_params({"lr": 0.1, "name": "naïve ✓"})
        run.log_metric("rmse", 3.5, step=1)
        run.log_metrics({"rmse": 2.5, "mae": 1.0}, step=2)
        run.set_tag("stage", "draft")
        run.set_tag("stage", "final")
    record = tr.get_run(any_ws, run.id)
    assert record.name == "rf" and record.experiment == "bike"
    assert record.status is RunStatus.FINISHED
    assert record.params == {"depth": "None", "lr": "0.1", "name": "naïve ✓", "trees": "200"}
    assert record.metrics == {"mae": 1.0, "rmse": 2.5}
    assert record.tags == {"stage": "final", "team": "ml"}
    assert record.end_time is not None and before <= record.start_time <= record.end_time
    assert record.duration == pytest.approx(record.end_time - record.start_time)
    assert record.to_dict()["status"] == "finished"


def test_latest_metric_is_highest_step_not_last_logged(any_ws: Workspace) -> None:
    with tr.start_run(workspace=any_ws) as run:
        run.log_metric("acc", 0.9, step=10)
        run.log_metric("acc", 0.5, step=3)  # a late write of an earlier step
        run.log_metric("acc", 0.7, step=10, timestamp=time.time() + 5)
    assert tr.get_run(any_ws, run.id).metrics == {"acc": 0.7}
    history = tr.metric_history(any_ws, run.id, "acc")
    assert [(p.step, p.value) for p in history] == [(3, 0.5), (10, 0.9), (10, 0.7)]


def test_infinities_and_numpy_numbers_are_stored_exactly(any_ws: Workspace) -> None:
    np = pytest.importorskip("numpy")
    with tr.start_run(workspace=any_ws) as run:
        run.log_metric("up", math.inf)
        run.log_metric("down", -math.inf)
        run.log_metric("np", np.float32(0.25), step=np.int64(4))
        run.log_metric("tiny", 5e-324)
    metrics = tr.get_run(any_ws, run.id).metrics
    assert metrics == {"down": -math.inf, "np": 0.25, "tiny": 5e-324, "up": math.inf}
    assert tr.metric_history(any_ws, run.id, "np")[0].step == 4


def test_fluent_functions_act_on_the_innermost_run(any_ws: Workspace) -> None:
    assert tr.active_run() is None
    with tr.start_run("outer", workspace=any_ws) as outer:
        tr.log_param("level", "outer")
        with tr.start_run("inner", parent=outer) as inner:
            assert tr.active_run() is inner
            tr.log_param("level", "inner")
            tr.log_metric("loss", 0.5)
            tr.log_metrics({"acc": 0.75}, step=1, timestamp=1_700_000_000.0)
            tr.set_tag("kind", "child")
        assert tr.active_run() is outer
        tr.log_metric("loss", 1.5)
    assert tr.active_run() is None
    inner_rec, outer_rec = tr.get_run(any_ws, inner.id), tr.get_run(any_ws, outer.id)
    assert inner_rec.parent_id == outer.id and outer_rec.parent_id is None
    assert inner_rec.params == {"level": "inner"} and outer_rec.params == {"level": "outer"}
    assert inner_rec.metrics == {"acc": 0.75, "loss": 0.5} and outer_rec.metrics == {"loss": 1.5}
    assert inner_rec.tags == {"kind": "child"}
    assert tr.metric_history(any_ws, inner.id, "acc")[0].timestamp == 1_700_000_000.0
    assert [r.id for r in tr.list_runs(any_ws, parent_id=outer.id)] == [inner.id]


def test_nesting_by_parent_id_from_an_earlier_session(any_ws: Workspace) -> None:
    with tr.start_run("parent", workspace=any_ws) as parent:
        pass
    with tr.start_run("child", parent=parent.id, workspace=any_ws) as child:
        pass
    assert tr.get_run(any_ws, child.id).parent_id == parent.id


def test_parent_still_buffered_is_written_before_its_child(any_ws: Workspace) -> None:
    parent = tr.start_run("parent", workspace=any_ws)
    child = tr.start_run("child", parent=parent.id, workspace=any_ws)
    child.end()
    parent.end()
    assert tr.get_run(any_ws, child.id).parent_id == parent.id


def test_start_run_without_with_is_active_until_ended(any_ws: Workspace) -> None:
    run = tr.start_run("manual", workspace=any_ws)
    try:
        assert tr.active_run() is run
        tr.log_metric("x", 1)
    finally:
        run.end("killed")
    run.end()  # ending again changes nothing
    assert tr.active_run() is None
    record = tr.get_run(any_ws, run.id)
    assert record.status is RunStatus.KILLED and record.metrics == {"x": 1.0}


def test_ending_runs_out_of_order_leaves_no_ended_run_active(any_ws: Workspace) -> None:
    first = tr.start_run("first", workspace=any_ws)
    second = tr.start_run("second", workspace=any_ws)
    first.end()
    assert tr.active_run() is second
    second.end()
    assert tr.active_run() is None


def test_the_current_run_does_not_leak_into_other_threads(any_ws: Workspace) -> None:
    seen: list[object] = []
    with tr.start_run(workspace=any_ws) as run:
        worker = threading.Thread(target=lambda: seen.append(tr.active_run()))
        worker.start()
        worker.join()
        assert tr.active_run() is run
    assert seen == [None]


def test_threads_logging_to_one_run_lose_nothing(any_ws: Workspace) -> None:
    with tr.start_run(workspace=any_ws) as run:

        def work(k: int) -> None:
            for i in range(5_000):
                run.log_metric(f"m{k}", float(i), step=i)

        workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    for k in range(4):
        history = tr.metric_history(any_ws, run.id, f"m{k}")
        assert [p.step for p in history] == list(range(5_000))


def test_readers_see_rows_still_buffered(any_ws: Workspace) -> None:
    with tr.start_run(workspace=any_ws) as run:
        run.log_metric("loss", 0.25)
        assert tr.get_run(any_ws, run.id).metrics == {"loss": 0.25}
        assert tr.get_run(any_ws, run.id).status is RunStatus.RUNNING


def test_list_runs_filters_and_orders_newest_first(any_ws: Workspace) -> None:
    ids = []
    for i, experiment in enumerate(["a", "b", "a"]):
        with tr.start_run(f"r{i}", experiment=experiment, workspace=any_ws) as run:
            run.log_metric("i", i)
        ids.append(run.id)
    with pytest.raises(ValueError), tr.start_run("bad", experiment="a", workspace=any_ws):
        raise ValueError("boom")
    assert [r.name for r in tr.list_runs(any_ws)] == ["bad", "r2", "r1", "r0"]
    assert [r.id for r in tr.list_runs(any_ws, "a", status="finished")] == [ids[2], ids[0]]
    assert [r.name for r in tr.list_runs(any_ws, status=RunStatus.FAILED)] == ["bad"]
    assert [r.name for r in tr.list_runs(any_ws, limit=2)] == ["bad", "r2"]
    assert tr.list_runs(any_ws, "nope") == []
    assert tr.list_runs(any_ws, "a")[1].metrics == {"i": 2.0}


def test_list_runs_reads_more_runs_than_one_in_clause_holds(ws: Workspace) -> None:
    for i in range(1_203):
        with tr.start_run(workspace=ws) as run:
            run.log_param("i", i)
    runs = tr.list_runs(ws)
    assert len(runs) == 1_203
    assert sorted(int(r.params["i"]) for r in runs) == list(range(1_203))


def test_runs_link_to_their_pipeline_and_step_run(any_ws: Workspace) -> None:
    with any_ws.store.write() as conn:
        conn.execute(
            t.pipeline_runs.insert().values(
                id="p" * 32,
                pipeline="train",
                status="running",
                params={},
                executor="local",
                created_at=time.time(),
            )
        )
        conn.execute(
            t.step_runs.insert().values(
                id="s" * 32,
                pipeline_run_id="p" * 32,
                step="fit",
                cache_key="k",
                status="running",
                attempts=1,
            )
        )
    with tr.start_run("fit", workspace=any_ws, step_run_id="s" * 32) as run:
        pass
    record = tr.get_run(any_ws, run.id)
    assert (record.pipeline_run_id, record.step_run_id) == ("p" * 32, "s" * 32)
    with pytest.raises(TrackingError) as err:
        tr.start_run(workspace=any_ws, pipeline_run_id="q" * 32, step_run_id="s" * 32)
    assert str(err.value) == (
        f"Step run {'s' * 32} belongs to pipeline run {'p' * 32}, not to {'q' * 32}. "
        "Pass matching ids, or only step_run_id=."
    )


def test_start_run_uses_the_current_workspace_by_default(sluice_home: object) -> None:
    from sluice.workspace import current

    with tr.start_run("env") as run:
        tr.log_metric("x", 2)
    assert tr.get_run(current(), run.id).metrics == {"x": 2.0}
    current().close()


def test_flush_writes_without_ending_the_run(any_ws: Workspace) -> None:
    with tr.start_run(workspace=any_ws) as run:
        run.log_metric("loss", 1.0)
        tr.flush(any_ws)
        with any_ws.store.read() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(t.metrics)).scalar()
        assert stored == 1
        run.log_metric("loss", 2.0)
        tr.flush()
        with any_ws.store.read() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(t.metrics)).scalar()
        assert stored == 2


def test_each_asyncio_task_has_its_own_current_run(any_ws: Workspace) -> None:
    import asyncio

    async def job(name: str) -> str:
        with tr.start_run(name, workspace=any_ws) as run:
            await asyncio.sleep(0.01)  # the other task starts its run meanwhile
            tr.log_param("task", name)
            assert tr.active_run() is run
        return run.id

    async def both() -> list[str]:
        return list(await asyncio.gather(job("a"), job("b")))

    first, second = asyncio.run(both())
    assert tr.get_run(any_ws, first).params == {"task": "a"}
    assert tr.get_run(any_ws, second).params == {"task": "b"}


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(tr.__all__) == [
        "MetricPoint",
        "Run",
        "RunRecord",
        "RunStatus",
        "active_run",
        "flush",
        "get_run",
        "list_runs",
        "log_metric",
        "log_metrics",
        "log_param",
        "log_params",
        "metric_history",
        "set_tag",
        "start_run",
    ]
    assert all(hasattr(tr, name) for name in tr.__all__)
