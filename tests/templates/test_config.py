"""sluice.yaml: loading, defaults, paths, and the errors a user can cause in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.errors import ConfigError, GateError
from sluice.templates.tabular.config import load_config, parse_config
from sluice.templates.tabular.demo import demo_config

MINIMAL = {
    "project": {"name": "p"},
    "data": {"path": "d.csv", "target": "y"},
    "model": {"name": "m"},
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sluice.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_relative_path_resolves_against_the_yaml_folder(tmp_path: Path) -> None:
    sub = tmp_path / "project"
    sub.mkdir()
    config = load_config(
        write(sub, "project: {name: p}\ndata: {path: d.csv, target: y}\nmodel: {name: m}\n")
    )
    assert config.data.path == (sub / "d.csv").resolve()
    assert config.selection.cv_folds == 5 and config.split.holdout == 0.2
    assert config.data.task is None and config.gates == []
    assert config.data.dataset_name == "d"


def test_absolute_path_is_kept(tmp_path: Path) -> None:
    raw = {**MINIMAL, "data": {"path": str(tmp_path / "x.parquet"), "target": "y"}}
    assert (
        parse_config(raw, source=tmp_path / "a" / "sluice.yaml").data.path == tmp_path / "x.parquet"
    )


def test_unknown_top_level_key_is_named_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**MINIMAL, "selecton": {"cv_folds": 3}})
    assert "unknown key 'selecton'. Did you mean 'selection'?" in str(err.value)
    assert "Valid keys here: project, data, split, selection" in str(err.value)


def test_unknown_nested_key_is_named_with_its_place_and_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**MINIMAL, "selection": {"cv_fold": 3}})
    message = str(err.value)
    assert "unknown key 'selection.cv_fold'. Did you mean 'cv_folds'?" in message
    assert "metric, cv_folds, tolerance, candidates, search_budget" in message


def test_wrong_value_says_expected_and_got() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**MINIMAL, "split": {"holdout": 1.5}})
    assert "'split.holdout': expected a value less than 0.9; got 1.5." in str(err.value)


def test_missing_section_is_named() -> None:
    with pytest.raises(ConfigError, match="'model' is required but missing"):
        parse_config({"project": {"name": "p"}, "data": {"path": "d", "target": "y"}})


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected valid YAML") as err:
        load_config(write(tmp_path, "project: [unclosed\n"))
    assert '"<unicode string>"' not in str(err.value)
    assert '"sluice.yaml", line 2' in str(err.value)
    with pytest.raises(ConfigError, match="Create one with `sluice init"):
        load_config(tmp_path / "nope.yaml")


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a mapping with sections project, data"):
        load_config(write(tmp_path, "- just\n- a list\n"))


def test_gate_with_unknown_kind_or_key_is_a_gate_error() -> None:
    with pytest.raises(GateError, match="Did you mean 'beats_baseline'"):
        parse_config({**MINIMAL, "gates": [{"kind": "beat_baseline", "metric": "rmse"}]})
    with pytest.raises(GateError, match="unknown key 'margn'"):
        parse_config(
            {**MINIMAL, "gates": [{"kind": "beats_baseline", "metric": "rmse", "margn": 0.1}]}
        )


def test_shipped_demo_config_is_valid() -> None:
    config = parse_config(demo_config())
    assert config.model.name == "bike-demand" and config.data.target == "cnt"
    assert config.data.time_column == "dteday" and config.data.task == "regression"
    assert set(config.data.drop) == {"instant", "casual", "registered", "yr"}
    assert config.data.path.exists()
    kinds = {g.kind for g in config.gates}
    assert kinds == {
        "metric",
        "beats_baseline",
        "no_regression",
        "validation",
        "max_model_size",
        "max_latency",
    }
