"""The demo's second act: the 2011 model meets 2012 over HTTP, decays, and is replaced.

After the main job has registered version 1 (trained on 2011), this serves the
champion with ``sluice serve`` in its own process on loopback, replays 2012 hour
by hour through ``POST /predict`` from several client threads, sends each
month's true counts to ``POST /feedback``, and runs the monitor as its windows
close. The monitor sees the drift and the decay and starts a retraining on the
newest year of data; the candidate must beat the champion through the same
gates before the alias moves, and the running server follows the alias without
dropping a request. Everything it does is stored like any other work: the log,
the monitor's results and reports, the retraining runs and their gate verdicts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.errors import ServingError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from sluice.workspace import Workspace

MONITOR = "bike-demand-live"
ALIAS = "champion"
WINDOW_ROWS = 2160  # about 90 days of hours
RETRAIN_ROWS = 8760  # the newest year
CLIENTS = 8
READY_TIMEOUT = 120.0

Progress = Callable[[str], Any]


@dataclass
class Lifecycle:
    """What the second act did, for the story printed at the end and for ``--json``."""

    requests: int = 0
    records: int = 0
    errors: int = 0
    feedback: int = 0
    logged: int = 0
    versions_served: list[int] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    retrainings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    server_log: str = ""
    already_ran: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_lifecycle(home: Path, *, progress: Progress | None = None) -> Lifecycle:
    """Serve, replay 2012, monitor, retrain; returns what happened."""
    from sluice.monitoring import get_monitor, list_monitors
    from sluice.workspace import Workspace

    say = progress or (lambda _message: None)
    started = time.perf_counter()
    ws = Workspace.at(home)
    try:
        if any(m.name == MONITOR for m in list_monitors(ws)):
            return _already_ran(ws, get_monitor(ws, MONITOR))
        _create_monitor(ws, home)
        out = Lifecycle(server_log=str(home / "serve.log"))
        with _Server(home, say) as server:
            _replay(ws, server, out, say)
        out.logged = _logged(ws)
        out.seconds = time.perf_counter() - started
        return out
    finally:
        ws.close()


def stored_lifecycle(home: Path) -> Lifecycle | None:
    """What an earlier demo in ``home`` stored, or None when 2012 was not replayed there.

    Never creates a store: a folder without one simply has no earlier demo.
    """
    from sluice.monitoring import get_monitor, list_monitors
    from sluice.workspace import Workspace

    if not (home / "sluice.db").exists():
        return None
    ws = Workspace.at(home)
    try:
        if not any(m.name == MONITOR for m in list_monitors(ws)):
            return None
        return _already_ran(ws, get_monitor(ws, MONITOR))
    finally:
        ws.close()


def year_2012() -> pd.DataFrame:
    """The bundled data's 2012 rows, in time order (the months the model never saw)."""
    import pandas as pd

    from sluice.templates.tabular.demo import bundled_data

    frame = pd.read_csv(bundled_data())
    return frame[frame["yr"] == 1].reset_index(drop=True)


def _create_monitor(ws: Workspace, home: Path) -> None:
    from sluice.monitoring import create_monitor

    create_monitor(
        ws,
        MONITOR,
        model=f"bike-demand@{ALIAS}",
        window=f"{WINDOW_ROWS}rows",
        actions=[
            {
                "type": "retrain",
                "config": str(home / "sluice.yaml"),
                "window_rows": RETRAIN_ROWS,
                "promote": True,
            },
        ],
    )


def _replay(ws: Workspace, server: _Server, out: Lifecycle, say: Progress) -> None:
    """Month by month: predictions, then that month's labels, then the monitor."""
    data = year_2012()
    columns = server.input_columns()
    months = list(data.groupby("mnth", sort=True))
    for number, (month, rows) in enumerate(months, start=1):
        say(f"replaying 2012-{month!s:>02} ({len(rows)} hours) through POST /predict")
        ids = _predict_month(server, rows[columns], out)
        answered = [(i, y) for i, y in zip(ids, rows["cnt"].tolist(), strict=True) if i]
        out.feedback += server.feedback([i for i, _ in answered], [y for _, y in answered])
        _wait_for_log(ws, out.records, out.feedback)
        last = number == len(months)
        _run_monitor(ws, server, out, say, final=last)


