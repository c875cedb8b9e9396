"""Eight processes writing at once into one store, SQLite and PostgreSQL, on a store just
created and on one already holding history with a reader busy on it: no errors, nothing
lost, every count checked, the audit chain intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sluice.data import list_versions as dataset_versions
from sluice.governance import audit_log, verify_audit
from sluice.registry import list_versions as model_versions
from sluice.tracking import list_runs, metric_history
from sluice.workspace import Workspace

WRITERS, ROUNDS, POINTS = 8, 3, 20

WORKER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from sluice.config import Settings
    from sluice.data import add_version
    from sluice.registry import register_version
    from sluice.tracking import start_run
    from sluice.workspace import Workspace

    home, url, artifacts, me, rounds, points = sys.argv[1:7]
    me, rounds, points = int(me), int(rounds), int(points)
    ws = Workspace(Settings(home=home, db_url=url, artifacts=artifacts))
    folder = Path(home) / f"writer-{me}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(rounds):
        table = folder / f"part-{i}.csv"
        table.write_text("x,y\\n" + "".join(f"{me},{i * 100 + j}\\n" for j in range(10)))
        add_version(ws, table, f"shared-{me % 2}")
        with start_run(f"writer-{me}-{i}", experiment="storm", workspace=ws) as run:
            run.log_params({"writer": me, "round": i})
            for step in range(points):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
        register_version(
            ws, "shared", model_bytes=os.urandom(64), signature={},
            params={"writer": me, "round": i}, metrics={},
        )
    ws.close()
    print("ok")
    """
)

READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sluice.config import Settings
    from sluice.data import list_datasets
    from sluice.registry import list_models
    from sluice.tracking import list_runs
    from sluice.workspace import Workspace

    home, url, artifacts, stop = sys.argv[1:5]
    ws = Workspace(Settings(home=home, db_url=url, artifacts=artifacts))
    reads = 0
    while not Path(stop).exists():
        list_runs(ws, limit=50)
        list_datasets(ws)
        list_models(ws)
        reads += 1
    ws.close()
    print(reads)
    """
)


def _args(ws: Workspace) -> list[str]:
    s = ws.settings
    return [str(s.home), s.db_url, s.artifacts]


def _storm(ws: Workspace, first: int) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *_args(ws), str(first + i), str(ROUNDS), str(POINTS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    for w in writers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0 and out.strip() == "ok", err


@pytest.mark.slow
@pytest.mark.parametrize("busy", [False, True], ids=["fresh", "busy"])
def test_eight_processes_write_at_once_and_nothing_is_lost(
    any_ws: Workspace, tmp_path: Path, busy: bool
) -> None:
    history = 0
    reader = None
    stop = tmp_path / "stop"
    if busy:
        _storm(any_ws, first=100)  # a store that already holds history
        history = WRITERS * ROUNDS
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, *_args(any_ws), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # the reader is at work before the writers start
    try:
        _storm(any_ws, first=0)
    finally:
        stop.touch()
    if reader is not None:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0 and int(out) > 0, err

    total = history + WRITERS * ROUNDS
    versions = model_versions(any_ws, "shared")
    assert [v.version for v in versions] == list(range(1, total + 1)), "gap-free, no repeats"
    for name in ("shared-0", "shared-1"):
        numbers = [v.version for v in dataset_versions(any_ws, name)]
        assert numbers == list(range(1, total // 2 + 1)), name
    runs = list_runs(any_ws, experiment="storm")
    assert len(runs) == total and {r.status.value for r in runs} == {"finished"}
    for run in runs[:: max(1, total // 6)]:
        points = metric_history(any_ws, run.id, "loss")
        assert [p.step for p in points] == list(range(POINTS)), run.name
    registered = audit_log(any_ws, action="model.version_registered", limit=10_000)
    added = audit_log(any_ws, action="dataset.version_added", limit=10_000)
    assert len(registered) == len(added) == total
    report = verify_audit(any_ws)
    assert report.ok, report.problem
