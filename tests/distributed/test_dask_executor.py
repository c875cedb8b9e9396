"""Pipelines on a real Dask cluster: a scheduler and two worker processes on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sluice.errors import ClusterError, ConfigError, StepFailed
from sluice.pipelines import DaskExecutor, Status, check_executor, get_run, list_runs, open_executor
from sluice.workspace import Workspace
from tests.cluster import ROOT, DaskCluster
from tests.distributed import steps

pytestmark = pytest.mark.xdist_group("dask")


@pytest.fixture
def executor(dask_cluster: DaskCluster) -> DaskExecutor:
    dask_cluster.wait_for_workers(2)
    with DaskExecutor(dask_cluster.address) as ex:
        yield ex


def _workers(dask_cluster: DaskCluster) -> set[str]:
    with dask_cluster.client() as client:
        return set(client.scheduler_info()["workers"])


def test_the_dask_executor_meets_the_executor_contract(executor: DaskExecutor) -> None:
    check_executor(executor)


def test_independent_branches_run_at_once_on_different_workers(
    ws: Workspace, executor: DaskExecutor, dask_cluster: DaskCluster
) -> None:
    run = steps.branches.run(ws, executor=executor, n=10, seconds=1.5)
    assert run.status is Status.COMPLETED and run.executor == "dask"
    assert run.output("combine") == {"total": 45, "top": 9}
    a, b = run.step("slow_sum"), run.step("slow_max")
    assert a.started_at < b.finished_at and b.started_at < a.finished_at, "branches overlapped"
    workers = _workers(dask_cluster)
    where = {s.name: (s.host or "").split(" ")[0] for s in run.steps}
    assert set(where.values()) <= workers
    assert where["slow_sum"] != where["slow_max"]


def test_a_worker_that_dies_mid_step_is_retried_elsewhere_and_recorded(
    ws: Workspace, executor: DaskExecutor, dask_cluster: DaskCluster
) -> None:
    run = steps.worker_dies.run(ws, executor=executor, n=4)
    assert run.status is Status.COMPLETED
    step = run.step("dies_once")
    assert step.attempts == 2
    assert "that worker was lost" in step.log
    lost_on = step.log.split("attempt started on ")[1].split(" ")[0]
    assert lost_on.startswith("tcp://127.0.0.1:")
    dask_cluster.wait_for_workers(2)


def test_a_step_that_keeps_killing_workers_fails_within_its_retry_limit(
    ws: Workspace, executor: DaskExecutor, dask_cluster: DaskCluster
) -> None:
    with pytest.raises(StepFailed, match=r"WorkerLost: step 'always_dies' started \d time"):
        steps.worker_always_dies.run(ws, executor=executor, n=4)
    run = get_run(ws, list_runs(ws)[0].id)
    assert run.status is Status.FAILED
    step = run.step("always_dies")
    assert step.status is Status.FAILED and "retries allowed: 0" in (step.error or "")
    dask_cluster.wait_for_workers(2)


LOCAL_ONLY = """
from sluice.pipelines import pipeline, step


@step
def here_only(n: int) -> int:
    return n


@pipeline
def local_only(n: int = 1) -> None:
    here_only(n)
