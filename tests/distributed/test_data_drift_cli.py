"""`sluice data drift` on the test cluster gives the in-memory command's figures.

The bundled bike data: 2011 as the reference (a dataset version, then a CSV file),
2012 as the current window written as several Parquet files for the cluster and as
one file for the in-memory path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.data import read_table
from sluice.data.cluster import ADDRESS_ENV
from tests.cluster import DaskCluster
from tests.data.conftest import BIKE_CSV_GZ

pytestmark = pytest.mark.xdist_group("dask")
runner = CliRunner(env={"COLUMNS": "200"})
PARTS = 4
FIGURES = ("statistic", "p_value", "p_value_corrected", "effect_size", "psi")


@pytest.fixture(scope="module")
def bikes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bikes")
    frame = read_table(BIKE_CSV_GZ)
    frame[frame.yr == 0].to_csv(folder / "2011.csv", index=False)
    current = frame[frame.yr == 1].reset_index(drop=True)
    current.to_parquet(folder / "2012.parquet", index=False)
    (folder / "parts").mkdir()
    for n, rows in enumerate(np.array_split(np.arange(len(current)), PARTS)):
        current.iloc[rows].to_parquet(folder / "parts" / f"part-{n:03d}.parquet", index=False)
    return {"2011": folder / "2011.csv", "2012": folder / "2012.parquet", "parts": folder / "parts"}


def drift(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["data", "drift", *(str(a) for a in args), "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert [c["column"] for c in got["columns"]] == [c["column"] for c in want["columns"]]
    for g, w in zip(got["columns"], want["columns"], strict=True):
        for name in ("kind", "method", "drifted", "n_reference", "n_current", "new_categories"):
            assert g[name] == w[name], (g["column"], name)
        for name in FIGURES:
            if w[name] is None:
                assert g[name] is None, (g["column"], name)
            else:
                np.testing.assert_allclose(g[name], w[name], rtol=1e-9, atol=1e-12)
    for name in ("drifted", "share_drifted", "threshold", "drifted_columns", "correction"):
        assert got[name] == want[name], name


def test_a_folder_on_the_cluster_gives_the_in_memory_figures(
    sluice_home: Path, bikes: dict[str, Path], dask_cluster: DaskCluster
) -> None:
    assert runner.invoke(app, ["data", "add", str(bikes["2011"]), "--name", "bikes"]).exit_code == 0
    share = ["--dataset-share", "0.3"]
    code, got = drift("bikes@1", bikes["parts"], "--dask", dask_cluster.address, *share)
    want_code, want = drift("bikes@1", bikes["2012"], *share)
    assert code == want_code == 1
    assert_same(got, want)
    assert {"yr", "cnt", "registered", "casual"} <= set(got["drifted_columns"])


def test_a_glob_uses_the_address_from_the_environment(
    bikes: dict[str, Path], dask_cluster: DaskCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADDRESS_ENV, dask_cluster.address)
    small = ["--large-sample", "100000", "--categorical", "season,weathersit"]
    code, got = drift(bikes["2011"], f"{bikes['parts']}/part-*.parquet", *small)
    want_code, want = drift(bikes["2011"], bikes["2012"], *small)
    assert code == want_code
    assert_same(got, want)
    assert got["columns"][0]["method"] == "ks"
    assert {c["method"] for c in got["columns"] if c["kind"] == "categorical"} == {"chi_squared"}