def _predict_month(server: _Server, rows: pd.DataFrame, out: Lifecycle) -> list[str | None]:
    """Each row in its own request; the request ids in row order (None where one failed)."""
    records = _records(rows)
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(server.predict_one, records))
    ids: list[str | None] = []
    for answer in answers:
        out.requests += 1
        if answer is None:
            out.errors += 1
            ids.append(None)
            continue
        request_id, version = answer
        ids.append(request_id)
        out.records += 1
        if version not in out.versions_served:
            out.versions_served.append(version)
    return ids


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]


def _wait_for_log(ws: Workspace, predictions: int, feedback: int, timeout: float = 60.0) -> None:
    """Until the server's writer has flushed what it acknowledged (its interval is 1 s)."""
    from sluice.predictions import count_feedback, count_predictions

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            count_predictions(ws, "bike-demand") >= predictions
            and count_feedback(ws, "bike-demand") >= feedback
        ):
            return
        time.sleep(0.1)
    raise ServingError(
        f"Expected the server to log {predictions} predictions within {timeout:.0f} s; "
        f"{count_predictions(ws, 'bike-demand')} are there. See the server's log."
    )


def _run_monitor(
    ws: Workspace, server: _Server, out: Lifecycle, say: Progress, *, final: bool
) -> None:
    from sluice.monitoring import run_monitor
    from sluice.reports.drift_report import render_drift_report
    from sluice.templates.tabular.retrain import retrain_from_log

    outcome = run_monitor(ws, MONITOR, render_report=render_drift_report, retrain=retrain_from_log)
    for result in outcome.results:
        say(f"monitor window {len(out.windows) + 1}: {result.status}")
        window = _window_line(ws, result, len(out.windows) + 1)
        alerts = [a for a in outcome.alerts if a.result_id == result.id]
        window["alerts"] = [a.kind for a in alerts]
        for retraining in _retrainings(alerts, window["index"]):
            out.retrainings.append(retraining)
            if retraining.get("promoted"):
                version = int(str(retraining["registered"]).rsplit("/", 1)[1])
                say(f"waiting for the server to switch to version {version}")
                server.wait_for_version(version)
        out.windows.append(window)
    del final


def _retrainings(alerts: Sequence[Any], index: int) -> list[dict[str, Any]]:
    """What the retrain actions of a window's alerts did, each tagged with the window."""
    return [
        {**action["detail"], "window": index}
        for alert in alerts
        for action in alert.actions
        if action.get("type") == "retrain" and action.get("detail")
    ]


def _window_line(ws: Workspace, result: Any, index: int) -> dict[str, Any]:
    summary = result.summary
    performance = summary.get("performance") or {}
    drift = summary.get("data_drift") or {}
    return {
        "index": index,
        "id": result.id,
        "rows": result.rows,
        "version": result.model_version,
        "status": result.status,
        "metric": performance.get("metric"),
        "value": performance.get("value"),
        "baseline": performance.get("holdout"),
        "share_drifted": drift.get("share_drifted"),
        "drifted_columns": drift.get("drifted_columns", []),
        "prediction_drift": (summary.get("prediction_drift") or {}).get("drifted"),
        "first_champion": _first_champion_rmse(ws, result),
        "report": _report_path(ws, result),
        "verdict": summary.get("verdict", ""),
    }


def _first_champion_rmse(ws: Workspace, result: Any) -> float | None:
    """What version 1 (trained on 2011 only) would have scored on the same labelled rows:
    the yardstick for whether retraining helped."""
    import numpy as np

    from sluice.predictions import read_labelled
    from sluice.registry import load_model

    window = read_labelled(ws, "bike-demand", start=result.window_start, end=result.window_end)
    if not len(window):
        return None
    first = load_model("models:/bike-demand/1", workspace=ws)
    predicted = first.predict(window.inputs[first.signature.names])
    labels = window.meta["label"].to_numpy(dtype="float64")
    return float(np.sqrt(np.mean((predicted - labels) ** 2)))


def _report_path(ws: Workspace, result: Any) -> str | None:
    address = getattr(result, "report_hash", None)
    if not address:
        return None
    folder = Path(ws.settings.home) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"monitor-{MONITOR}-{result.id}.html"
    path.write_bytes(ws.get(address))
    return str(path)


