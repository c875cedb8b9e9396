"""Run steps on a Dask cluster: each step a task, independent branches at the same time.

A task carries the step (imported by name on the worker), its parameters, the
addresses of its inputs and the workspace's settings. The worker opens the same
workspace (a shared metadata store and an artifact store every worker reaches: a
shared folder or an fsspec URL), runs the step with its retries and stores its
outputs, exactly as the in-process executor does.

Where a step ran is recorded as the worker's address and host name. A worker
that dies mid-step is noticed through the scheduler: Dask runs the task again
elsewhere, and the step's log says on which worker each attempt started and
that the earlier one was lost. Once a step has lost more workers than its
``retries`` allow, the executor gives up on it and the step fails. Ctrl-C
cancels the run's tasks on the cluster, and nothing after them starts. Dask does
not interrupt a task that runs: a running step that fans out (model selection)
notices and cancels its pieces, while a single long call ends on its worker.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sluice.config import Settings
from sluice.data.cluster import check_scheduler
from sluice.errors import ClusterError, ConfigError, SluiceError
from sluice.pipelines.executors import Executor
from sluice.pipelines.task import StepOutcome, StepTask, run_task

if TYPE_CHECKING:
    from sluice.workspace import Workspace

ADDRESS_ENV = "SLUICE_DASK_ADDRESS"
_TOPIC = "sluice-step-"
_POLL = 0.2  # seconds between looks at a running step's attempts


def _client_class() -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(
            "executor 'dask' needs Dask distributed, which is not installed. Install it with "
            "`pip install 'sluice[dask]'`, or use the default executor 'local'."
        ) from exc
    return Client


class DaskExecutor(Executor):
    """Places each step on a Dask cluster.

    Give the scheduler's ``address`` (``tcp://HOST:PORT``; default: the
    SLUICE_DASK_ADDRESS environment variable), a ``client`` already connected, or
    ``local_workers`` to start a cluster of that many single-threaded worker
    processes on this machine for the life of the executor.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        local_workers: int | None = None,
        client: Any = None,
        timeout: float = 30,
    ) -> None:
        self._own: list[Any] = []  # what close() closes: our client, our local cluster
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._cancelled: set[str] = set()  # keys of the steps cancel() stopped
        if client is not None:
            self.client = client
        elif local_workers is not None:
            self.client = self._local(local_workers)
        else:
            self.client = self._connect(address or os.environ.get(ADDRESS_ENV), timeout)
            self._own.append(self.client)
        try:
            self.address = str(self.client.scheduler.address)
            self.slots = max(2, sum(self.client.nthreads().values()))
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"

    def execute(self, task: StepTask, ws: Workspace) -> StepOutcome:
        from distributed import KilledWorker

        key = f"{_TOPIC}{task.step_run_id}"
        with self._lock:  # submitted and registered at once: cancel() sees it or came before
            future = self.client.submit(
                _run_on_worker, task, ws.settings, key=key, pure=False, retries=0
            )
            self._futures[key] = future
        try:
            outcome = self._wait(future, task, key)
        except KilledWorker as exc:
            outcome = self._lost(task, key, f"Dask gave up on the step: {exc}")
        except CancelledError as exc:
            if key in self._cancelled:
                raise
            raise _not_run(task, exc) from exc  # the cluster dropped it: a lost scheduler
        except SluiceError:
            raise  # said on the worker, with its own advice (a store it cannot open)
        except Exception as exc:  # the task never ran its step: run_task returns failures
            raise _not_run(task, exc) from exc
        finally:
            with self._lock:
                self._futures.pop(key, None)
                self._cancelled.discard(key)
        return outcome

    def cancel(self) -> None:
        """Cancel the steps in flight; a later run on this executor starts afresh."""
        with self._lock:
            self._cancelled |= set(self._futures)
            futures = list(self._futures.values())
        if futures:
            self.client.cancel(futures, force=True)

    def close(self) -> None:
        for held in self._own:
            held.close()
        self._own.clear()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, future: Any, task: StepTask, key: str) -> StepOutcome:
        from distributed import TimeoutError as DaskTimeout

        while True:
            try:
                outcome: StepOutcome = future.result(timeout=_POLL)
                break
            except (DaskTimeout, TimeoutError):
                if key in self._cancelled:
                    raise CancelledError(f"step '{task.node}' was cancelled") from None
                if len(self._starts(key)) - 1 > task.step.retries:
                    self.client.cancel([future], force=True)
                    return self._lost(task, key, "the step lost more workers than it may retry")
        starts = self._starts(key)
        if len(starts) <= 1:
            return outcome
        lost = [_lost_line(s) for s in starts[:-1]]
        return replace(
            outcome,
            attempts=outcome.attempts + len(lost),
            log="\n".join([*lost, outcome.log]).strip(),
        )

    def _lost(self, task: StepTask, key: str, why: str) -> StepOutcome:
        starts = self._starts(key)
        summary = (
            f"WorkerLost: step '{task.node}' started {len(starts)} time(s) and each time its "
            f"worker died ({why}; retries allowed: {task.step.retries}). Look at the workers' "
            "logs for the cause (memory limit, a crash in native code), then resume the run."
        )
        now = time.time()
        first = starts[0]["at"] if starts else now
        return StepOutcome(
            {},
            "\n".join(_lost_line(s) for s in starts),
            len(starts),
            first,
            now,
            now - first,
            starts[-1]["where"] if starts else self.address,
            summary,
            summary,
        )

    def _starts(self, key: str) -> list[dict[str, Any]]:
        return [msg for _, msg in self.client.get_events(key)]

    def _connect(self, address: str | None, timeout: float) -> Any:
        if not address:
            raise ConfigError(
                "executor 'dask' needs the scheduler's address: set executor: {dask: {address: "
                f"tcp://HOST:PORT}}}} in sluice.yaml or {ADDRESS_ENV}, or ask for a cluster on "
                "this machine with executor: {dask: {local_workers: 2}}."
            )
        client_class = _client_class()
        check_scheduler(address)
        try:
            return client_class(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"Could not reach the Dask scheduler at {address} within {timeout:g} s ({exc}). "
                "Check that `dask scheduler` runs there and the address is right, or use "
                "executor: {dask: {local_workers: 2}} for a cluster on this machine."
            ) from exc

    def _local(self, workers: int) -> Any:
        if workers < 1:
            raise ConfigError(f"executor dask: local_workers must be 1 or more; got {workers}.")
        client_class = _client_class()
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )
        try:
            client = client_class(cluster)
        except BaseException:
            cluster.close()
            raise
        self._own += [client, cluster]
        return client


