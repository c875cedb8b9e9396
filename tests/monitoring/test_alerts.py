"""Alerts and their actions against real receivers: a webhook server on loopback, a
retrain function that records its calls. Failures are recorded, never raised."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sluice.errors import ConfigError
from sluice.monitoring import (
    Monitor,
    MonitorResult,
    MonitorSettings,
    alerts_of,
    create_monitor,
    run_monitor,
    sign,
    verify,
)
from sluice.monitoring.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_actions
from sluice.workspace import Workspace
from tests.monitoring.bikes import AUG_2012, MODEL, july_2012, log_rows, register, trained_2011

# Only performance decay alerts: one per week closed by 1 August 2012 (weeks start on
# Thursdays, as 1 January 1970 did): four.
DECAY_ONLY = MonitorSettings(alert_on=("performance_decay",))


@pytest.fixture(scope="module")
def summer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("alerts")
    ws = Workspace.at(folder / "home")
    register(ws, trained_2011(), folder)
    log_rows(ws, trained_2011().model, july_2012(), feedback=True)
    yield ws
    ws.close()


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                time.sleep(delay)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sluice"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_a_webhook_receives_each_alert_signed_with_the_shared_secret(
    summer: Workspace, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    hook = {"type": "webhook", "url": receiver.url, "secret_env": "HOOK_SECRET"}
    create_monitor(summer, "hooked", model=MODEL, window="1w", settings=DECAY_ONLY, actions=[hook])
    outcome = run_monitor(summer, "hooked", now=AUG_2012)
    assert len(outcome.alerts) == 4
    assert len(receiver.requests) == 4
    for (headers, body), alert in zip(receiver.requests, outcome.alerts, strict=True):
        assert verify(body, "s3cret", headers[SIGNATURE_HEADER])
        assert not verify(body, "wrong", headers[SIGNATURE_HEADER])
        assert headers[SIGNATURE_HEADER] == sign(body, "s3cret")
        payload = json.loads(body)
        assert headers[TIMESTAMP_HEADER] == f"{payload['timestamp']:.6f}"
        assert payload["monitor"] == "hooked"
        assert payload["model"] == "models:/bike-demand@champion"
        assert payload["kind"] == "performance_decay"
        assert payload["message"] == alert.message
        assert payload["result_id"] == alert.result_id
        assert alert.actions[0] == {
            "type": "webhook",
            "url": receiver.url,
            "ok": True,
            "status": 200,
            "seconds": alert.actions[0]["seconds"],
        }


def test_webhook_failures_are_recorded_not_raised(summer: Workspace) -> None:
    failing, slow = Receiver(status=500), Receiver(delay=1.0)
    closed = Receiver()
    closed.close()  # nothing listens on its port any more
    actions = [
        {"type": "webhook", "url": failing.url},
        {"type": "webhook", "url": slow.url, "timeout": 0.2},
        {"type": "webhook", "url": closed.url, "timeout": 0.5},
        {"type": "webhook", "url": failing.url, "secret_env": "SLUICE_NO_SUCH_SECRET"},
    ]
    create_monitor(
        summer, "failing", model=MODEL, window="1w", settings=DECAY_ONLY, actions=actions
    )
    started = time.perf_counter()
    outcome = run_monitor(summer, "failing", now=AUG_2012)
    assert time.perf_counter() - started < 20
    assert len(outcome.results) == 4 and len(outcome.alerts) == 4
    stored = alerts_of(summer, outcome.monitor)
    server_error, too_slow, refused, unsigned = stored[0].actions
    assert server_error["ok"] is False and server_error["status"] == 500
    assert server_error["error"] == "the receiver answered HTTP 500"
    assert too_slow["ok"] is False and too_slow["error"].startswith(
        "could not deliver within 0.2 s"
    )
    assert refused["ok"] is False and refused["error"].startswith("could not deliver within 0.5 s")
    assert unsigned == {
        "type": "webhook",
        "url": failing.url,
        "ok": False,
        "error": "the secret's environment variable SLUICE_NO_SUCH_SECRET is not set; nothing "
        "was sent. Set SLUICE_NO_SUCH_SECRET where `sluice monitor run` runs.",
    }
    assert len(failing.requests) == 4, "only the first action reached it"
    failing.close()
    slow.close()


class RecordingRetrain:
    """A retrain function that records its calls and says what a real one would."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Workspace, Monitor, MonitorResult]] = []
        self.fail = fail

    def __call__(self, ws: Workspace, monitor: Monitor, result: MonitorResult) -> Mapping[str, Any]:
        self.calls.append((ws, monitor, result))
        if self.fail:
            raise RuntimeError("the training data is locked")
        return {"run_id": "f" * 32, "gates_passed": True, "registered_version": 2}


