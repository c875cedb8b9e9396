"""Nothing logged is lost: at volume, on exceptions, on failed writes, at process exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

import sluice.tracking as tr
from sluice.errors import TrackingError
from sluice.store import tables as t
from sluice.tracking import RunStatus
from sluice.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _count(ws: Workspace, table: sa.Table, run_id: str) -> int:
    with ws.store.read() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.run_id == run_id)
        return int(conn.execute(query).scalar_one())


def test_100000_single_calls_are_all_stored_in_order(any_ws: Workspace) -> None:
    with tr.start_run("volume", workspace=any_ws) as run:
        for i in range(100_000):
            tr.log_metric("loss", i / 7, step=i)
    assert _count(any_ws, t.metrics, run.id) == 100_000
    history = tr.metric_history(any_ws, run.id, "loss")
    assert [p.step for p in history] == list(range(100_000))
    assert all(p.value == p.step / 7 for p in history)


def test_an_exception_in_the_block_keeps_everything_logged_before(any_ws: Workspace) -> None:
    with pytest.raises(RuntimeError, match="diverged"), tr.start_run(workspace=any_ws) as run:
        tr.log_params({"lr": 10})
        for i in range(25_000):
            tr.log_metric("loss", float(i))
        tr.set_tag("note", "about to fail")
        raise RuntimeError("diverged")
    record = tr.get_run(any_ws, run.id)
    assert record.status is RunStatus.FAILED and record.end_time is not None
    assert record.params == {"lr": "10"} and record.tags == {"note": "about to fail"}
    assert _count(any_ws, t.metrics, run.id) == 25_000


def test_keyboard_interrupt_ends_the_run_as_killed(any_ws: Workspace) -> None:
    with pytest.raises(KeyboardInterrupt), tr.start_run(workspace=any_ws) as run:
        tr.log_metric("x", 1)
        raise KeyboardInterrupt
    assert tr.get_run(any_ws, run.id).status is RunStatus.KILLED


def test_a_failed_write_keeps_the_rows_and_a_later_flush_stores_them(any_ws: Workspace) -> None:
    run = tr.start_run(workspace=any_ws)
    run.log_metric("before", 1.0)
    tr.flush(any_ws)
    for i in range(1_000):
        run.log_metric("during", float(i))
    with any_ws.store.write() as conn:  # the store breaks: the table is gone
        conn.execute(sa.text("ALTER TABLE metrics RENAME TO metrics_away"))
    with pytest.raises(TrackingError) as err:
        tr.flush(any_ws)
    message = str(err.value)
    assert message.startswith(
        f"Could not write 1000 tracking rows to the store at {any_ws.store.safe_url}: "
    )
    assert message.endswith(
        "They are kept in memory and tried again at the next flush; check that the store is "
        "reachable and writable."
    )
    run.log_metric("after", 2.0)  # logging goes on while the store is down
    with any_ws.store.write() as conn:
        conn.execute(sa.text("ALTER TABLE metrics_away RENAME TO metrics"))
    run.end()
    record = tr.get_run(any_ws, run.id)
    assert record.metrics == {"after": 2.0, "before": 1.0, "during": 999.0}
    assert _count(any_ws, t.metrics, run.id) == 1_002


def test_more_rows_than_max_pending_are_written_by_the_caller(ws: Workspace) -> None:
    from sluice.tracking.writer import writer_of

    with tr.start_run(workspace=ws) as run:
        writer = writer_of(ws.store)
        assert writer is not None
        writer.batch_size, writer.max_pending, writer.interval = 10, 100, 3600.0
        for i in range(1_000):
            run.log_metric("m", float(i))
            assert writer.pending <= 100
    assert _count(ws, t.metrics, run.id) == 1_000


def _run_script(ws: Workspace, body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _script(body)],
        env=_env(ws),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(ws: Workspace) -> dict[str, str]:
    """The environment that points a child process at the same workspace."""
    return {
        **os.environ,
        "SLUICE_HOME": str(ws.settings.home),
        "SLUICE_DB_URL": ws.settings.db_url,
        "SLUICE_ARTIFACTS": ws.settings.artifacts,
        "PYTHONPATH": str(ROOT),
    }


def _script(body: str) -> str:
    return "import sys\nimport sluice.tracking as tr\n" + textwrap.dedent(body)


def _only_run(ws: Workspace) -> tr.RunRecord:
    runs = tr.list_runs(ws)
    assert len(runs) == 1
    return runs[0]


def test_a_process_that_exits_without_ending_its_run_loses_nothing(any_ws: Workspace) -> None:
    done = _run_script(
        any_ws,
        """
        run = tr.start_run("forgotten", params={"seed": 7})
        for i in range(30_000):
            tr.log_metric("loss", i * 0.5, step=i)
        tr.set_tag("last", "tag")
        print(run.id)
    """,
    )
    assert done.returncode == 0, done.stderr
    record = _only_run(any_ws)
    assert record.id == done.stdout.strip()
    assert record.status is RunStatus.FINISHED and record.end_time is not None
    assert record.params == {"seed": "7"} and record.tags == {"last": "tag"}
    assert record.metrics == {"loss": 29_999 * 0.5}
    assert _count(any_ws, t.metrics, record.id) == 30_000


def test_a_process_killed_by_an_uncaught_exception_marks_its_run_failed(
    any_ws: Workspace,
) -> None:
    done = _run_script(
        any_ws,
        """
        tr.start_run("crashing")
        for i in range(5_000):
            tr.log_metric("loss", float(i))
        raise SystemError("out of luck")
    """,
    )
    assert done.returncode == 1 and "out of luck" in done.stderr
    record = _only_run(any_ws)
    assert record.status is RunStatus.FAILED
    assert _count(any_ws, t.metrics, record.id) == 5_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_write_its_parents_rows_twice(ws: Workspace) -> None:
    with tr.start_run(workspace=ws) as run:
        tr.flush(ws)  # the run row is stored; a child cannot write it for its parent
        run.log_metric("parent", 1.0)  # buffered when the fork happens
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                run.log_metric("child", 2.0)
                tr.flush(ws)
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert [p.value for p in tr.metric_history(ws, run.id, "parent")] == [1.0]
    assert [p.value for p in tr.metric_history(ws, run.id, "child")] == [2.0]


def _wait_for(condition: object, seconds: float = 20.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_the_background_thread_writes_on_time_and_on_size(ws: Workspace) -> None:
    from sluice.tracking.writer import writer_of

    with tr.start_run(workspace=ws) as run:
        writer = writer_of(ws.store)
        assert writer is not None
        writer.interval, writer.batch_size = 0.05, 1_000_000
        run.log_metric("by_time", 1.0)  # nothing else happens: the interval must write it
        assert _wait_for(lambda: _count(ws, t.metrics, run.id) == 1)
        writer.interval, writer.batch_size = 3600.0, 500
        for i in range(500):  # the 500th row wakes the thread long before the interval
            run.log_metric("by_size", float(i))
        assert _wait_for(lambda: _count(ws, t.metrics, run.id) == 501)
        assert writer.pending == 0


def test_processes_logging_into_one_store_at_once_lose_nothing(any_ws: Workspace) -> None:
    body = """
        with tr.start_run(sys.argv[1]):
            for i in range(20_000):
                tr.log_metric("m", float(i), step=i)
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _script(body), f"p{k}"],
            env=_env(any_ws),
            stderr=subprocess.PIPE,
        )
        for k in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    runs = tr.list_runs(any_ws)
    assert sorted(r.name or "" for r in runs) == ["p0", "p1", "p2"]
    for run in runs:
        assert run.status is RunStatus.FINISHED
        assert _count(any_ws, t.metrics, run.id) == 20_000
