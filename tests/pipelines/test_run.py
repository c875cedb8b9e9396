"""A real pipeline on the bundled bike-sharing data: run, cache, outputs, events, logs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sluice
from sluice.pipelines import EventKind, Status, StepEvent, get_run, list_runs
from sluice.workspace import Workspace
from tests.pipelines.conftest import WriteModule

BIKES = Path(sluice.__file__).parent / "datasets" / "bike_sharing_hour.csv.gz"

BIKE_PIPELINE = """
    import logging

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge

    from sluice.pipelines import current_step, pipeline, step

    log = logging.getLogger("bikes")
    FEATURES = ("hr", "temp", "hum", "windspeed", "workingday")


    @step
    def load(path: str) -> pd.DataFrame:
        df = pd.read_csv(path)
        log.info("read %d rows", len(df))
        return df


    @step(outputs=("train", "test"))
    def split(df: pd.DataFrame, test_share: float = 0.2):
        cut = int(len(df) * (1 - test_share))
        return df.iloc[:cut], df.iloc[cut:]


    @step
    def fit(train: pd.DataFrame, alpha: float = 1.0) -> Ridge:
        current_step().log(f"fitting on {len(train)} rows")
        return Ridge(alpha=alpha).fit(train[list(FEATURES)], train["cnt"])


    @step
    def predict(model: Ridge, test: pd.DataFrame) -> np.ndarray:
        return model.predict(test[list(FEATURES)])


    @step
    def score(predictions: np.ndarray, test: pd.DataFrame) -> dict:
        error = predictions - test["cnt"].to_numpy()
        return {"rmse": float(np.sqrt(np.mean(error**2))), "n": int(len(test))}


    @pipeline
    def bikes(path: str, test_share: float = 0.2, alpha: float = 1.0):
        train, test = split(load(path), test_share=test_share)
        model = fit(train, alpha=alpha)
        return {"metrics": score(predict(model, test), test)}
