"""Alerts and what they do: log, POST a signed webhook, start a retraining.

Actions are plain JSON stored with the monitor, e.g.::

    {"type": "log"}
    {"type": "webhook", "url": "https://hooks.example/sluice", "secret_env": "SLUICE_HOOK_SECRET"}
    {"type": "retrain", "config": "sluice.yaml"}

A webhook body is JSON; its HMAC-SHA256 under the shared secret (read from the
environment variable the action names, never stored) goes in
``X-Sluice-Signature: sha256=<hex>``, and the body's ``timestamp`` is repeated in
``X-Sluice-Timestamp`` so receivers can refuse replays. A failed or slow webhook
is recorded in the alert, never raised. Retraining goes through a callable the
caller passes in (the CLI passes the main job's), because monitoring sits below
the templates and must not import them; its outcome is recorded too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sluice.errors import ConfigError, did_you_mean
from sluice.monitoring.records import Monitor, MonitorResult
from sluice.registry.register import jsonable
from sluice.workspace import Workspace

LOG = logging.getLogger("sluice.monitoring")
ACTION_TYPES = ("log", "webhook", "retrain")
SIGNATURE_HEADER = "X-Sluice-Signature"
TIMESTAMP_HEADER = "X-Sluice-Timestamp"
DEFAULT_TIMEOUT = 5.0

Retrain = Callable[[Workspace, Monitor, MonitorResult], Mapping[str, Any]]
"""``retrain(ws, monitor, result) -> {"run_id", "gates_passed", "registered_version", ...}``."""


def check_actions(actions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The actions as stored; ConfigError for an unknown type or a missing field."""
    checked = []
    for action in actions:
        kind = str(action.get("type", ""))
        if kind not in ACTION_TYPES:
            raise ConfigError(
                f"Expected an alert action of type {', '.join(ACTION_TYPES)}; got {kind!r}."
                f"{did_you_mean(kind, ACTION_TYPES)}"
            )
        if kind == "webhook":
            url = str(action.get("url") or "")
            if not url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"Expected a webhook URL starting with http:// or https://; got {url!r}. "
                    "Pass for instance --webhook https://hooks.example.com/sluice."
                )
            timeout = float(action.get("timeout", DEFAULT_TIMEOUT))
            if not timeout > 0:
                raise ConfigError(f"Expected a positive webhook timeout; got {timeout!r}.")
        checked.append(dict(action))
    return checked


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``body`` under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Whether ``signature`` (a header value) is the signature of ``body`` (constant time)."""
    return hmac.compare_digest(sign(body, secret), signature)


def alert_payload(
    monitor: Monitor, result: MonitorResult, kind: str, message: str
) -> dict[str, Any]:
    summary = result.summary
    return {
        "event": "sluice.alert",
        "timestamp": time.time(),
        "monitor": monitor.name,
        "model": monitor.model_uri,
        "model_version": result.model_version,
        "kind": kind,
        "message": message,
        "status": result.status.value,
        "verdict": summary.get("verdict"),
        "result_id": result.id,
        "window": {"start": result.window_start, "end": result.window_end, "rows": result.rows},
        "report_hash": result.report_hash,
    }


def post_webhook(action: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """POST the payload; the outcome (status or error, seconds) whatever happens."""
    import urllib.error
    import urllib.request

    url = str(action["url"])
    timeout = float(action.get("timeout", DEFAULT_TIMEOUT))
    body = json.dumps(jsonable(payload), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sluice",
        TIMESTAMP_HEADER: f"{payload['timestamp']:.6f}",
    }
    outcome: dict[str, Any] = {"type": "webhook", "url": url, "ok": False}
    secret_env = action.get("secret_env")
    if secret_env:
        secret = os.environ.get(str(secret_env))
        if not secret:
            outcome["error"] = (
                f"the secret's environment variable {secret_env} is not set; nothing was sent. "
                f"Set {secret_env} where `sluice monitor run` runs."
            )
            return outcome
        headers[SIGNATURE_HEADER] = sign(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            outcome.update(ok=200 <= response.status < 300, status=response.status)
    except urllib.error.HTTPError as exc:
        outcome.update(status=exc.code, error=f"the receiver answered HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        outcome["error"] = f"could not deliver within {timeout:g} s: {reason}"
    outcome["seconds"] = round(time.perf_counter() - started, 4)
    return outcome


def run_retrain(
    retrain: Retrain | None, ws: Workspace, monitor: Monitor, result: MonitorResult
) -> dict[str, Any]:
    """Call the retrain function; its outcome, or the error it raised, as a record."""
    if retrain is None:
        return {
            "type": "retrain",
            "ok": False,
            "error": "no retrain function was given to this run; nothing was retrained. "
            "`sluice monitor run` passes the main job's; from Python pass retrain=...",
        }
    started = time.perf_counter()
    try:
        found = dict(retrain(ws, monitor, result))
    except Exception as exc:  # a failed retrain is recorded; the monitor goes on
        LOG.warning("monitor %s: retraining failed: %s", monitor.name, exc)
        return {
            "type": "retrain",
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "seconds": round(time.perf_counter() - started, 3),
        }
    return {
        "type": "retrain",
        "ok": True,
        "run_id": found.get("run_id"),
        "gates_passed": found.get("gates_passed"),
        "registered_version": found.get("registered_version", found.get("registered")),
        "detail": found,
        "seconds": round(time.perf_counter() - started, 3),
    }


class AlertActions:
    """Carries out a monitor's actions for each alert of one run.

    A retraining starts at most once per run: later alerts record that one was
    already started rather than training again for every window.
    """

    def __init__(self, ws: Workspace, monitor: Monitor, retrain: Retrain | None = None) -> None:
        self.ws = ws
        self.monitor = monitor
        self.retrain = retrain
        self.retrained: dict[str, Any] | None = None

    def act(self, result: MonitorResult, kind: str, message: str) -> list[dict[str, Any]]:
        outcomes: list[dict[str, Any]] = []
        payload = alert_payload(self.monitor, result, kind, message)
        for action in self.monitor.actions:
            outcomes.append(self._one(action, result, kind, message, payload))
        return outcomes

    def _one(
        self,
        action: Mapping[str, Any],
        result: MonitorResult,
        kind: str,
        message: str,
        payload: Mapping[str, Any],
    ) -> dict[str, Any]:
        if action["type"] == "log":
            LOG.warning("monitor %s: %s alert: %s", self.monitor.name, kind, message)
            return {"type": "log", "ok": True}
        if action["type"] == "webhook":
            return post_webhook(action, payload)
        if self.retrained is not None:
            return {
                "type": "retrain",
                "ok": True,
                "skipped": "a retraining was already started in this run",
                "run_id": self.retrained.get("run_id"),
            }
        self.retrained = run_retrain(self.retrain, self.ws, self.monitor, result)
        return self.retrained
