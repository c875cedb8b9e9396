"""Serving: the prediction app over HTTP, request checks against the signature, batch scoring.

``sluice serve models:/NAME@ALIAS`` runs :func:`sluice.serving.app.create_app` on uvicorn;
``sluice predict`` runs :func:`sluice.serving.batch.score_file`. The HTTP API:

``POST /predict``
    Body: ``{"records": [{col: value, ...}, ...]}``, ``{"record": {...}}``,
    ``{"columns": {col: [values...], ...}}`` or a bare list of records. Answer (200)::

        {"model": {"name": "bike-demand", "version": 3, "uri": "models:/bike-demand/3"},
         "request_ids": ["<32 hex>", ...], "predictions": [41.7, ...],
         "probabilities": [{"busy": 0.8, "quiet": 0.2}, ...],   # classifiers only
         "flags": [[], ["unseen category season='autumn'"], ...]}

    ``null`` is a missing value (imputed). Bad input: 422 with
    ``{"error": "invalid_request", "message": ..., "problems": [{"record": i, "column": c,
    "kind": k, "expected": ..., "message": ...}, ...]}``; kinds: malformed_json,
    wrong_shape, empty, too_many_records, missing_column, unknown_column, wrong_type,
    unparseable, not_finite, unknown_category, prediction_failed. A request is all or
    nothing: one bad record refuses the request, never its neighbours in a batch.
``POST /feedback``
    ``{"feedback": [{"request_id": "<32 hex>", "label": ...}, ...]}`` -> ``{"accepted": n,
    "logged": true}``.
``GET /health``, ``GET /ready`` (503 without a model), ``GET /metadata`` (``model``,
``signature``, ``lineage``, ``metrics``...), ``GET /metrics`` (Prometheus),
``POST /admin/reload`` -> ``{"previous": 2, "current": 3, "changed": true}``.
"""