"""

STEPS = ["load", "split", "fit", "predict", "score"]


@pytest.fixture
def bikes(write_module: WriteModule):
    return write_module(BIKE_PIPELINE).bikes


def test_a_pipeline_runs_end_to_end_and_records_everything(ws: Workspace, bikes) -> None:
    events: list[StepEvent] = []
    run = bikes.run(ws, path=str(BIKES), on_event=events.append)

    assert run.status is Status.COMPLETED
    assert [s.name for s in run.steps] == STEPS
    assert all(s.status is Status.COMPLETED and s.attempts == 1 for s in run.steps)
    assert all(s.duration is not None and s.duration >= 0 and s.host for s in run.steps)
    metrics = run.output("score")
    assert metrics["n"] == 3476 and 50 < metrics["rmse"] < 400
    train = run.output("split", "train")
    assert isinstance(train, pd.DataFrame) and len(train) == 13903
    assert list(train.columns) == list(pd.read_csv(BIKES, nrows=1).columns)
    model = run.output("fit")
    assert type(model).__name__ == "Ridge" and model.coef_.shape == (5,)
    assert run.step("predict").inputs.keys() == {"model", "test"}
    assert run.step("predict").inputs["test"] == run.step("split").outputs["test"]
    assert [(e.kind, e.step) for e in events[:2]] == [
        (EventKind.STARTED, "load"),
        (EventKind.FINISHED, "load"),
    ]
    assert "[1/5] load: done in" in str(events[1])
    assert "INFO bikes: read 17379 rows" in (run.step("load").log or "")
    assert "fitting on 13903 rows" in (run.step("fit").log or "")
    assert run.params == {"path": str(BIKES), "test_share": 0.2, "alpha": 1.0}


def test_a_second_run_is_fully_cached_and_says_so(ws: Workspace, bikes) -> None:
    first = bikes.run(ws, path=str(BIKES))
    events: list[StepEvent] = []
    second = bikes.run(ws, path=str(BIKES), on_event=events.append)

    assert [s.status for s in second.steps] == [Status.CACHED] * 5
    assert [s.cached_from for s in second.steps] == [s.id for s in first.steps]
    assert [s.outputs for s in second.steps] == [s.outputs for s in first.steps]
    assert [e.kind for e in events] == [EventKind.CACHED] * 5
    assert "cached (reused step run" in str(events[0])
    assert second.output("score") == first.output("score")
    summary = list_runs(ws)[0]
    assert (summary.id, summary.steps, summary.cache_hits) == (second.id, 5, 5)


def test_a_cached_run_of_a_cached_run_points_at_the_original(ws: Workspace, bikes) -> None:
    first = bikes.run(ws, path=str(BIKES))
    bikes.run(ws, path=str(BIKES))
    third = bikes.run(ws, path=str(BIKES))
    assert [s.cached_from for s in third.steps] == [s.id for s in first.steps]


def test_changing_a_parameter_reruns_exactly_the_steps_it_reaches(ws: Workspace, bikes) -> None:
    bikes.run(ws, path=str(BIKES))
    run = bikes.run(ws, path=str(BIKES), alpha=10.0)
    statuses = {s.name: s.status for s in run.steps}
    assert statuses == {
        "load": Status.CACHED,
        "split": Status.CACHED,
        "fit": Status.COMPLETED,
        "predict": Status.COMPLETED,
        "score": Status.COMPLETED,
    }


def test_a_step_with_cache_off_always_runs(ws: Workspace, write_module: WriteModule) -> None:
    module = write_module(
        """
        from sluice.pipelines import pipeline, step

        @step(cache=False)
        def now(x: int) -> int:
            return x + 1

        @step
        def double(y: int) -> int:
            return 2 * y

        @pipeline
        def p(x: int = 1):
            double(now(x))
        """
    )
    module.p.run(ws)
    run = module.p.run(ws)
    assert [s.status for s in run.steps] == [Status.COMPLETED, Status.CACHED]


def test_records_are_the_same_on_sqlite_and_postgresql(any_ws: Workspace, bikes) -> None:
    first = bikes.run(any_ws, path=str(BIKES), test_share=0.5)
    second = bikes.run(any_ws, path=str(BIKES), test_share=0.5)
    assert all(s.cached for s in second.steps)
    again = get_run(any_ws, second.id[:8])
    assert again.id == second.id and again.cache_hits == 5
    assert again.output("score") == first.output("score")
    listed = list_runs(any_ws, pipeline="bikes", status=Status.COMPLETED)
    assert [(r.id, r.steps, r.cache_hits) for r in listed] == [(second.id, 5, 5), (first.id, 5, 0)]
    assert list_runs(any_ws, status=Status.FAILED) == []


def test_a_step_is_recorded_as_running_while_it_runs(
    ws: Workspace, write_module: WriteModule
) -> None:
    module = write_module(
        """
        from sluice.pipelines import current_step, get_run, pipeline, step

        @step
        def first(n: int) -> int:
            return n

        @step
        def slow(n: int) -> dict:
            ctx = current_step()
            seen = get_run(ctx.workspace, ctx.pipeline_run_id)
            return {s.name: s.status.value for s in seen.steps}

        @pipeline
        def p(n: int = 1):
            slow(first(n))
        """
    )
    seen = module.p.run(ws).output("slow")
    assert seen == {"first": "completed", "slow": "running"}


def test_a_value_that_is_not_json_travels_as_an_artifact(
    ws: Workspace, write_module: WriteModule
) -> None:
    module = write_module(
        """
        import pandas as pd
        from sluice.pipelines import pipeline, step

        @step
        def total(frame: pd.DataFrame, column: str) -> float:
            return float(frame[column].sum())

        @pipeline
        def p(frame: pd.DataFrame, column: str = "a"):
            total(frame, column=column)
        """
    )
    frame = pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]})
    run = module.p.run(ws, frame=frame)
    assert run.output("total") == 4.0
    assert run.step("total").inputs.keys() == {"frame"}
    assert module.p.run(ws, frame=frame.copy()).steps[0].cached
    assert not module.p.run(ws, frame=frame.assign(a=[0.0, 1.0])).steps[0].cached
