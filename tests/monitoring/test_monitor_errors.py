"""Every mistake a user can make with a monitor: a typed error whose message names the fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sluice.errors import (
    AliasNotFound,
    AlreadyExists,
    ConfigError,
    ModelNotFound,
    MonitorError,
    MonitorNotFound,
    NotFound,
    UnknownMetric,
)
from sluice.monitoring import (
    MonitorSettings,
    create_monitor,
    get_monitor,
    list_monitors,
    parse_window,
    run_monitor,
)
from sluice.workspace import Workspace
from tests.monitoring.bikes import MODEL, register, trained_2011


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("errors")
    workspace = Workspace.at(folder / "home")
    register(workspace, trained_2011(), folder)
    create_monitor(workspace, "bike-daily", model=f"{MODEL}@champion")
    yield workspace
    workspace.close()


def test_an_unknown_monitor_suggests_the_nearest(ws: Workspace) -> None:
    with pytest.raises(MonitorNotFound) as caught:
        get_monitor(ws, "bike-dialy")
    assert str(caught.value) == (
        "Expected the name of a monitor; got 'bike-dialy' (monitors: bike-daily). "
        "Did you mean 'bike-daily'? Run `sluice monitor list` to see them, or "
        "`sluice monitor create` to make one."
    )
    with pytest.raises(MonitorNotFound, match="got 'nope'"):
        run_monitor(ws, "nope")


def test_a_duplicate_name_is_refused_and_nothing_changes(ws: Workspace) -> None:
    with pytest.raises(AlreadyExists) as caught:
        create_monitor(ws, "bike-daily", model=MODEL, window="6h")
    assert str(caught.value) == (
        "Expected a new monitor name; 'bike-daily' already watches "
        "models:/bike-demand@champion (window 1d). Choose another name, or run it with "
        "`sluice monitor run bike-daily`."
    )
    assert [(m.name, m.window) for m in list_monitors(ws)] == [("bike-daily", "1d")]


def test_a_bad_window_spec_lists_the_accepted_forms(ws: Workspace) -> None:
    with pytest.raises(MonitorError) as caught:
        create_monitor(ws, "bad-window", model=MODEL, window="1 fortnight")
    assert str(caught.value) == (
        "Expected a window like '30m', '6h', '1d', '1w' or '10000rows' (a positive number and a "
        "unit s, m, h, d, w or rows); got '1 fortnight'. Pass for instance --window 1d."
    )
    assert "bad-window" not in [m.name for m in list_monitors(ws)]


def test_an_unknown_model_or_alias_is_named(ws: Workspace) -> None:
    with pytest.raises(ModelNotFound) as model:
        create_monitor(ws, "m", model="bike-demnad@champion")
    assert "got 'bike-demnad'" in str(model.value)
    assert "Did you mean 'bike-demand'?" in str(model.value)
    with pytest.raises(AliasNotFound) as alias:
        create_monitor(ws, "m", model="bike-demand@production")
    assert str(alias.value).startswith(
        "Model 'bike-demand' has no alias 'production'; its aliases are challenger, champion."
    )


def test_a_fixed_version_is_refused_because_a_monitor_follows_an_alias(ws: Workspace) -> None:
    with pytest.raises(MonitorError) as caught:
        create_monitor(ws, "m", model="bike-demand/1")
    assert str(caught.value) == (
        "Expected a model alias to follow, like bike-demand@champion; got 'bike-demand/1', a "
        "fixed version. A monitor follows the alias as it moves from version to version."
    )


def test_an_unknown_reference_dataset_is_named(ws: Workspace) -> None:
    with pytest.raises(NotFound) as caught:
        create_monitor(ws, "m", model=MODEL, reference="bikes-2012@1")
    assert str(caught.value).startswith("Expected a dataset named 'bikes-2012'; there is none.")
    assert "Did you mean 'bikes-2011'?" in str(caught.value)
    with pytest.raises(NotFound, match="Expected version 9 of dataset 'bikes-2011'"):
        create_monitor(ws, "m", model=MODEL, reference="bikes-2011@9")


def test_a_named_reference_is_kept(ws: Workspace) -> None:
    monitor = create_monitor(ws, "with-reference", model=MODEL, reference="bikes-2011@1")
    assert monitor.reference_version_id is not None
    assert get_monitor(ws, "with-reference").reference_version_id == monitor.reference_version_id


def test_an_unknown_metric_names_the_task_metrics(ws: Workspace) -> None:
    with pytest.raises(UnknownMetric) as caught:
        create_monitor(ws, "m", model=MODEL, settings=MonitorSettings(metric="rmsle"))
    assert str(caught.value).startswith(
        "Expected a regression metric (rmse, mae, r2, mape); got 'rmsle'."
    )


def test_a_bad_monitor_name_is_refused(ws: Workspace) -> None:
    with pytest.raises(MonitorError, match="Expected a monitor name of letters, digits"):
        create_monitor(ws, "../etc", model=MODEL)


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError) as kind:
        MonitorSettings(alert_on=("data_drfit",))
    assert "got 'data_drfit'. Did you mean 'data_drift'?" in str(kind.value)
    with pytest.raises(ConfigError, match="Expected a missing-share threshold in"):
        MonitorSettings(missing_shift=0.0)
    with pytest.raises(ConfigError) as key:
        MonitorSettings.from_dict({"tolerance": 0.2})
    assert "got 'tolerance'" in str(key.value)


@pytest.mark.parametrize(
    ("text", "seconds", "rows"),
    [("30m", 1800.0, None), ("6h", 21600.0, None), ("1d", 86400.0, None),
     ("1w", 604800.0, None), ("10000rows", None, 10000), (" 2D ", 172800.0, None)],
)  # fmt: skip
def test_window_specs_parse(text: str, seconds: float | None, rows: int | None) -> None:
    spec = parse_window(text)
    assert (spec.seconds, spec.rows) == (seconds, rows)
    assert parse_window(spec.text) == spec


@pytest.mark.parametrize("text", ["", "0d", "-1h", "1.5h", "d", "10 000rows", "1y", "rows"])
def test_bad_window_specs_are_refused(text: str) -> None:
    with pytest.raises(MonitorError, match="Expected a window like"):
        parse_window(text)


def test_a_window_shorter_than_a_minute_is_refused() -> None:
    with pytest.raises(MonitorError) as caught:
        parse_window("30s")
    assert str(caught.value) == (
        "Expected a time window of at least 60 seconds; got '30s' (30 s). Use a longer window "
        "such as '5m', or a row window such as '1000rows'."
    )
