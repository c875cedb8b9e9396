"""Adaptive micro-batching: requests that arrive together share one ``predict`` call.

A scikit-learn ``predict`` costs nearly the same for one row as for a hundred, so
under load the server predicts many requests at once. There is no fixed wait:
one worker thread predicts, and while it does the requests that arrive queue up;
when it is free it takes everything queued (up to ``max_rows``). Only when the
last batch already held several requests (so more are likely on their way) does
it wait, at most ``max_wait`` seconds, to fill the batch. A lone request at
concurrency 1 therefore goes to the model at once.

A batch holds the requests of one model version only (each request carries the
version it was checked against), so a reload never mixes versions in a call.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sluice.errors import SluiceError

log = logging.getLogger("sluice.serving")


class BatcherClosed(SluiceError):
    """The server is shutting down and takes no new predictions."""

    exit_code = 1


@dataclass(eq=False)
class Job:
    """One request's checked records waiting for the model."""

    served: Any  # holder.Served: the version the records were checked against
    parsed: Any  # parsing.Parsed
    future: asyncio.Future[Any] = field(repr=False)

    @property
    def n(self) -> int:
        return int(self.parsed.n)


Scorer = Callable[[Sequence[Job]], list[Any]]
"""Runs in the worker thread: one outcome per job (a result, or an exception to raise).
A scorer may also have an ``after()`` method, run in the same thread once the outcomes
are delivered (for work the answers need not wait for)."""


class MicroBatcher:
    def __init__(self, scorer: Scorer, *, max_rows: int = 256, max_wait: float = 0.002) -> None:
        self._scorer = scorer
        self._after: Callable[[], None] | None = getattr(scorer, "after", None)
        self._max_rows = max_rows
        self._max_wait = max_wait
        self._pending: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._last_jobs = 1
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sluice-predict")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sluice-batcher")

    async def submit(self, served: Any, parsed: Any) -> Any:
        """The outcome for these records once their batch is predicted (or its exception)."""
        if self._closing:
            raise BatcherClosed("The server is shutting down; send the request again elsewhere.")
        job = Job(served, parsed, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wake.set()
        return await job.future

    async def close(self) -> None:
        """Predict everything already submitted, then stop the worker thread."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch(loop)
            if batch is None:
                return
            self._last_jobs = len(batch)
            try:
                outcomes = await loop.run_in_executor(self._executor, self._scorer, batch)
            except Exception as exc:  # a bug or the log failing: every job hears of it
                outcomes = [exc] * len(batch)
            for job, outcome in zip(batch, outcomes, strict=True):
                if job.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)
            if self._after is not None:  # e.g. logging, once the answers are on their way
                try:
                    await loop.run_in_executor(self._executor, self._after)
                except Exception:
                    log.exception("after a batch")

    async def _next_batch(self, loop: asyncio.AbstractEventLoop) -> list[Job] | None:
        while not self._pending:
            if self._closing:
                return None
            self._wake.clear()
            await self._wake.wait()
        batch = [self._pending.popleft()]
        rows = self._take(batch, batch[0].n)
        if self._last_jobs > 1 and self._max_wait > 0:
            deadline = loop.time() + self._max_wait
            while rows < self._max_rows and not self._closing and self._same_version_next(batch):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), remaining)
                except TimeoutError:
                    break
                rows = self._take(batch, rows)
        return batch

    def _same_version_next(self, batch: list[Job]) -> bool:
        """Whether waiting could still add to this batch (nothing of another version queued)."""
        return not self._pending or self._pending[0].served is batch[0].served

    def _take(self, batch: list[Job], rows: int) -> int:
        """Move queued jobs of the same version into ``batch`` while they fit."""
        served = batch[0].served
        while self._pending:
            nxt = self._pending[0]
            if nxt.served is not served or rows + nxt.n > self._max_rows:
                break
            batch.append(self._pending.popleft())
            rows += nxt.n
        return rows
