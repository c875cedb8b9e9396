"""One batch of requests through the model, then into the prediction log and the metrics.

Runs in the batcher's worker thread. If ``predict`` raises on a batch, its requests
are retried one by one, so a record the model cannot handle fails only its own
request (a 422 naming the record), never its neighbours'. Each answered request is
appended to the prediction log right after its answer leaves (``after``), in the
same worker thread, before the next batch: a graceful stop waits for it, so
whatever was acknowledged is logged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sluice.errors import InvalidRequest
from sluice.serving.batching import Job
from sluice.serving.parsing import Problem, build_frame

MAX_RECORDS_TO_PINPOINT = 100  # beyond this a failing request is not retried record by record


@dataclass(frozen=True, slots=True)
class Answer:
    """A job's response body and how long the model call that answered it took
    (shared by every request of its batch): the ``Server-Timing`` header's ``predict``."""

    body: bytes
    predict_seconds: float


def predict_frame(model: Any, classes: list[Any] | None, frame: Any) -> tuple[Any, Any]:
    """Predictions and, for classifiers, probabilities (columns in ``classes`` order).

    For a classifier the prediction is the most probable class: one model call
    instead of two, and what scikit-learn's own ``predict`` returns.
    """
    import numpy as np

    if classes is not None:
        proba = np.asarray(model.predict_proba(frame))
        return np.asarray(model.classes_)[proba.argmax(axis=1)], proba
    return np.asarray(model.predict(frame)), None


class BatchScorer:
    """Callable given to the MicroBatcher: jobs in, one outcome per job out.

    An outcome is the job's Answer (its JSON body and the model call's duration), or
    an InvalidRequest.
    Writing to the log waits in ``after``, which the batcher runs in
    the same thread once the answers are on their way: the log gets every answered
    prediction before the batcher (and so the app) can stop, at no cost in latency.
    """

    def __init__(self, metrics: Any, log: Any | None) -> None:
        self.metrics = metrics
        self.log = log
        self._deferred: list[tuple[Any, ...]] = []

    def after(self) -> None:
        """Append the batches predicted since the last call to the prediction log."""
        deferred, self._deferred = self._deferred, []
        for args in deferred:
            self._record(*args)

    def __call__(self, jobs: Sequence[Job]) -> list[Any]:
        served = jobs[0].served
        columns = _merge(jobs)
        try:
            frame = build_frame(served.plan, columns)
            started = time.perf_counter()
            pred, proba = predict_frame(served.loaded.model, served.classes, frame)
            seconds = time.perf_counter() - started
        except Exception as exc:
            if len(jobs) > 1:
                return [self([job])[0] for job in jobs]
            return [self._pinpoint(jobs[0], exc)]
        flags = [f for job in jobs for f in job.parsed.flags]
        ids = [uuid.uuid4().hex for _ in range(len(flags))]
        self.metrics.observe_batch(len(ids))
        self.metrics.observe_predictions(served.version, pred, served.classes is not None)
        self._deferred.append((served, frame, ids, pred, proba, flags))
        return [Answer(b, seconds) for b in self._bodies(served, jobs, ids, pred, proba, flags)]

    def _record(
        self, served: Any, frame: Any, ids: list[str], pred: Any, proba: Any, flags: list[str]
    ) -> None:
        if self.log is not None:
            self.log.append(
                frame,
                request_ids=ids,
                model_version=served.version,
                predictions=pred,
                probabilities=proba,
                classes=served.classes,
                flags=flags,
                timestamp=time.time(),
            )

    def _bodies(
        self,
        served: Any,
        jobs: Sequence[Job],
        ids: list[str],
        pred: Any,
        proba: Any,
        flags: list[str],
    ) -> list[bytes]:
        model = {"name": served.name, "version": served.version, "uri": served.loaded.uri}
        values = pred.tolist()
        rows = proba.tolist() if proba is not None else None
        classes = [str(c) for c in served.classes] if served.classes is not None else None
        out: list[bytes] = []
        start = 0
        for job in jobs:
            end = start + job.n
            body: dict[str, Any] = {
                "model": model,
                "request_ids": ids[start:end],
                "predictions": values[start:end],
            }
            if rows is not None and classes is not None:
                body["probabilities"] = [
                    dict(zip(classes, r, strict=True)) for r in rows[start:end]
                ]
            body["flags"] = [f.split(";") if f else [] for f in flags[start:end]]
            out.append(json.dumps(body).encode())
            start = end
        return out

    def _pinpoint(self, job: Job, exc: Exception) -> InvalidRequest:
        """The records of a failing request that the model cannot predict, as problems."""
        served = job.served
        columns = job.parsed.columns
        failing: list[tuple[int | None, str]] = []
        if job.n == 1 or job.n > MAX_RECORDS_TO_PINPOINT:
            failing.append((0 if job.n == 1 else None, _why(exc)))
        else:
            for i in range(job.n):
                one = {name: [values[i]] for name, values in columns.items()}
                try:
                    predict_frame(
                        served.loaded.model, served.classes, build_frame(served.plan, one)
                    )
                except Exception as one_exc:
                    failing.append((i, _why(one_exc)))
            if not failing:  # only fails together: report the request as a whole
                failing.append((None, _why(exc)))
        problems = [
            Problem(
                "prediction_failed",
                f"Record {i}: the model could not predict it ({why})."
                if i is not None
                else f"The model could not predict these records ({why}).",
                i,
                None,
                "values the model can predict from",
            ).to_dict()
            for i, why in failing
        ]
        return InvalidRequest(
            f"The model {served.loaded.uri} could not predict {len(failing)} of {job.n} "
            f"record(s); nothing was predicted. {problems[0]['message']}",
            problems,
        )


def _why(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _merge(jobs: Sequence[Job]) -> dict[str, list[Any]]:
    if len(jobs) == 1:
        return jobs[0].parsed.columns  # type: ignore[no-any-return]
    merged: dict[str, list[Any]] = {name: [] for name in jobs[0].parsed.columns}
    for job in jobs:
        for name, values in job.parsed.columns.items():
            merged[name].extend(values)
    return merged
