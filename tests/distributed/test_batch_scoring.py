"""Scoring a partitioned Parquet dataset on the test cluster gives score_file's numbers.

The models are the serving tests' real forests on the bike data (a regressor and a
classifier with probabilities); the rows they did not train on are written as
several Parquet files, scored by two worker processes, and compared with the
in-memory path on one file holding the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.data.cluster import ADDRESS_ENV
from sluice.errors import ConfigError, DataFileNotFound, DataFormatError, SignatureMismatch
from sluice.registry import LoadedModel, load_model
from sluice.serving.batch import score_file
from sluice.serving.batch_dask import score_parquet
from sluice.workspace import Workspace
from tests.cluster import DaskCluster
from tests.serving.conftest import Models, models  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.xdist_group("dask")
runner = CliRunner()
PARTS = 4


@pytest.fixture(scope="module")
def regressor(models: Models) -> Iterator[LoadedModel]:  # noqa: F811
    ws = Workspace.at(models.home)
    yield load_model("models:/bike-demand/1", workspace=ws)
    ws.close()


@pytest.fixture(scope="module")
def classifier(models: Models) -> Iterator[LoadedModel]:  # noqa: F811
    ws = Workspace.at(models.home)
    yield load_model("models:/busy-hour/1", workspace=ws)
    ws.close()


@pytest.fixture
def cli_home(models: Models, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """The serving tests' store, where `sluice predict` finds bike-demand@champion."""
    monkeypatch.setenv("SLUICE_HOME", str(models.home))
    return models.home


@pytest.fixture
def rows(models: Models) -> pd.DataFrame:  # noqa: F811
    return models.X.assign(id=np.arange(len(models.X)))  # an extra column passes through


def write_parts(frame: pd.DataFrame, folder: Path, parts: int = PARTS) -> Path:
    folder.mkdir()
    for n, piece in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[piece].to_parquet(folder / f"part-{n:03d}.parquet", index=False)
    return folder


def models_x(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=["id"])


