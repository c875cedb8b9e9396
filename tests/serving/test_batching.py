"""The micro-batcher and the batch scorer in one process, with real models and a real log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from sluice.errors import InvalidRequest
from sluice.predictions import PredictionLog, read_predictions
from sluice.registry import load_model
from sluice.serving.batching import BatcherClosed, Job, MicroBatcher
from sluice.serving.holder import Served
from sluice.serving.metrics import ServingMetrics
from sluice.serving.scoring import BatchScorer
from sluice.serving.settings import ServeSettings
from sluice.workspace import Workspace
from tests.serving.conftest import Models, records


@pytest.fixture
def ws(models: Models) -> Iterator[Workspace]:
    workspace = Workspace.at(models.home)
    yield workspace
    workspace.close()


def served(ws: Workspace, uri: str, **kw: Any) -> Served:
    return Served.of(load_model(uri, workspace=ws), ServeSettings(uri=uri, **kw))


class Recording:
    """The real scorer, noting which version and how many jobs each batch held."""

    def __init__(self, scorer: BatchScorer) -> None:
        self.scorer = scorer
        self.batches: list[tuple[int, int]] = []

    def __call__(self, jobs: Sequence[Job]) -> list[Any]:
        self.batches.append((jobs[0].served.version, len(jobs)))
        assert len({id(j.served) for j in jobs}) == 1, "one version per batch"
        return self.scorer(jobs)


def run(
    scorer: Any, submissions: list[tuple[Served, bytes]], **kw: Any
) -> list[dict[str, Any] | BaseException]:
    async def main() -> list[Any]:
        batcher = MicroBatcher(scorer, **kw)
        batcher.start()
        try:
            tasks = [batcher.submit(s, s.plan.parse(body)) for s, body in submissions]
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await batcher.close()
        return [r if isinstance(r, BaseException) else json.loads(r.body) for r in results]

    return asyncio.run(main())


def body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps({"records": rows}).encode()


def test_concurrent_jobs_share_a_call_and_never_mix_versions(ws: Workspace, models: Models) -> None:
    v1 = served(ws, "models:/bike-reload/1")
    v2 = served(ws, "models:/bike-reload/2")
    rows = records(models.X[:12])
    subs = [(v1 if i < 4 or i >= 8 else v2, body([r])) for i, r in enumerate(rows)]
    recording = Recording(BatchScorer(ServingMetrics(), None))
    results = run(recording, subs)
    versions = [r["model"]["version"] for r in results]  # type: ignore[index]
    assert versions == [1] * 4 + [2] * 4 + [1] * 4
    assert recording.batches == [(1, 4), (2, 4), (1, 4)]
    for s, start in ((v1, 0), (v2, 4)):
        expected = s.loaded.predict(models.X[start : start + 4])
        got = [r["predictions"][0] for r in results[start : start + 4]]  # type: ignore[index]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_batches_are_cut_at_max_rows(ws: Workspace, models: Models) -> None:
    v1 = served(ws, "models:/bike-reload/1")
    rows = records(models.X[:10])
    recording = Recording(BatchScorer(ServingMetrics(), None))
    run(recording, [(v1, body(rows[i : i + 2])) for i in range(0, 10, 2)], max_rows=4)
    assert recording.batches == [(1, 2), (1, 2), (1, 1)]


def test_a_record_the_model_cannot_predict_fails_only_its_request(
    ws: Workspace, models: Models
) -> None:
    """In flag mode an unseen category reaches a strict encoder, which raises for that row."""
    strict = served(ws, "models:/strict/1", unknown_categories="flag")
    rows = [{k: r[k] for k in ("temp", "hum", "weathersit")} for r in records(models.X[:6])]
    bad = [rows[0], rows[1] | {"weathersit": "fog"}, rows[2]]
    metrics = ServingMetrics()
    results = run(
        BatchScorer(metrics, None),
        [(strict, body([r])) for r in rows[3:]] + [(strict, body(bad))],
    )
    assert all(isinstance(r, dict) for r in results[:3])
    failed = results[3]
    assert isinstance(failed, InvalidRequest)
    assert [(p["record"], p["kind"]) for p in failed.problems] == [(1, "prediction_failed")]
    assert failed.problems[0]["message"].startswith("Record 1: the model could not predict it (")
    assert "fog" in failed.problems[0]["message"]


def test_every_answered_job_is_in_the_log_when_the_batcher_stops(
    ws: Workspace, models: Models
) -> None:
    v1 = served(ws, "models:/bike-reload/1")
    log = PredictionLog(ws, "bike-reload", flush_interval=60)
    before = len(read_predictions(ws, "bike-reload"))
    try:
        results = run(BatchScorer(ServingMetrics(), log), [(v1, body(records(models.X[:5])))])
        assert log.pending == 5, "appended when the batcher stopped, written later"
    finally:
        log.close()
    window = read_predictions(ws, "bike-reload")
    ids = results[0]["request_ids"]  # type: ignore[index]
    assert len(window) == before + 5
    assert set(ids) <= set(window.meta["request_id"])


def test_a_closed_batcher_refuses_new_work(ws: Workspace, models: Models) -> None:
    v1 = served(ws, "models:/bike-reload/1")

    async def main() -> None:
        batcher = MicroBatcher(BatchScorer(ServingMetrics(), None))
        batcher.start()
        await batcher.close()
        with pytest.raises(BatcherClosed, match="shutting down"):
            await batcher.submit(v1, v1.plan.parse(body(records(models.X[:1]))))

    asyncio.run(main())


def test_an_app_without_a_model_is_not_ready() -> None:
    """Before its startup has loaded a model (or after shutdown), the app says so: 503."""
    import httpx

    from sluice.serving.app import create_app

    app = create_app(ServeSettings(uri="models:/bike-demand@champion"))

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # no lifespan: nothing is loaded
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return [
                await client.get("/health"),
                await client.get("/ready"),
                await client.post("/predict", json={"record": {}}),
                await client.get("/metadata"),
            ]

    health, ready, predict, metadata = asyncio.run(main())
    assert health.status_code == 200
    assert (ready.status_code, predict.status_code, metadata.status_code) == (503, 503, 503)
    assert ready.json() == {
        "error": "not_ready",
        "message": "No model is loaded for models:/bike-demand@champion (the app is starting "
        "or stopping). Try again in a moment.",
    }
