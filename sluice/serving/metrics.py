"""Prometheus metrics of one app, in a registry of its own (two apps in a process never mix).

Names: ``sluice_requests_total{endpoint,status}``, ``sluice_request_errors_total{endpoint,
kind}``, ``sluice_request_latency_seconds{endpoint}``, ``sluice_batches_total``,
``sluice_batch_rows`` (records per predict call), ``sluice_predictions_total{version}``,
``sluice_prediction_value`` (regression) or ``sluice_predicted_class_total{class}``
(classification), ``sluice_model_version`` and ``sluice_model_reloads_total``.
With ``--workers N`` each worker counts its own requests.
"""

from __future__ import annotations

from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_DECADES = tuple(10.0**k for k in range(0, 7))
VALUE_BUCKETS = (*sorted(-d for d in _DECADES), 0.0, *_DECADES)


class ServingMetrics:
    """The counters and histograms the app updates; ``render()`` is the /metrics body."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sluice_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.errors = Counter(
            "sluice_request_errors",
            "Requests answered with an error, by endpoint and kind",
            ["endpoint", "kind"],
            registry=r,
        )
        self.latency = Histogram(
            "sluice_request_latency_seconds",
            "Time from request to response, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batches = Counter("sluice_batches", "Calls of the model's predict", registry=r)
        self.batch_rows = Histogram(
            "sluice_batch_rows", "Records per predict call", buckets=BATCH_BUCKETS, registry=r
        )
        self.predictions = Counter(
            "sluice_predictions", "Records predicted, by model version", ["version"], registry=r
        )
        self.values = Histogram(
            "sluice_prediction_value",
            "Predicted values (regression)",
            buckets=VALUE_BUCKETS,
            registry=r,
        )
        self.classes = Counter(
            "sluice_predicted_class", "Predicted classes (classification)", ["class"], registry=r
        )
        self.version = Gauge("sluice_model_version", "The model version being served", registry=r)
        self.reloads = Counter(
            "sluice_model_reloads", "Times a new model version was swapped in", registry=r
        )

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_error(self, endpoint: str, kind: str) -> None:
        self.errors.labels(endpoint, kind).inc()

    def observe_batch(self, rows: int) -> None:
        self.batches.inc()
        self.batch_rows.observe(rows)

    def observe_predictions(self, version: int, predictions: Any, classifier: bool) -> None:
        """Count the records and their distribution: a histogram or a count per class."""
        self.predictions.labels(str(version)).inc(len(predictions))
        if classifier:
            import numpy as np

            labels, counts = np.unique(np.asarray(predictions).astype(str), return_counts=True)
            for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
                self.classes.labels(label).inc(count)
        else:
            for value in predictions.tolist():
                self.values.observe(value)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