def in_memory(loaded: LoadedModel, frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    source = folder / "all.parquet"
    frame.to_parquet(source, index=False)
    score_file(loaded, source, folder / "scored.parquet")
    return pd.read_parquet(folder / "scored.parquet")


def test_regressor_scores_equal_score_file(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows, tmp_path / "in")
    summary = score_parquet(regressor, source, tmp_path / "out", cluster=dask_cluster.address)
    assert (summary.rows, summary.chunks) == (len(rows), PARTS)
    out = pd.read_parquet(tmp_path / "out")
    assert len(list((tmp_path / "out").glob("*.parquet"))) == PARTS
    expected = in_memory(regressor, rows, tmp_path)
    assert list(out.columns) == list(expected.columns) == [*rows.columns, "prediction"]
    assert out["id"].tolist() == expected["id"].tolist()
    np.testing.assert_allclose(out["prediction"], expected["prediction"], rtol=1e-12)
    np.testing.assert_allclose(out["prediction"], regressor.predict(models_x(rows)), rtol=1e-12)


def test_classifier_probabilities_equal_score_file(
    tmp_path: Path, dask_cluster: DaskCluster, classifier: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows, tmp_path / "in", parts=3)
    with dask_cluster.client() as client:  # an open Client is used and left open
        score_parquet(classifier, f"{source}/part-*.parquet", tmp_path / "out", cluster=client)
        assert client.status == "running"
    out = pd.read_parquet(tmp_path / "out")
    expected = in_memory(classifier, rows, tmp_path)
    assert list(out.columns)[-3:] == ["prediction", "proba:busy", "proba:quiet"]
    assert out["prediction"].tolist() == expected["prediction"].tolist()
    probas = ["proba:busy", "proba:quiet"]
    np.testing.assert_allclose(out[probas].to_numpy(), expected[probas].to_numpy(), rtol=1e-12)


def test_address_from_the_environment_and_the_cli(
    tmp_path: Path,
    dask_cluster: DaskCluster,
    cli_home: Path,
    regressor: LoadedModel,
    rows: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_parts(rows, tmp_path / "in")
    monkeypatch.setenv(ADDRESS_ENV, dask_cluster.address)
    args = ["predict", "bike-demand@champion", "-i", str(source), "-o", str(tmp_path / "out")]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == len(rows)
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    monkeypatch.delenv(ADDRESS_ENV)
    explicit = runner.invoke(app, [*args, "--overwrite", "--dask", dask_cluster.address])
    assert explicit.exit_code == 0, explicit.output
    assert f"Scored {len(rows)} rows" in explicit.output
    out = pd.read_parquet(tmp_path / "out")
    np.testing.assert_allclose(out["prediction"], regressor.predict(models_x(rows)), rtol=1e-12)


def test_no_address_is_a_config_error(
    tmp_path: Path, regressor: LoadedModel, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADDRESS_ENV, raising=False)
    source = write_parts(rows, tmp_path / "in")
    with pytest.raises(ConfigError, match=r"address of a Dask scheduler.*--dask ADDRESS"):
        score_parquet(regressor, source, tmp_path / "out")


def test_missing_folder_and_empty_folder_are_named(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel
) -> None:
    address = dask_cluster.address
    with pytest.raises(DataFileNotFound, match="does not exist"):
        score_parquet(regressor, tmp_path / "nowhere", tmp_path / "out", cluster=address)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileNotFound, match=r"has none\. Write the data as Parquet"):
        score_parquet(regressor, tmp_path / "empty", tmp_path / "out", cluster=address)
    with pytest.raises(DataFileNotFound, match="matches none"):
        score_parquet(regressor, tmp_path / "empty/*.parquet", tmp_path / "out", cluster=address)
    assert not (tmp_path / "out").exists()


def test_csv_where_parquet_is_expected_is_named_without_dask_internals(
    tmp_path: Path,
    dask_cluster: DaskCluster,
    cli_home: Path,
    regressor: LoadedModel,
    rows: pd.DataFrame,
) -> None:
    rows.to_csv(tmp_path / "rows.csv", index=False)
    rows.to_csv(tmp_path / "rows.parquet", index=False)  # a CSV under a Parquet name
    args = ["predict", "bike-demand@champion", "-i", str(tmp_path / "rows.csv")]
    result = runner.invoke(
        app, [*args, "-o", str(tmp_path / "out"), "--dask", dask_cluster.address]
    )
    assert result.exit_code == 2, result.output
    assert (
        f"Expected --input to be Parquet on a Dask cluster; got the CSV file "
        f"'{tmp_path / 'rows.csv'}'. Convert it to Parquet, or work on it in one process "
        "(without --dask)."
    ) in " ".join(result.stderr.split())
    with pytest.raises(DataFormatError) as caught:
        score_parquet(
            regressor, tmp_path / "rows.parquet", tmp_path / "out", cluster=dask_cluster.address
        )
    message = str(caught.value)
    assert "could not be read (" in message and "Parquet magic bytes not found" in message
    assert "Check the files, or convert them to Parquet." in message
    assert "An error occurred while calling" not in message
    assert not (tmp_path / "out").exists()


def test_missing_columns_are_named_with_a_suggestion(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows.rename(columns={"temp": "tmp"}), tmp_path / "in")
    with pytest.raises(SignatureMismatch, match=r"missing: 'temp'\. Did you mean 'tmp'\?"):
        score_parquet(regressor, source, tmp_path / "out", cluster=dask_cluster.address)
    assert not (tmp_path / "out").exists()


def test_a_bad_value_in_a_later_partition_fails_the_run_and_leaves_nothing(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows, tmp_path / "in")
    bad = rows.iloc[:5].assign(hum="damp")  # a text column where the signature wants numbers
    bad.to_parquet(source / "part-999.parquet", index=False)
    with pytest.raises(SignatureMismatch, match=r"Partition \d+: .*hum"):
        score_parquet(regressor, source, tmp_path / "out", cluster=dask_cluster.address)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_parts_keep_the_input_order_and_overwrite_replaces_a_file(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows, tmp_path / "in", parts=12)
    target = tmp_path / "out"
    target.write_text("an older output, a file")
    score_parquet(regressor, source, target, cluster=dask_cluster.address, overwrite=True)
    names = sorted(p.name for p in target.iterdir())
    assert names == [f"part-{n:05d}.parquet" for n in range(12)]
    assert pd.read_parquet(target)["id"].tolist() == rows["id"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing left aside


def test_a_url_input_reaches_the_workers_as_written(
    tmp_path: Path,
    dask_cluster: DaskCluster,
    cli_home: Path,
    rows: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_parts(rows, tmp_path / "in")
    monkeypatch.setenv(ADDRESS_ENV, dask_cluster.address)
    args = ["predict", "bike-demand@champion", "-o", str(tmp_path / "out"), "--json", "-i"]
    result = runner.invoke(app, [*args, source.as_uri()])  # file:///…: read by fsspec
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == len(rows)
    missing = runner.invoke(app, [*args, (tmp_path / "nowhere").as_uri(), "--overwrite"])
    assert missing.exit_code == 2
    assert f"'{(tmp_path / 'nowhere').as_uri()}' does not exist" in " ".join(missing.output.split())


def test_a_corrupt_file_among_the_parts_is_a_data_error_and_leaves_nothing(
    tmp_path: Path, dask_cluster: DaskCluster, regressor: LoadedModel, rows: pd.DataFrame
) -> None:
    source = write_parts(rows, tmp_path / "in")
    (source / "part-999.parquet").write_bytes(b"PAR1 not really Parquet PAR1")
    with pytest.raises(DataFormatError) as caught:
        score_parquet(regressor, source, tmp_path / "out", cluster=dask_cluster.address)
    message = str(caught.value)
    assert f"Expected every file of '{source}' to be readable Parquet" in message
    assert "while scoring (ArrowInvalid: Parquet file size is 28 bytes" in message
    assert message.endswith("Fix or remove that file, then run again.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
