"""Where selection's independent pieces of work run: here, or as tasks on a Dask cluster.

A :class:`FanOut` does three things: ``share`` data every task reads, ``submit`` a
function (its arguments may be values an earlier ``submit`` returned) and give the
``result`` of one. :class:`Serial` runs a piece when its result is first asked for,
so a caller that reads candidate by candidate sees each as soon as it is done.
:class:`DaskFanOut` submits every piece at once and the cluster runs them where it
can; the caller still reads results in its own order, in its own process.

:func:`fan_out` picks one from what the caller passed as ``cluster``:

``None``
    inside a task on a Dask worker (the pipeline engine runs steps there), the
    worker's own cluster: ``worker_client()`` takes the waiting thread out of the
    worker's pool, so a worker with one thread does not deadlock; anywhere else,
    serial. A plain local run never connects anywhere on its own.
``"serial"``
    serial, even on a worker.
an address (``"tcp://10.0.0.5:8786"``)
    a client connected to that scheduler for the call, closed afterwards.
a ``distributed.Client``
    that client, left open.
a :class:`FanOut`
    itself.

Dask is imported only on the last three paths (and never by :class:`Serial`); it is
the optional extra ``sluice[dask]``.
"""

from __future__ import annotations

import abc
import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from sluice.errors import ClusterError

INSTALL_HINT = "pip install 'sluice[dask]'"
WATCH_SECONDS = 0.5  # how often a fan-out inside a task looks whether it was cancelled


class FanOut(abc.ABC):
    """The contract: share, submit, result. ``trial_backend`` is the joblib backend a
    task should hand its own inner loops to (a search's trials), or None to keep them."""

    name: str = "fanout"
    trial_backend: str | None = None

    @abc.abstractmethod
    def share(self, value: Any) -> Any:
        """A handle to ``value`` that tasks can take as an argument."""

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        """``fn(*args)`` as a piece of work; ``key`` names it (unique per call is not needed)."""

    @abc.abstractmethod
    def result(self, pending: Any) -> Any:
        """The value of a piece of work, waiting for it; raises what the work raised."""


class _Deferred:
    __slots__ = ("args", "done", "fn", "value")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn, self.args, self.done, self.value = fn, args, False, None

    def get(self) -> Any:
        if not self.done:
            args = [a.get() if isinstance(a, _Deferred) else a for a in self.args]
            self.value, self.done, self.args = self.fn(*args), True, ()
        return self.value


