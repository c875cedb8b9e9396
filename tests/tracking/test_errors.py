"""Every mistake a user can make while tracking: refused at the call, with a clear message."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import sluice.tracking as tr
from sluice.errors import RunNotFound, TrackingError
from sluice.workspace import Workspace


def _message(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(TrackingError) as err:
        fn(*args, **kwargs)  # type: ignore[operator]
    return str(err.value)


@pytest.mark.parametrize(
    "name", ["log_param", "log_params", "log_metric", "log_metrics", "set_tag"]
)
def test_fluent_calls_without_an_active_run(name: str) -> None:
    args = {
        "log_param": ("k", 1),
        "log_params": ({"k": 1},),
        "log_metric": ("k", 1.0),
        "log_metrics": ({"k": 1.0},),
        "set_tag": ("k", "v"),
    }[name]
    assert _message(getattr(tr, name), *args) == (
        f"{name}() needs an active run; none is active in this thread or task. Start one "
        f"first: `with sluice.start_run():` then call {name}() inside, or call it on a run "
        f"object (run.{name}(...))."
    )


@pytest.fixture
def run(ws: Workspace):  # type: ignore[no-untyped-def]
    with tr.start_run("checks", workspace=ws) as r:
        yield r


KEY_CASES = [
    (3, "must be a string; got int 3. Pass the name as text, for example str(3)."),
    ("", "must be a non-empty name; got ''. Give it a name such as 'loss'."),
    ("  ", "must be a non-empty name; got '  '. Give it a name such as 'loss'."),
    ("k" * 251, f"must be at most 250 characters; got 251 ({'k' * 40!r}...). Use a shorter name."),
    ("a\x00b", "must not contain the NUL character; got 'a\\x00b'. Remove the '\\x00' from it."),
    (
        "bad\udc80",
        "must be valid Unicode text; got 'bad\\udc80' with an unpaired surrogate at position 3. "
        "Decode the bytes it came from properly.",
    ),
]


@pytest.mark.parametrize(("key", "expected"), KEY_CASES)
def test_bad_metric_keys(run: tr.Run, key: object, expected: str) -> None:
    assert _message(run.log_metric, key, 1.0) == f"A metric key {expected}"


def test_a_key_of_exactly_250_characters_is_fine(run: tr.Run, ws: Workspace) -> None:
    run.log_metric("k" * 250, 1.0)
    run.log_param("p" * 250, 1)
    assert tr.get_run(ws, run.id).metrics == {"k" * 250: 1.0}


def test_param_and_tag_keys_are_checked_the_same_way(run: tr.Run) -> None:
    assert _message(run.log_param, "", 1).startswith("A param key must be a non-empty name")
    assert _message(run.set_tag, None, 1).startswith("A tag key must be a string; got NoneType")


NUMBER = "Log a float or int (for text, use set_tag or log_param)."
VALUE_CASES = [
    ("0.5", f"expects a number; got str '0.5'. {NUMBER}"),
    (True, f"expects a number; got bool True. {NUMBER}"),
    (None, f"expects a number; got NoneType None. {NUMBER}"),
    ([1.0], f"expects a number; got list [1.0]. {NUMBER}"),
    (
        math.nan,
        "expects a number; got NaN. sluice does not store NaN (it cannot be compared or ranked); "
        "skip this value, or record the event with set_tag, for example "
        "set_tag('diverged', 'true').",
    ),
    (
        10**400,
        f"expects a value that converts to a float; got int {'1' + '0' * 56}... "
        "(int too large to convert to float). Log a plain number.",
    ),
]


@pytest.mark.parametrize(("value", "expected"), VALUE_CASES)
def test_bad_metric_values(run: tr.Run, value: object, expected: str) -> None:
    assert _message(run.log_metric, "m", value) == f"Metric 'm' {expected}"


def test_numpy_nan_is_refused_too(run: tr.Run) -> None:
    np = pytest.importorskip("numpy")
    assert "got NaN" in _message(run.log_metric, "m", np.float64("nan"))


STEP = "Pass the epoch or iteration number as an int."
STEP_CASES = [
    (1.5, f"must be an integer; got float 1.5. {STEP}"),
    (True, f"must be an integer; got bool True. {STEP}"),
    (2**63, f"must fit in 64 bits; got {2**63}. Use a smaller number."),
]


@pytest.mark.parametrize(("step", "expected"), STEP_CASES)
def test_bad_steps(run: tr.Run, step: object, expected: str) -> None:
    assert _message(run.log_metric, "m", 1.0, step) == f"The step of metric 'm' {expected}"


def test_bad_timestamps(run: tr.Run) -> None:
    assert _message(run.log_metric, "m", 1.0, 0, "now") == (
        "The timestamp of metric 'm' must be Unix seconds as a number; got str 'now'. "
        "Pass time.time() or leave it out."
    )
    assert _message(run.log_metric, "m", 1.0, 0, math.inf) == (
        "The timestamp of metric 'm' must be finite Unix seconds; got inf. "
        "Pass time.time() or leave it out."
    )


def test_a_param_cannot_change_and_the_message_names_both_values(
    run: tr.Run, ws: Workspace
) -> None:
    run.log_param("lr", 0.1)
    run.log_param("lr", "0.1")  # the same text again is fine
    assert _message(run.log_param, "lr", 0.2) == (
        f"Param 'lr' of run {run.id} is already '0.1'; got '0.2'. Params are immutable: keep "
        "the first value, log the new one under another key, or start a new run."
    )
    assert _message(tr.log_params, {"depth": 3, "lr": 0.3}).startswith("Param 'lr' of run")
    assert tr.get_run(ws, run.id).params == {"lr": "0.1"}  # 'depth' was not kept either


def test_a_batch_with_one_bad_value_keeps_nothing(run: tr.Run, ws: Workspace) -> None:
    assert "got NaN" in _message(run.log_metrics, {"a": 1.0, "b": math.nan})
    assert "NUL" in _message(run.set_tags, {"a": "ok", "b": "x\x00"})
    assert tr.get_run(ws, run.id).metrics == {} and tr.get_run(ws, run.id).tags == {}


def test_mappings_are_required_where_mappings_are_expected(run: tr.Run) -> None:
    assert _message(run.log_params, [("a", 1)]) == (
        "log_params expects a mapping of names to values; got list. Pass a dict such as "
        "{'lr': 0.1}."
    )
    assert _message(run.log_metrics, 1.0).startswith("log_metrics expects a mapping")


def test_logging_into_an_ended_run(ws: Workspace) -> None:
    with tr.start_run("done", workspace=ws) as run:
        pass
    expected = (
        f"log_metric() expects an open run; run {run.id} (done) has already ended as "
        "finished. Start a new run to log more."
    )
    assert _message(run.log_metric, "m", 1.0) == expected
    assert _message(run.log_param, "p", 1).startswith("log_params() expects an open run")


def test_ending_with_an_unknown_status(ws: Workspace) -> None:
    run = tr.start_run(workspace=ws)
    assert _message(run.end, "finish") == (
        "A run ends as one of finished, failed, killed; got 'finish'. Did you mean 'finished'?"
    )
    assert _message(run.end, "running").startswith("A run ends as one of finished, failed")
    run.end()


def test_bad_names_and_arguments_of_start_run_create_no_run(ws: Workspace) -> None:
    assert _message(tr.start_run, "", workspace=ws) == (
        "The run name must be text of 1 to 200 characters; got ''. Pass a short name such as "
        "'baseline'."
    )
    assert _message(tr.start_run, experiment=None, workspace=ws).startswith(
        "The experiment name must be text of 1 to 200 characters; got NoneType None."
    )
    assert "NUL" in _message(tr.start_run, params={"a": "\x00"}, workspace=ws)
    assert _message(tr.start_run, parent=42, workspace=ws) == (
        "parent= expects a Run or a run id; got int 42. Pass the parent run object or its id."
    )
    assert tr.list_runs(ws) == [] and tr.active_run() is None


def test_links_to_records_that_do_not_exist(ws: Workspace) -> None:
    url = ws.store.safe_url
    assert _message(tr.start_run, parent="f" * 32, workspace=ws) == (
        f"Expected the id of an existing parent run; got '{'f' * 32}', which is not in the "
        f"store at {url}. Copy the id from list_runs(ws)."
    )
    assert _message(tr.start_run, pipeline_run_id="0" * 32, workspace=ws) == (
        f"Expected the id of an existing pipeline run; got '{'0' * 32}', which is not in the "
        f"store at {url}. Copy the id from the pipeline's runs."
    )
    assert _message(tr.start_run, step_run_id="1", workspace=ws).startswith(
        "Expected the id of an existing step run; got '1'"
    )
    assert tr.list_runs(ws) == []


def test_a_parent_in_another_workspace(ws: Workspace, tmp_path: Path) -> None:
    other = Workspace.at(tmp_path / "other")
    try:
        with tr.start_run(workspace=other) as parent:
            assert _message(tr.start_run, parent=parent, workspace=ws) == (
                f"The parent run {parent.id} lives in {other.store.safe_url}, but the new run "
                f"would go to {ws.store.safe_url}. Start the child in the parent's workspace "
                "(leave workspace= out)."
            )
    finally:
        other.close()


def test_reading_a_run_that_does_not_exist(ws: Workspace) -> None:
    with tr.start_run(workspace=ws) as run:
        pass
    with pytest.raises(RunNotFound) as err:
        tr.get_run(ws, run.id[:8])
    assert str(err.value) == (
        f"Expected the id of a run in the store at {ws.store.safe_url}; got '{run.id[:8]}', "
        "which matches no run. List the runs with list_runs(ws) and copy the full id. "
        f"Did you mean '{run.id}'?"
    )
    with pytest.raises(RunNotFound, match="got 'nope', which matches no run"):
        tr.metric_history(ws, "nope", "loss")


def test_the_history_of_a_metric_the_run_does_not_have(ws: Workspace) -> None:
    with tr.start_run(workspace=ws) as run:
        run.log_metrics({"loss": 1.0, "accuracy": 0.5})
    assert _message(tr.metric_history, ws, run.id, "los") == (
        f"Run {run.id} has no metric 'los'; its metrics are: 'accuracy', 'loss'. "
        "Did you mean 'loss'?"
    )


def test_listing_runs_by_an_unknown_status(ws: Workspace) -> None:
    assert _message(tr.list_runs, ws, status="fialed") == (
        "status= expects one of running, finished, failed, killed; got 'fialed'. "
        "Did you mean 'failed'?"
    )