def _logged(ws: Workspace) -> int:
    from sluice.predictions import count_predictions

    return count_predictions(ws, "bike-demand")


def _already_ran(ws: Workspace, monitor: Any) -> Lifecycle:
    """A second ``sluice demo`` in the same folder: report what is stored instead of replaying."""
    from sluice.monitoring.monitor_store import alerts_of, latest_results
    from sluice.registry import resolve

    out = Lifecycle(already_ran=True, logged=_logged(ws))
    out.versions_served = [resolve(ws, f"models:/bike-demand@{ALIAS}").version]
    results = sorted(latest_results(ws, monitor, limit=100), key=lambda r: r.window_end)
    alerts = alerts_of(ws, monitor, limit=500)
    for index, result in enumerate(results, start=1):
        mine = [a for a in alerts if a.result_id == result.id]
        window = _window_line(ws, result, index)
        window["alerts"] = [a.kind for a in mine]
        out.windows.append(window)
        out.retrainings += _retrainings(mine, index)
    return out


# -- the server in its own process ---------------------------------------------------


class _Server:
    """``sluice serve`` on a free loopback port, with an HTTP client for it."""

    def __init__(self, home: Path, say: Progress) -> None:
        self.home = home
        self.say = say
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.client: httpx.Client | None = None

    def __enter__(self) -> _Server:
        import httpx

        self.say(f"starting sluice serve models:/bike-demand@{ALIAS} on {self.url}")
        env = {**os.environ, "SLUICE_HOME": str(self.home)}
        env.pop("SLUICE_DB_URL", None)
        env.pop("SLUICE_ARTIFACTS", None)
        command = [
            sys.executable,
            "-m",
            "sluice",
            "serve",
            f"models:/bike-demand@{ALIAS}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--poll",
            "0.5",
        ]
        log = (self.home / "serve.log").open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        self.client = httpx.Client(base_url=self.url, timeout=30.0, limits=limits)
        self._wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the log is flushed
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_ready(self) -> None:
        assert self.client is not None and self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServingError(
                    f"Expected `sluice serve` to start; it exited with code "
                    f"{self.process.returncode}. Its output is in {self.home / 'serve.log'}:\n"
                    + _tail(self.home / "serve.log")
                )
            try:
                if self.client.get("/ready").status_code == 200:
                    return
            except Exception:  # not listening yet
                pass
            time.sleep(0.1)
        raise ServingError(
            f"Expected `sluice serve` to be ready within {READY_TIMEOUT:.0f} s; it is not. "
            f"See {self.home / 'serve.log'}."
        )

    def input_columns(self) -> list[str]:
        assert self.client is not None
        meta = self.client.get("/metadata").json()
        return [c["name"] for c in meta["signature"]["inputs"]]

    def version(self) -> int:
        assert self.client is not None
        return int(self.client.get("/metadata").json()["model"]["version"])

    def predict_one(self, record: dict[str, Any]) -> tuple[str, int] | None:
        """One hour's prediction: (request id, version) or None when it failed."""
        assert self.client is not None
        try:
            answer = self.client.post("/predict", json={"records": [record]})
        except Exception:
            return None
        if answer.status_code != 200:
            return None
        body = answer.json()
        return body["request_ids"][0], int(body["model"]["version"])

    def feedback(self, request_ids: Sequence[str], labels: Sequence[Any]) -> int:
        assert self.client is not None
        sent = 0
        for chunk in _chunks(list(zip(request_ids, labels, strict=True)), 1000):
            items = [{"request_id": r, "label": y} for r, y in chunk]
            answer = self.client.post("/feedback", json={"feedback": items})
            if answer.status_code != 200:
                raise ServingError(
                    f"Expected POST /feedback to accept {len(items)} labels; got "
                    f"{answer.status_code}: {answer.text[:500]}"
                )
            sent += len(items)
        return sent

    def wait_for_version(self, version: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.version() == version:
                return
            time.sleep(0.2)
        raise ServingError(
            f"Expected the server to switch to version {version} within {timeout:.0f} s "
            f"after the alias moved; it still serves {self.version()}."
        )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