def test_retrain_is_called_once_per_run_and_its_outcome_recorded(summer: Workspace) -> None:
    retrain = RecordingRetrain()
    actions = [{"type": "log"}, {"type": "retrain", "config": "sluice.yaml"}]
    create_monitor(
        summer, "retrains", model=MODEL, window="1w", settings=DECAY_ONLY, actions=actions
    )
    outcome = run_monitor(summer, "retrains", now=AUG_2012, retrain=retrain)
    assert len(retrain.calls) == 1
    ws, monitor, result = retrain.calls[0]
    assert ws is summer and monitor.name == "retrains"
    assert result.id == outcome.alerts[0].result_id and result.status.value == "decay"
    first = outcome.alerts[0].actions[1]
    assert first["ok"] and first["run_id"] == "f" * 32
    assert first["gates_passed"] is True and first["registered_version"] == 2
    for alert in outcome.alerts[1:]:
        assert alert.actions[1]["skipped"] == "a retraining was already started in this run"
    stored = alerts_of(summer, outcome.monitor)[-1]
    assert stored.actions[1]["registered_version"] == 2


def test_a_failing_retrain_is_recorded_and_the_run_goes_on(summer: Workspace) -> None:
    actions = [{"type": "retrain", "config": "sluice.yaml"}]
    create_monitor(summer, "broken", model=MODEL, window="1w", settings=DECAY_ONLY, actions=actions)
    outcome = run_monitor(summer, "broken", now=AUG_2012, retrain=RecordingRetrain(fail=True))
    assert len(outcome.results) == 4
    first = outcome.alerts[0].actions[0]
    assert first["ok"] is False
    assert first["error"] == "RuntimeError: the training data is locked"


def test_retrain_without_a_function_says_so(summer: Workspace) -> None:
    actions = [{"type": "retrain", "config": "sluice.yaml"}]
    create_monitor(summer, "nofn", model=MODEL, window="1w", settings=DECAY_ONLY, actions=actions)
    outcome = run_monitor(summer, "nofn", now=AUG_2012)
    assert outcome.alerts[0].actions[0]["ok"] is False
    assert (
        outcome.alerts[0]
        .actions[0]["error"]
        .startswith("no retrain function was given to this run; nothing was retrained.")
    )


def test_actions_are_checked_when_the_monitor_is_created() -> None:
    with pytest.raises(ConfigError) as unknown:
        check_actions([{"type": "webhok", "url": "http://x"}])
    assert str(unknown.value) == (
        "Expected an alert action of type log, webhook, retrain; got 'webhok'. "
        "Did you mean 'webhook'?"
    )
    with pytest.raises(ConfigError) as url:
        check_actions([{"type": "webhook", "url": "ftp://hooks.example"}])
    assert str(url.value) == (
        "Expected a webhook URL starting with http:// or https://; got 'ftp://hooks.example'. "
        "Pass for instance --webhook https://hooks.example.com/sluice."
    )


def test_signatures_are_hmac_sha256_of_the_body() -> None:
    import hashlib
    import hmac

    body = b'{"kind": "data_drift"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign(body, "k") == f"sha256={expected}"
    assert verify(body, "k", f"sha256={expected}")
    assert not verify(body + b" ", "k", f"sha256={expected}")
