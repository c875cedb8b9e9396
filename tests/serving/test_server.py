"""The real server over HTTP: every endpoint, every kind of refusal, classifiers, batching."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import numpy as np
import pytest

from sluice.registry import LoadedModel, load_model
from sluice.workspace import Workspace
from tests.serving.conftest import Models, Server, records

pytestmark = pytest.mark.slow  # starts real servers (a few seconds each)
HEX32 = re.compile(r"[0-9a-f]{32}")


def loaded(models: Models, uri: str) -> LoadedModel:
    ws = Workspace.at(models.home)
    try:
        return load_model(uri, workspace=ws)
    finally:
        ws.close()


def metric(server: Server, name: str) -> float:
    """The sum of every sample of ``name`` in /metrics (0 when absent)."""
    text = server.client.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_health_ready_and_metadata(regression_server: Server) -> None:
    client = regression_server.client
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready == {
        "status": "ready",
        "model": {"name": "bike-demand", "version": 1, "uri": "models:/bike-demand/1"},
    }
    meta = client.get("/metadata").json()
    assert meta["model"] == ready["model"] and meta["task"] == "regression"
    assert meta["serving"] == "models:/bike-demand@champion"
    assert "champion" in meta["aliases"]
    names = [c["name"] for c in meta["signature"]["inputs"]]
    assert names == [
        "hr",
        "temp",
        "hum",
        "windspeed",
        "season",
        "weathersit",
        "workingday",
        "dteday",
    ]
    assert meta["lineage"]["artifact_hash"] and meta["metrics"] == {"score": 1.0}
    assert set(meta["lineage"]) >= {"dataset", "pipeline_run_id", "run_id", "git_commit"}


def test_every_shape_predicts_what_the_loaded_model_predicts(
    regression_server: Server, models: Models
) -> None:
    X = models.X[:25]
    expected = loaded(models, "models:/bike-demand/1").predict(X)
    rows = records(X)
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    for body in ({"records": rows}, rows, {"columns": columns}):
        response = regression_server.client.post("/predict", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["model"] == {
            "name": "bike-demand",
            "version": 1,
            "uri": "models:/bike-demand/1",
        }
        np.testing.assert_allclose(data["predictions"], expected, rtol=1e-12)
        ids = data["request_ids"]
        assert all(HEX32.fullmatch(i) for i in ids) and len(set(ids)) == len(ids) == len(X)
        assert data["flags"] == [[]] * len(X) and "probabilities" not in data
    one = regression_server.client.post("/predict", json={"record": rows[3]}).json()
    assert len(one["predictions"]) == len(one["request_ids"]) == 1
    assert one["predictions"][0] == pytest.approx(expected[3], rel=1e-12)


def test_server_timing_splits_the_model_call_from_the_app(
    regression_server: Server, models: Models
) -> None:
    response = regression_server.client.post("/predict", json={"records": records(models.X[:3])})
    timing = dict(
        (name, float(dur.removeprefix("dur=")))
        for name, dur in (
            part.strip().split(";") for part in response.headers["server-timing"].split(",")
        )
    )
    assert set(timing) == {"predict", "app"}
    assert 0 < timing["predict"] < timing["app"], timing
    refused = regression_server.client.post("/predict", json={"records": [{"hr": "noon"}]})
    assert refused.status_code == 422
    assert re.fullmatch(r"app;dur=\d+\.\d{3}", refused.headers["server-timing"]), "no model call"


def test_nulls_are_imputed(regression_server: Server, models: Models) -> None:
    row = records(models.X[:1])[0] | {"temp": None, "season": None, "workingday": None}
    response = regression_server.client.post("/predict", json={"record": row})
    assert response.status_code == 200, response.text
    assert np.isfinite(response.json()["predictions"][0])


@pytest.mark.parametrize(
    ("change", "kind", "message"),
    [
        (
            {"drop": "hum"},
            "missing_column",
            "Record 0: missing column 'hum'. Send every column of the signature (null for a "
            "missing value).",
        ),
        (
            {"add": ("humidity", 0.5)},
            "unknown_column",
            "Record 0: unknown column 'humidity'. The model does not read it; remove it.",
        ),
        (
            {"set": ("temp", "warm")},
            "unparseable",
            "Record 0, column 'temp': expected a number; got 'warm', which is not one.",
        ),
        (
            {"set": ("hr", {"h": 1})},
            "wrong_type",
            "Record 0, column 'hr': expected a number; got an object.",
        ),
        (
            {"set": ("weathersit", "fog")},
            "unknown_category",
            "Record 0, column 'weathersit': unknown category 'fog'; expected one of 'clear', "
            "'mist', 'rain', 'storm'. Send a category seen in training (or start the server "
            "with --unknown-categories flag).",
        ),
        (
            {"set": ("dteday", "next tuesday")},
            "unparseable",
            "Record 0, column 'dteday': expected an ISO 8601 date or date-time, e.g. "
            "2024-05-01T13:00:00; got 'next tuesday'.",
        ),
    ],
)
def test_each_problem_is_a_422_naming_record_and_column(
    regression_server: Server, models: Models, change: dict[str, Any], kind: str, message: str
) -> None:
    row = records(models.X[:1])[0]
    if "drop" in change:
        del row[change["drop"]]
    if "add" in change:
        row[change["add"][0]] = change["add"][1]
    if "set" in change:
        row[change["set"][0]] = change["set"][1]
    response = regression_server.client.post("/predict", json={"record": row})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["problems"][0]["kind"] == kind
    assert body["problems"][0]["message"] == message
    assert body["problems"][0]["record"] == 0


NASTY = [
    b"{",
    b"not json at all",
    b"\x00\xff",
    b"",
    b"null",
    b"true",
    b"3",
    b'"records"',
    b"[]",
    b"{}",
    b'{"records": null}',
    b'{"records": [null]}',
    b'{"records": [[]]}',
    b'{"record": []}',
    b'{"columns": []}',
    b'{"columns": {"hr": [1, 2], "temp": [1]}}',
    b'[{"hr": NaN}]',
    b'[{"hr": Infinity}]',
    b'[{"hr": 1e400}]',
    b'[{"hr": 123456789012345678901234567890123456789012345678901234567890e300}]',
    b'[{"hr": ' + b"9" * 5000 + b"}]",
    b'[{"hr": "Infinity", "temp": "nan"}]',
    b'[{"hr": {"nested": {"deeper": [1, 2, {"x": null}]}}}]',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"records": [{"hr": 1}], "extra": 1}',
]


def test_no_bad_input_gives_a_500(regression_server: Server) -> None:
    for raw in NASTY:
        response = regression_server.client.post(
            "/predict", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (raw[:60], response.text)
        body = response.json()
        assert body["problems"] and all(p["message"] for p in body["problems"]), raw[:60]
    assert regression_server.client.get("/ready").status_code == 200, "still serving"
    assert metric(regression_server, "sluice_requests_total") >= len(NASTY)
    assert metric(regression_server, "sluice_request_errors_total") >= len(NASTY)


def test_wrong_methods_and_paths_are_not_500(regression_server: Server) -> None:
    assert regression_server.client.get("/predict").status_code == 405
    assert regression_server.client.post("/nowhere").status_code == 404


def test_concurrent_requests_share_predict_calls(regression_server: Server, models: Models) -> None:
    rows = records(models.X[:64])
    batches_before = metric(regression_server, "sluice_batches_total")
    count_before = metric(regression_server, "sluice_batch_rows_count")

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=regression_server.url, limits=limits) as client:
            return await asyncio.gather(
                *[client.post("/predict", json={"record": r}) for r in rows]
            )

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    ids = {r.json()["request_ids"][0] for r in responses}
    assert len(ids) == len(rows)
    batches = metric(regression_server, "sluice_batches_total") - batches_before
    assert 1 <= batches < len(rows), f"{batches} predict calls for {len(rows)} requests"
    assert metric(regression_server, "sluice_batch_rows_count") - count_before == batches
    expected = loaded(models, "models:/bike-demand/1").predict(models.X[:64])
    got = [r.json()["predictions"][0] for r in responses]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_metrics_are_prometheus_text(regression_server: Server, models: Models) -> None:
    regression_server.client.post("/predict", json={"record": records(models.X[:1])[0]})
    response = regression_server.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "sluice_requests_total",
        "sluice_request_latency_seconds_bucket",
        "sluice_batches_total",
        "sluice_batch_rows_bucket",
        "sluice_prediction_value_bucket",
        'sluice_predictions_total{version="1"}',
        "sluice_model_version 1.0",
    ):
        assert name in text, name


def test_a_classifier_returns_probabilities(classifier_server: Server, models: Models) -> None:
    X = models.X[:30]
    model = loaded(models, "models:/busy-hour/1")
    expected, proba = model.predict(X), model.predict_proba(X)
    response = classifier_server.client.post("/predict", json={"records": records(X)})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["predictions"] == list(expected)
    got = np.array([[p["busy"], p["quiet"]] for p in data["probabilities"]])
    np.testing.assert_allclose(got, proba, rtol=1e-12)
    meta = classifier_server.client.get("/metadata").json()
    assert meta["classes"] == ["busy", "quiet"] and meta["task"] == "classification"
    text = classifier_server.client.get("/metrics").text
    assert 'sluice_predicted_class_total{class="busy"}' in text


def test_flag_mode_predicts_unseen_categories_and_says_so(
    classifier_server: Server, models: Models
) -> None:
    row = records(models.X[:1])[0] | {"weathersit": "fog"}
    response = classifier_server.client.post("/predict", json={"records": [row]})
    assert response.status_code == 200, response.text
    assert response.json()["flags"] == [["unseen category weathersit='fog'"]]


def test_feedback_is_accepted_and_checked(classifier_server: Server, models: Models) -> None:
    response = classifier_server.client.post("/predict", json={"record": records(models.X[:1])[0]})
    rid = response.json()["request_ids"][0]
    ok = classifier_server.client.post(
        "/feedback", json={"feedback": [{"request_id": rid, "label": "busy"}]}
    )
    assert ok.status_code == 200 and ok.json() == {"accepted": 1, "logged": True}
    bad = classifier_server.client.post(
        "/feedback", json={"feedback": [{"request_id": "nope", "label": "busy"}]}
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["message"] == (
        "Feedback 0: expected a request id as returned by /predict (32 hex characters); got 'nope'."
    )
    for raw in (b"{", b"[]", b'{"feedback": [{"request_id": 1}]}', b'{"label": 1}'):
        response = classifier_server.client.post("/feedback", content=raw)
        assert response.status_code == 422, raw


def test_regression_feedback_needs_numbers(regression_server: Server) -> None:
    response = regression_server.client.post(
        "/feedback", content=json.dumps([{"request_id": "a" * 32, "label": "many"}])
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["message"] == (
        "Feedback 0: expected a finite number as label; got 'many'."
    )


def test_an_oversized_body_is_refused_before_it_is_read(regression_server: Server) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", regression_server.port, timeout=30)
    try:
        conn.putrequest("POST", "/predict")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert body["message"] == (
        "Expected a body of at most 64 MiB; got 1,000,000,000 bytes. Split the request, or "
        "score files with `sluice predict`."
    )


def test_a_chunked_body_is_refused_once_it_passes_the_limit(regression_server: Server) -> None:
    """No Content-Length to check up front: reading stops at the limit, not at the end."""

    def chunks():
        block = b" " * (1 << 20)
        for _ in range(80):  # 80 MiB of whitespace, more than the 64 MiB allowed
            yield block

    response = regression_server.client.post(
        "/predict", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    message = response.json()["message"]
    assert message.startswith("Expected a body of at most 64 MiB; got more than ")
    assert message.endswith("bytes. Split the request, or score files with `sluice predict`.")
