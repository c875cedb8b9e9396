"""Batch scoring of files: CSV and Parquet, in chunks, atomic, with typed errors; and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.errors import ConfigError, DataFileNotFound, DataFormatError, SignatureMismatch
from sluice.registry import LoadedModel, load_model
from sluice.serving.batch import score_file
from sluice.workspace import Workspace
from tests.serving.conftest import Models

runner = CliRunner()


@pytest.fixture(scope="module")
def regressor(models: Models) -> Iterator[LoadedModel]:
    ws = Workspace.at(models.home)
    yield load_model("models:/bike-demand/1", workspace=ws)
    ws.close()


@pytest.fixture(scope="module")
def classifier(models: Models) -> Iterator[LoadedModel]:
    ws = Workspace.at(models.home)
    yield load_model("models:/busy-hour/1", workspace=ws)
    ws.close()


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


@pytest.mark.parametrize(("src", "dst"), [(".csv", ".parquet"), (".parquet", ".csv")])
def test_scores_equal_the_loaded_model_in_chunks(
    tmp_path: Path, models: Models, regressor: LoadedModel, src: str, dst: str
) -> None:
    X = models.X.assign(id=range(len(models.X)))  # an extra column is passed through
    source = write(X, tmp_path / f"in{src}")
    seen: list[tuple[int, int | None]] = []
    summary = score_file(
        regressor,
        source,
        tmp_path / f"out{dst}",
        chunk_rows=128,
        progress=lambda rows, total: seen.append((rows, total)),
    )
    assert (summary.rows, summary.chunks) == (600, 5)
    assert [rows for rows, _ in seen] == [128, 256, 384, 512, 600]
    out = read(tmp_path / f"out{dst}")
    assert list(out.columns) == [*X.columns, "prediction"]
    np.testing.assert_allclose(out["prediction"], regressor.predict(models.X), rtol=1e-12)
    assert out["id"].tolist() == list(range(600))
    assert summary.to_dict()["rows_per_second"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, f"out{dst}"])


def test_a_classifier_adds_probabilities(
    tmp_path: Path, models: Models, classifier: LoadedModel
) -> None:
    source = write(models.X, tmp_path / "in.parquet")
    score_file(classifier, source, tmp_path / "out.parquet", chunk_rows=250)
    out = pq.read_table(tmp_path / "out.parquet").to_pandas()
    assert list(out.columns)[-3:] == ["prediction", "proba:busy", "proba:quiet"]
    assert out["prediction"].tolist() == list(classifier.predict(models.X))
    np.testing.assert_allclose(
        out[["proba:busy", "proba:quiet"]].to_numpy(), classifier.predict_proba(models.X)
    )


def test_typed_errors_name_the_problem(
    tmp_path: Path, models: Models, regressor: LoadedModel
) -> None:
    good = write(models.X, tmp_path / "in.csv")
    with pytest.raises(DataFileNotFound, match=r"'nope\.csv' does not exist"):
        score_file(regressor, "nope.csv", tmp_path / "o.csv")
    with pytest.raises(
        DataFormatError, match=r"--input to end in .csv, .parquet or .pq; got 'x.json'"
    ):
        (tmp_path / "x.json").write_text("{}")
        score_file(regressor, tmp_path / "x.json", tmp_path / "o.csv")
    with pytest.raises(DataFormatError, match=r"--output to end in .csv, .parquet or .pq"):
        score_file(regressor, good, tmp_path / "o.xlsx")
    (tmp_path / "taken.csv").write_text("x\n")
    with pytest.raises(ConfigError, match=r"taken\.csv' exists\. Pass --overwrite to replace it"):
        score_file(regressor, good, tmp_path / "taken.csv")
    summary = score_file(regressor, good, tmp_path / "taken.csv", overwrite=True)
    assert summary.rows == 600
    (tmp_path / "csv-inside.parquet").write_text("a,b\n1,2\n")  # a CSV under a Parquet name
    with pytest.raises(DataFormatError) as unreadable:
        score_file(regressor, tmp_path / "csv-inside.parquet", tmp_path / "o3.csv")
    message = str(unreadable.value)
    assert message.startswith("Expected a readable Parquet file at ")
    assert ".. " not in message and message.endswith("Check the file and its extension.")
    renamed = write(models.X.rename(columns={"hum": "humidity"}), tmp_path / "renamed.csv")
    with pytest.raises(SignatureMismatch) as info:
        score_file(regressor, renamed, tmp_path / "o2.csv")
    assert "missing: 'hum'. Did you mean 'humidity'? Add them" in str(info.value)


def test_a_bad_value_late_in_the_file_leaves_no_output(
    tmp_path: Path, models: Models, regressor: LoadedModel
) -> None:
    X = models.X.astype({"temp": object})
    X.loc[550, "temp"] = "warm"
    source = write(X, tmp_path / "in.csv")
    with pytest.raises(DataFormatError) as info:
        score_file(regressor, source, tmp_path / "out.parquet", chunk_rows=100)
    assert "to fit the model's column types (column 'temp')" in str(info.value)
    assert "invalid value 'warm'" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"], "no output, no temp file"
    parquet = write(X.astype({"temp": str}), tmp_path / "in.parquet")
    with pytest.raises(SignatureMismatch, match="column 'temp' should be numeric"):
        score_file(regressor, parquet, tmp_path / "out.csv", chunk_rows=100)
    assert not (tmp_path / "out.csv").exists()


def test_the_cli_scores_and_prints_json(
    tmp_path: Path, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_HOME", str(models.home))
    source = write(models.X, tmp_path / "in.parquet")
    out = tmp_path / "out.csv"
    args = ["predict", "bike-demand@champion", "-i", str(source), "-o", str(out)]
    result = runner.invoke(app, [*args, "--json", "--chunk-rows", "200"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["rows"], summary["chunks"], summary["model"]) == (
        600,
        3,
        "models:/bike-demand/1",
    )
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "exists. Pass --overwrite to replace it" in " ".join(again.output.split())
    text = runner.invoke(app, [*args, "--overwrite"])
    assert text.exit_code == 0
    assert text.output.startswith("Scored 600 rows with models:/bike-demand/1 in ")


def test_the_cli_refuses_a_bad_uri_and_bad_options(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_HOME", str(models.home))
    result = runner.invoke(app, ["predict", "nope@champion", "-i", "a.csv", "-o", "b.csv"])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(app, ["serve", "bike-demnd@champion"])
    assert result.exit_code == 2
    assert "Did you mean 'bike-demand'?" in " ".join(result.output.split())
    result = runner.invoke(app, ["serve", "models:/bike-demand@nope"])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(app, ["serve", "bike-demand@champion", "--unknown-categories", "maybe"])
    assert result.exit_code == 2
    assert "Expected --unknown-categories to be reject or flag; got 'maybe'" in " ".join(
        result.output.split()
    )