"""


def test_a_step_the_workers_cannot_import_is_a_cluster_error_with_the_fix(
    ws: Workspace,
    executor: DaskExecutor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "only_on_the_client.py").write_text(LOCAL_ONLY)
    monkeypatch.syspath_prepend(str(tmp_path))  # importable here, not on the workers
    import only_on_the_client  # type: ignore[import-not-found]

    with pytest.raises(ClusterError) as caught:
        only_on_the_client.local_only.run(ws, executor=executor)
    message = str(caught.value)
    assert "Expected the cluster to run step 'here_only'; it could not (" in message
    assert (
        "The scheduler and every worker must import the step's module (only_on_the_client): "
        "start them with the project on PYTHONPATH, or install it where they run."
    ) in message
    run = get_run(ws, list_runs(ws)[0].id)
    assert run.status is Status.FAILED
    assert run.step("here_only").status is Status.FAILED
    again = steps.branches.run(ws, executor=executor, n=4, seconds=0.1)  # still usable
    assert again.status is Status.COMPLETED


def test_ctrl_c_cancels_the_tasks_on_the_cluster_and_marks_the_run_cancelled(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    home = tmp_path / "home"
    script = textwrap.dedent(
        f"""
        from sluice.pipelines import DaskExecutor
        from sluice.workspace import Workspace
        from tests.distributed import steps

        ws = Workspace.at({str(home)!r})
        with DaskExecutor({dask_cluster.address!r}) as ex:
            steps.long_sleep.run(ws, executor=ex, n=3, seconds=8.0)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not _sleeping(home, dask_cluster):
            assert proc.poll() is None, "the run ended before it was interrupted"
            assert time.monotonic() < deadline, "the step never started on the cluster"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) != 0
        ws = Workspace.at(home)
        run_id = list_runs(ws)[0].id
        run = get_run(ws, run_id)
        assert run.status is Status.CANCELLED
        assert run.step("sleeps").status is Status.CANCELLED
        # Dask cannot interrupt a running task: the step ends its call on the worker,
        # then nothing after it runs and the record stays as it was left
        deadline = time.monotonic() + 60
        while not (home / "woke-up").exists() or _running_task(dask_cluster):
            assert time.monotonic() < deadline, "the running step never ended"
            time.sleep(0.2)
        time.sleep(1.0)  # time enough for a next step, were one scheduled
        assert not (home / "after-sleep").exists()
        run = get_run(ws, run_id)
        assert run.status is Status.CANCELLED
        assert run.step("sleeps").status is Status.CANCELLED
        ws.close()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_ctrl_c_also_cancels_what_a_running_step_fanned_out(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    home = tmp_path / "home"
    pieces = 40  # 0.5 s each on two single-threaded workers: 10 s, were none cancelled
    script = textwrap.dedent(
        f"""
        from sluice.pipelines import DaskExecutor
        from sluice.workspace import Workspace
        from tests.distributed import steps

        ws = Workspace.at({str(home)!r})
        with DaskExecutor({dask_cluster.address!r}) as ex:
            steps.long_fan_out.run(ws, executor=ex, n=3, pieces={pieces}, seconds=0.5)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(home.glob("piece-*")):
            assert proc.poll() is None, "the run ended before it was interrupted"
            assert time.monotonic() < deadline, "no piece ever ran on the cluster"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) != 0
        interrupted = time.monotonic()
        while not (home / "fan-out-ended").exists():
            assert time.monotonic() < interrupted + 30, "the step went on fanning out"
            time.sleep(0.1)
        time.sleep(1.5)  # pieces already running end their sleep
        done = len(list(home.glob("piece-*")))
        assert done < pieces / 2, f"{done} of {pieces} pieces ran after Ctrl-C"
        time.sleep(1.0)
        assert len(list(home.glob("piece-*"))) == done, "pieces still ran"
        assert not (home / "after-sleep").exists()
        ws = Workspace.at(home)
        run = get_run(ws, list_runs(ws)[0].id)
        assert run.status is Status.CANCELLED
        ws.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    dask_cluster.wait_for_workers(2)


def _running_task(dask_cluster: DaskCluster) -> bool:
    with dask_cluster.client() as client:
        keys = client.run_on_scheduler(_sluice_tasks)
    return bool(keys)


def _sleeping(home: Path, dask_cluster: DaskCluster) -> bool:
    """Whether step 'sleeps' is recorded as running and its task runs on a worker."""
    if not (home / "sluice.db").exists():
        return False
    ws = Workspace.at(home)
    try:
        runs = list_runs(ws)
        if not runs:
            return False
        step = get_run(ws, runs[0].id).step("sleeps")
    except Exception:  # the run has not recorded the step yet
        return False
    finally:
        ws.close()
    with dask_cluster.client() as client:
        keys = client.run_on_scheduler(_sluice_tasks)
    return f"sluice-step-{step.id}" in keys


def _sluice_tasks(dask_scheduler) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        str(key)
        for key, state in dask_scheduler.tasks.items()
        if str(key).startswith("sluice-step-") and state.state == "processing"
    ]


def test_an_unreachable_scheduler_is_a_cluster_error_naming_the_address() -> None:
    with pytest.raises(ClusterError, match=r"at 'tcp://127.0.0.1:9'; nothing listens there"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(ClusterError, match=r"the host 'nowhere.invalid' is unknown"):
        DaskExecutor("tcp://nowhere.invalid:8786", timeout=2)
    with pytest.raises(ClusterError, match=r"got 'tcp://127.0.0.1' \(missing port number"):
        DaskExecutor("tcp://127.0.0.1", timeout=2)


def test_executor_without_an_address_says_where_to_give_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SLUICE_DASK_ADDRESS", raising=False)
    with pytest.raises(
        ConfigError,
        match=re.escape("set executor: {dask: {address: tcp://HOST:PORT}} in sluice.yaml or "),
    ):
        open_executor("dask")
    with pytest.raises(ConfigError, match="executor: expected 'local', 'dask'"):
        open_executor({"spark": {}})
