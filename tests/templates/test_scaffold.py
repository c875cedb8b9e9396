"""sluice init: a commented sluice.yaml inferred from CSV or Parquet data."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.errors import ColumnNotFound, ConfigError
from sluice.templates.tabular.config import load_config
from sluice.templates.tabular.scaffold import scaffold
from tests.templates.jobs import mixed_frame


def test_init_on_csv_infers_task_metric_and_drops_id_and_leak(tmp_path: Path) -> None:
    frame = mixed_frame(300, task="regression")
    frame.insert(0, "row id", range(len(frame)))
    frame["label copy"] = frame["label"] * 2 + 1  # a perfect leak
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    made = scaffold(data, "label", out=tmp_path / "sluice.yaml")
    assert made.task == "regression" and made.metric == "rmse"
    assert "row id" in made.dropped and made.dropped["row id"].startswith("id-like")
    assert "label copy" in made.dropped and "leakage suspect" in made.dropped["label copy"]
    text = made.path.read_text(encoding="utf-8")
    assert "- \"label copy\"  # leakage suspect: Column 'label copy' alone explains" in text
    assert "# The column to predict." in text
    config = load_config(made.path)
    assert config.data.path == data.resolve() and config.data.target == "label"
    assert "row id" in config.data.drop


def test_init_on_parquet_with_time_column_and_classification(tmp_path: Path) -> None:
    data = tmp_path / "sub" / "rows.parquet"
    data.parent.mkdir()
    mixed_frame(200, task="multiclass").to_parquet(data)
    made = scaffold(data, "label", out=tmp_path / "sluice.yaml", time_column="day", name="Mix")
    config = load_config(made.path)
    assert made.task == "classification" and config.data.task == "classification"
    assert config.data.time_column == "day" and config.data.path == data.resolve()
    assert config.project.name == "Mix" and config.model.name == "Mix"
    assert "the latest rows by time" in made.path.read_text(encoding="utf-8")


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    mixed_frame(60).to_csv(data, index=False)
    out = tmp_path / "sluice.yaml"
    out.write_text("keep me", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"one exists\. Pass --force to overwrite it"):
        scaffold(data, "label", out=out)
    assert out.read_text(encoding="utf-8") == "keep me"
    scaffold(data, "label", out=out, force=True)
    assert load_config(out).data.target == "label"


def test_init_with_absent_target_suggests_the_nearest_column(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    mixed_frame(60).to_csv(data, index=False)
    with pytest.raises(ColumnNotFound) as err:
        scaffold(data, "labels", out=tmp_path / "sluice.yaml")
    assert "--target 'labels' must name a column of the data" in str(err.value)
    assert "Did you mean 'label'?" in str(err.value)
    assert not (tmp_path / "sluice.yaml").exists()


def test_init_with_bad_task(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    mixed_frame(60).to_csv(data, index=False)
    with pytest.raises(ConfigError, match="Did you mean 'regression'"):
        scaffold(data, "label", out=tmp_path / "s.yaml", task="regresion")