class Serial(FanOut):
    """Every piece in the calling thread, when its result is first asked for."""

    name = "serial"

    def share(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        return _Deferred(fn, args)

    def result(self, pending: Any) -> Any:
        return pending.get()


class DaskFanOut(FanOut):
    """Every piece a task on the cluster of ``client``, run under the caller's OpenMP limit.

    Task keys are ``sluice-KEY-<hex>``, so a task stream shows which was which.
    Pieces not yet read when :meth:`close` is called are cancelled. Inside a task on
    a worker (``parent`` is its key), cancelling that task cancels the pieces too:
    :meth:`result` notices it while it waits and raises ``CancelledError``.
    """

    name = "dask"
    trial_backend = "dask"

    def __init__(self, client: Any, openmp_threads: int = 1, parent: Any = None) -> None:
        self.client = client
        self.openmp_threads = openmp_threads
        self.parent = parent
        self._worker = _this_worker() if parent is not None else None
        self._futures: list[Any] = []

    def share(self, value: Any) -> Any:
        # on every worker: a task then runs wherever a thread is free, not only where
        # the data happens to be (every worker fitting a fold needs the data anyway)
        future = self.client.scatter(value, hash=False, broadcast=True)
        self._futures.append(future)
        return future

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        future = self.client.submit(
            _limited,
            self.openmp_threads,
            fn,
            *args,
            key=f"sluice-{key}-{uuid.uuid4().hex}",
            pure=False,
        )
        self._futures.append(future)
        return future

    def result(self, pending: Any) -> Any:
        from distributed.scheduler import KilledWorker

        try:
            return pending.result() if self.parent is None else self._watching(pending)
        except KilledWorker as exc:
            raise ClusterError(
                f"Expected the task {pending.key!r} to finish; the workers running it died "
                f"({exc}). Check the workers' memory and logs, then run again."
            ) from exc

    def _watching(self, pending: Any) -> Any:
        """Wait for ``pending`` while the parent task is not cancelled."""
        import distributed

        while not _cancelled(self._worker, self.parent):  # the worker's state: no round trip
            try:
                distributed.wait([pending], timeout=WATCH_SECONDS)  # a wait, not a transfer
            except (distributed.TimeoutError, TimeoutError):
                continue
            try:
                return pending.result()
            except CancelledError as exc:  # dropped by the cluster, not by us
                if _cancelled(self._worker, self.parent):
                    break
                raise ClusterError(
                    f"Expected the task {pending.key!r} to finish; the cluster dropped it "
                    f"({exc!r}). Check that the scheduler still runs, then run again."
                ) from exc
        self.close()
        raise CancelledError(f"the task {self.parent!r} was cancelled, and with it its pieces")

    def close(self) -> None:
        pending = [f for f in self._futures if not f.done()]
        if pending:
            self.client.cancel(pending)
        self._futures.clear()


def _this_worker() -> Any:
    from distributed import get_worker

    return get_worker()


def _cancelled(worker: Any, key: Any) -> bool:
    """Whether ``worker`` was told to drop the task ``key`` (its client cancelled it)."""
    task = worker.state.tasks.get(key)
    return task is not None and task.state == "cancelled"


def _limited(threads: int, fn: Callable[..., Any], *args: Any) -> Any:
    from sluice.models.threads import openmp_threads

    with openmp_threads(threads):
        return fn(*args)


def in_dask_worker() -> bool:
    """True inside a task a Dask worker runs (never imports Dask to find out)."""
    if "distributed" not in sys.modules:
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def fan_out(cluster: Any = None, *, openmp_threads: int = 1) -> Iterator[FanOut]:
    """The :class:`FanOut` for ``cluster`` (see the module's docstring), for a ``with`` block."""
    if isinstance(cluster, FanOut):
        yield cluster
    elif (
        cluster == "serial"
        if isinstance(cluster, str)
        else cluster is None and not in_dask_worker()
    ):
        yield Serial()
    elif cluster is None:
        from distributed import get_worker, worker_client

        parent = get_worker().get_current_task()
        with worker_client() as client:
            yield from _dask(client, openmp_threads, parent)
    elif isinstance(cluster, str):
        with _connect(cluster) as client:
            yield from _dask(client, openmp_threads)
    elif _is_client(cluster):
        yield from _dask(cluster, openmp_threads)
    else:
        raise ClusterError(
            "Expected cluster to be None, 'serial', a scheduler address such as "
            f"'tcp://10.0.0.5:8786', a distributed.Client or a FanOut; got "
            f"{type(cluster).__name__} {cluster!r}."
        )


def _dask(client: Any, openmp_threads: int, parent: Any = None) -> Iterator[FanOut]:
    fanout = DaskFanOut(client, openmp_threads, parent)
    try:
        yield fanout
    finally:
        fanout.close()


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError(
            "Expected dask.distributed to fan candidates out over a cluster; it is not "
            f"installed. Install it with {INSTALL_HINT}, or leave 'cluster' unset to run "
            "here, one candidate after another."
        ) from exc
    return distributed


@contextlib.contextmanager
def _connect(address: str) -> Iterator[Any]:
    from sluice.data.cluster import check_scheduler

    distributed = _require_distributed()
    check_scheduler(address)
    try:
        client = distributed.Client(address, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"Expected a Dask scheduler at {address!r}; could not connect: {exc}. "
            "Start one (dask scheduler) or fix the address; pass 'serial' to run here."
        ) from exc
    with client:
        yield client


def _is_client(value: Any) -> bool:
    """A Client exists only once distributed is imported: no import to find out."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(value, distributed.Client)