def _lost_line(start: dict[str, Any]) -> str:
    when = time.strftime("%H:%M:%S", time.gmtime(start["at"]))
    return f"{when} attempt started on {start['where']}; that worker was lost"


_workspaces: dict[Settings, Workspace] = {}
_workspaces_lock = threading.Lock()


@contextmanager
def _workspace(settings: Settings) -> Iterator[Workspace]:
    """The worker's workspace for these settings, opened once per worker process."""
    from sluice.workspace import Workspace

    with _workspaces_lock:
        if settings not in _workspaces:
            _workspaces[settings] = Workspace(settings)
        ws = _workspaces[settings]
    yield ws


def _not_run(task: StepTask, exc: Exception) -> ClusterError:
    """The cluster could not run a step's task at all: say why, and what to change."""
    said = " ".join(str(exc).split())
    if isinstance(exc, ImportError) or "deserializ" in said:
        fix = (
            f"The scheduler and every worker must import the step's module "
            f"({task.step.fn.__module__}): start them with the project on PYTHONPATH, or "
            "install it where they run."
        )
    else:
        fix = "Check the scheduler's and the workers' logs, then run again."
    return ClusterError(
        f"Expected the cluster to run step '{task.node}'; it could not "
        f"({type(exc).__name__}: {said}). {fix}"
    )


def _run_on_worker(task: StepTask, settings: Settings) -> StepOutcome:
    from distributed import get_worker

    worker = get_worker()
    where = f"{worker.address} ({socket.gethostname()})"
    worker.log_event(f"{_TOPIC}{task.step_run_id}", {"where": where, "at": time.time()})
    with _workspace(settings) as ws:
        outcome = run_task(task, ws)
    return replace(outcome, host=where)
