"""The main job with ``executor: dask`` in sluice.yaml, run by `sluice run` on a real cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sluice.cli import pipeline as cli_pipeline
from sluice.cli import runs as cli_runs
from sluice.errors import ConfigError
from sluice.pipelines import get_run, list_runs
from sluice.registry import list_versions
from sluice.templates.tabular.config import parse_config
from sluice.workspace import Workspace
from tests.cluster import DaskCluster
from tests.templates.jobs import job_yaml, mixed_frame

pytestmark = pytest.mark.xdist_group("dask")

app = typer.Typer()
cli_pipeline.register(app)
app.add_typer(cli_runs.app, name="runs")
runner = CliRunner()


def test_sluice_run_places_every_step_on_the_cluster(
    tmp_path: Path, sluice_home: Path, dask_cluster: DaskCluster
) -> None:
    dask_cluster.wait_for_workers(2)
    data = tmp_path / "loans.csv"
    mixed_frame(240, task="binary").to_csv(data, index=False)
    config = job_yaml(
        tmp_path,
        data,
        selection={"candidates": ["logistic_regression"]},
        executor={"dask": {"address": dask_cluster.address}},
    )
    result = runner.invoke(app, ["run", str(config), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    with dask_cluster.client() as client:
        workers = set(client.scheduler_info()["workers"])
    ran = {s["name"]: s["host"] for s in summary["steps"]}
    assert all(host.split(" ")[0] in workers for host in ran.values()), ran
    report = Path(summary["report"]).read_text(encoding="utf-8")
    assert "ran on" in report and "tcp://127.0.0.1:" in report
    ws = Workspace.at(sluice_home)
    try:
        run = get_run(ws, summary["run_id"])
        assert run.executor == "dask"
        assert [v.version for v in list_versions(ws, "m")] == [1]
        # the champion comparison does not wait for model selection (run one step at a
        # time, it would start after the evaluation)
        select, compare = run.step("select_model"), run.step("compare_champion")
        assert select.finished_at is not None and compare.started_at is not None
        assert compare.started_at < select.finished_at
    finally:
        ws.close()
    shown = runner.invoke(app, ["runs", "show", summary["run_id"]], terminal_width=200)
    assert shown.exit_code == 0, shown.stderr
    assert "executor dask" in shown.stdout and "ran on" in shown.stdout


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "http://127.0.0.1:8787",
            "whose scheme 'http' Dask does not speak. That is a web address: the dashboard's, "
            "not the scheduler's. Use the address `dask scheduler` prints as 'Scheduler at:'.",
        ),
        (
            "tcp://127.0.0.1:9",
            "Expected a Dask scheduler at 'tcp://127.0.0.1:9'; nothing listens there (connection "
            "refused). Start one with `dask scheduler`, or check the address.",
        ),
    ],
)
def test_a_wrong_scheduler_address_exits_2_with_the_fix_and_records_no_run(
    tmp_path: Path,
    sluice_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    message: str,
) -> None:
    data = tmp_path / "loans.csv"
    mixed_frame(60, task="binary").to_csv(data, index=False)
    config = job_yaml(tmp_path, data, executor="dask")
    monkeypatch.setenv("SLUICE_DASK_ADDRESS", address)
    result = runner.invoke(app, ["run", str(config)], terminal_width=400)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.output
    ws = Workspace.at(sluice_home)
    try:
        assert list_runs(ws) == []
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("executor", "message"),
    [
        (
            {"dask": {"address": "tcp://h:1", "local_workers": 2}},
            "expected either address .* or local_workers",
        ),
        ({"dask": {"local_workers": 0}}, "executor.dask.local_workers"),
        ({"spark": {}}, "unknown key 'executor.spark'"),
        ("ray", "'executor': expected 'local', 'dask' or"),
    ],
)
def test_a_bad_executor_section_is_refused_with_its_place(executor: object, message: str) -> None:
    raw = {
        "project": {"name": "p"},
        "data": {"path": "d.csv", "target": "y"},
        "model": {"name": "m"},
        "executor": executor,
    }
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)
