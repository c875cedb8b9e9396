"""Drift of a partitioned current window on the test cluster gives dataset_drift's numbers.

The reference is the 2011 bike data the monitoring tests train on; the current
windows are real rows written as several Parquet files: July 2012 (warmer, busier,
all summer: drifted) and rows drawn from 2011 itself (not drifted), the latter
large enough that the verdicts rest on effect sizes. Both go through the
in-memory ``dataset_drift`` and through the cluster, column by column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sluice.errors import ConfigError, DataFileNotFound
from sluice.monitoring import DatasetDrift, DriftSettings, dataset_drift
from sluice.monitoring.drift_dask import dataset_drift_dask
from tests.cluster import DaskCluster
from tests.monitoring.bikes import FEATURES, drawn_from_2011, july_2012, trained_2011

pytestmark = pytest.mark.xdist_group("dask")
FIGURES = ("statistic", "p_value", "p_value_corrected", "effect_size", "psi")
COUNTS = ("n_reference", "n_current", "missing_reference", "missing_current")


def write_parts(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir()
    for n, piece in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[piece].to_parquet(folder / f"part-{n:03d}.parquet", index=False)
    return folder


def reference() -> pd.DataFrame:
    return trained_2011().train[FEATURES]


def assert_same(distributed: DatasetDrift, in_memory: DatasetDrift) -> None:
    assert [c.column for c in distributed.columns] == [c.column for c in in_memory.columns]
    for got, want in zip(distributed.columns, in_memory.columns, strict=True):
        assert (got.column, got.kind, got.method) == (want.column, want.kind, want.method)
        assert got.drifted == want.drifted, (got.column, got.reason, want.reason)
        assert got.new_categories == want.new_categories
        for name in COUNTS:
            assert getattr(got, name) == getattr(want, name), (got.column, name)
        for name in FIGURES:
            expected = getattr(want, name)
            if expected is None:
                assert getattr(got, name) is None, (got.column, name)
            else:
                np.testing.assert_allclose(getattr(got, name), expected, rtol=1e-9, atol=1e-12)
    assert distributed.drifted == in_memory.drifted
    assert distributed.share_drifted == in_memory.share_drifted


def test_a_drifted_month_gives_the_in_memory_statistics(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    current = july_2012()[FEATURES]
    folder = write_parts(current, tmp_path / "july", parts=5)
    got = dataset_drift_dask(reference(), folder, cluster=dask_cluster.address)
    want = dataset_drift(reference(), pd.read_parquet(folder))
    assert_same(got, want)
    assert got.drifted and {"temp", "season"} <= set(got.drifted_columns)
    assert got.column("season").kind == "categorical"
    assert got.column("dteday").method == "ks"  # 744 rows: a small window


def test_an_undrifted_sample_on_large_windows_gives_the_in_memory_statistics(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    current = drawn_from_2011(6000, seed=3)[FEATURES]
    folder = write_parts(current, tmp_path / "same", parts=4)
    with dask_cluster.client() as client:
        got = dataset_drift_dask(reference(), f"{folder}/*.parquet", cluster=client)
    want = dataset_drift(reference(), pd.read_parquet(folder))
    assert_same(got, want)
    assert not got.drifted
    assert got.column("temp").method == "wasserstein"
    assert got.column("season").method == "jensen_shannon"


def test_missing_infinite_and_new_values_are_counted_across_partitions(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    current = july_2012()[FEATURES].copy()
    current.loc[::7, "temp"] = np.nan
    current.loc[::11, "hum"] = np.inf
    current.loc[::13, "weathersit"] = "hail"  # a category the reference never had
    current["extra"] = 1.0  # only in the current window: listed, not compared
    folder = write_parts(current, tmp_path / "odd", parts=3)
    settings = DriftSettings(large_sample=100, psi_bins=7)
    got = dataset_drift_dask(reference(), folder, settings=settings, cluster=dask_cluster.address)
    want = dataset_drift(reference(), pd.read_parquet(folder), settings=settings)
    assert_same(got, want)
    assert got.column("hum").infinite_current == want.column("hum").infinite_current > 0
    assert got.column("weathersit").new_categories == ("hail",)
    assert got.only_in_current == ("extra",)


def test_integer_codes_read_as_floats_in_some_files_stay_one_category(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    current = july_2012()[FEATURES].reset_index(drop=True)
    folder = tmp_path / "codes"
    folder.mkdir()
    half = len(current) // 2
    current.iloc[:half].to_parquet(folder / "part-0.parquet", index=False)  # hr int64
    with_gaps = current.iloc[half:].astype({"hr": float})
    with_gaps.loc[with_gaps.index[::9], "hr"] = np.nan  # float64 in this file
    with_gaps.to_parquet(folder / "part-1.parquet", index=False)
    kinds = {"hr": "categorical"}
    got = dataset_drift_dask(reference(), folder, kinds=kinds, cluster=dask_cluster.address)
    want = dataset_drift(reference(), pd.read_parquet(folder), kinds=kinds)
    assert_same(got, want)
    codes = got.column("hr")
    assert codes.new_categories == () and codes.missing_current > 0
    assert codes.n_current == len(current) - int(with_gaps["hr"].isna().sum())


def test_too_few_rows_and_a_missing_folder_are_stated(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    folder = write_parts(july_2012()[FEATURES].iloc[:20], tmp_path / "tiny", parts=2)
    got = dataset_drift_dask(reference(), folder, cluster=dask_cluster.address)
    assert all(c.method == "none" and "not enough data" in c.reason for c in got.columns)
    assert not got.drifted
    with pytest.raises(DataFileNotFound, match="the current window to name a folder"):
        dataset_drift_dask(reference(), tmp_path / "nowhere", cluster=dask_cluster.address)


def test_a_kind_for_an_unknown_column_is_refused(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    folder = write_parts(july_2012()[FEATURES], tmp_path / "july", parts=2)
    with pytest.raises(ConfigError, match="Did you mean 'temp'"):
        dataset_drift_dask(
            reference(), folder, kinds={"tmp": "numeric"}, cluster=dask_cluster.address
        )
