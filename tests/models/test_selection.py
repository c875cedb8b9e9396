"""Selection: cross-validation of real candidates, the tolerance policy, reasons, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sluice.errors import ModelError
from sluice.models.candidates import SearchSettings, candidates_for
from sluice.models.metrics import get_metric
from sluice.models.persistence import dumps, loads
from sluice.models.selection import CandidateResult, SelectionPolicy, choose, select
from tests.models.conftest import odd_frame, odd_schema


def _row(
    name: str, mean: float, complexity: int, latency: float, baseline: bool = False
) -> CandidateResult:
    return CandidateResult(
        name=name,
        metric="rmse",
        cv_mean=mean,
        cv_std=1.0,
        cv_scores=[mean],
        fit_seconds=0.1,
        predict_seconds_per_row=latency,
        size_bytes=1000,
        interpretability="high",
        complexity=complexity,
        baseline=baseline,
    )


ROWS = [
    _row("baseline", 180.0, 0, 1e-6, baseline=True),
    _row("ridge", 100.5, 1, 1e-6),
    _row("hist_gradient_boosting", 100.0, 2, 2e-6),
    _row("random_forest", 100.2, 3, 8e-6),
]
RMSE = get_metric("rmse", "regression")


def test_within_tolerance_the_simpler_candidate_wins_and_says_why() -> None:
    winner, reasons = choose(ROWS, RMSE, SelectionPolicy(tolerance=0.01))
    assert winner == "ridge"
    assert reasons == [
        "ridge won: CV RMSE 100.5 ± 1, #3 of 3 candidates besides the baseline (lower is better).",
        "hist_gradient_boosting scored best (100 ± 1), but ridge is within the 1% tolerance and "
        "simpler (hist_gradient_boosting is more complex: rank 2 vs 1; "
        "hist_gradient_boosting is 2× slower to predict), so it wins.",
        "random_forest was within the 1% tolerance but random_forest is more complex: "
        "rank 3 vs 1; random_forest is 8× slower to predict.",
        "The baseline scored 180 ± 1; ridge is better by 79.5 (44%).",
    ]


def test_outside_tolerance_the_best_wins() -> None:
    winner, reasons = choose(ROWS, RMSE, SelectionPolicy(tolerance=0.004))
    assert winner == "hist_gradient_boosting"
    assert (
        reasons[0]
        == "hist_gradient_boosting won: CV RMSE 100 ± 1, best of 3 candidates besides the "
        "baseline (lower is better)."
    )
    assert "random_forest was within the 0.4% tolerance" in reasons[1]  # 0.2 of 0.4 allowed


def test_an_absolute_tolerance_and_equal_complexity_goes_to_the_faster() -> None:
    rows = [ROWS[0], _row("slow", 0.90, 2, 5e-6), _row("fast", 0.89, 2, 1e-6)]
    r2 = get_metric("r2", "regression")
    assert choose(rows, r2, SelectionPolicy(tolerance=0.02, relative=False))[0] == "fast"
    assert choose(rows, r2, SelectionPolicy(tolerance=0.005, relative=False))[0] == "slow"


def test_the_baseline_never_wins_and_a_useless_model_is_called_out() -> None:
    rows = [_row("baseline", 10.0, 0, 1e-6, baseline=True), _row("ridge", 11.0, 1, 1e-6)]
    winner, reasons = choose(rows, RMSE, SelectionPolicy())
    assert winner == "ridge"
    assert reasons[-1] == (
        "No candidate beat the baseline (CV RMSE 10 ± 1): the features may not predict the "
        "target; check the data and the target column."
    )


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(ModelError) as err:
        SelectionPolicy(tolerance=-0.1)
    assert str(err.value) == (
        "Expected a selection tolerance ≥ 0; got -0.1. "
        "Set 'selection.tolerance' in sluice.yaml, e.g. 0.01 for 1 %."
    )


@pytest.fixture(scope="module")
def odd_regression() -> tuple[pd.DataFrame, pd.Series]:
    df = odd_frame(500, seed=1)
    return df.drop(columns=["y"]), df["y"]


def test_real_selection_records_every_candidate(
    odd_regression: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = odd_regression
    seen: list[str] = []
    result = select(
        X,
        y,
        task="regression",
        candidates=candidates_for("regression"),
        schema=odd_schema("regression"),
        metric="mae",
        cv=3,
        on_candidate=lambda row: seen.append(row.name),
    )
    assert seen == ["baseline", "ridge", "hist_gradient_boosting", "random_forest"]
    board = result.leaderboard
    assert [r.cv_mean for r in board] == sorted(r.cv_mean for r in board)
    for row in board:
        assert len(row.cv_scores) == 3 and row.cv_std == pytest.approx(np.std(row.cv_scores))
        assert row.fit_seconds > 0 and 0 < row.predict_seconds_per_row < 0.01
        assert row.size_bytes > 1000 and row.interpretability in {"high", "medium", "low"}
    assert result.row("baseline").cv_mean > 1.5 * min(r.cv_mean for r in board)
    assert result.reasons[0].startswith(f"{result.winner} won: CV MAE ")
    assert result.model.predict(X).shape == (len(X),)
    assert np.ptp(result.baseline_model.predict(X)) < 1e-9
    again = loads(dumps(result.model))
    np.testing.assert_allclose(again.predict(X), result.model.predict(X), rtol=1e-12)
    with pytest.raises(ModelError) as err:
        result.row("rigde")
    assert str(err.value) == (
        "Expected one of the candidates "
        + ", ".join(r.name for r in board)
        + "; got 'rigde'. Did you mean 'ridge'?"
    )
    as_json = result.to_dict()
    assert as_json["winner"] == result.winner and len(as_json["leaderboard"]) == 4


def test_a_generous_tolerance_lets_the_linear_model_win(
    odd_regression: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = odd_regression
    trees = candidates_for("regression", include=["ridge", "random_forest"])
    strict = select(
        X,
        y,
        task="regression",
        candidates=trees,
        schema=odd_schema("regression"),
        metric="rmse",
        cv=3,
        policy=SelectionPolicy(tolerance=0.0),
    )
    ridge, forest = strict.row("ridge"), strict.row("random_forest")
    best = min((ridge, forest), key=lambda r: r.cv_mean)
    assert strict.winner == best.name
    gap = abs(ridge.cv_mean - forest.cv_mean) / best.cv_mean
    loose = select(
        X,
        y,
        task="regression",
        candidates=trees,
        schema=odd_schema("regression"),
        metric="rmse",
        cv=3,
        policy=SelectionPolicy(tolerance=gap + 0.01),
    )
    assert loose.winner == "ridge"


def test_budgeted_search_records_the_chosen_params(
    odd_regression: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = odd_regression
    result = select(
        X,
        y,
        task="regression",
        candidates=candidates_for("regression", include=["ridge"]),
        schema=odd_schema("regression"),
        metric="rmse",
        cv=3,
        search=SearchSettings(enabled=True, n_iter=3, cv=2),
    )
    params = result.row("ridge").params
    assert params["alpha"] in {0.01, 0.1, 1.0, 10.0, 100.0}
    assert {"alpha", "fit_intercept", "solver"} <= set(params)
    assert result.model.named_steps["model"].alpha == params["alpha"]
    assert result.row("baseline").params == {"constant": None, "quantile": None, "strategy": "mean"}


def test_multiclass_selection_with_odd_columns() -> None:
    df = odd_frame(450, seed=2, classes=3)
    result = select(
        df.drop(columns=["y"]),
        df["y"],
        task="classification",
        candidates=candidates_for("classification"),
        schema=odd_schema("classification"),
        metric="balanced_accuracy",
        cv=3,
    )
    assert set(result.model.classes_) == {"low", "mid", "high"}
    assert result.row(result.winner).cv_mean > result.row("baseline").cv_mean + 0.2


def test_binary_selection_on_credit_default(credit: pd.DataFrame, credit_schema) -> None:  # type: ignore[no-untyped-def]
    sample = credit.sample(4000, random_state=0)
    target = credit_schema.target
    result = select(
        sample.drop(columns=[target]),
        sample[target],
        task="classification",
        candidates=candidates_for("classification"),
        schema=credit_schema,
        metric="roc_auc",
        cv=3,
    )
    assert result.row("baseline").cv_mean == pytest.approx(0.5)
    assert result.row(result.winner).cv_mean > 0.7


def test_time_ordered_selection_on_bike(bike: pd.DataFrame, bike_schema) -> None:  # type: ignore[no-untyped-def]
    part = bike.iloc[:3000].sample(frac=1.0, random_state=0)  # shuffled: select restores order
    result = select(
        part.drop(columns=["cnt"]),
        part["cnt"],
        task="regression",
        candidates=candidates_for("regression", include=["ridge"]),
        schema=bike_schema,
        metric="rmse",
        cv=3,
    )
    assert result.winner == "ridge"
    assert result.row("ridge").cv_mean < result.row("baseline").cv_mean


def test_select_errors(odd_regression: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = odd_regression
    schema = odd_schema("regression")
    with pytest.raises(ModelError) as err:
        select(
            X,
            y.where(y > y.min(), None),
            task="regression",
            candidates=candidates_for("regression"),
            schema=schema,
        )
    assert str(err.value) == (
        "Expected a target value in every training row; 1 of 500 are missing. "
        "Drop those rows before training (the tabular template does so)."
    )
    with pytest.raises(ModelError) as err:
        select(
            X, y.head(10), task="regression", candidates=candidates_for("regression"), schema=schema
        )
    assert str(err.value) == (
        "Expected as many target values as rows; got 10 for 500 rows. "
        "Pass the target column of the same frame."
    )
    only_baseline = [c for c in candidates_for("regression") if c.baseline]
    with pytest.raises(ModelError) as err:
        select(X, y, task="regression", candidates=only_baseline, schema=schema)
    assert str(err.value) == (
        "Expected at least one candidate besides the baseline; got only the baseline. "
        "List more candidates in sluice.yaml."
    )
    twice = candidates_for("regression", include=["ridge"]) * 2
    with pytest.raises(
        ModelError,
        match=r"exactly one baseline; got \['baseline', 'ridge', 'baseline', 'ridge'\]\. Build",
    ):
        select(X, y, task="regression", candidates=twice, schema=schema)
    with pytest.raises(ModelError, match="Expected at least 5 training rows for 5-fold"):
        select(
            X.head(4),
            y.head(4),
            task="regression",
            candidates=candidates_for("regression"),
            schema=schema,
        )


def test_selection_runs_with_the_openmp_threads_it_is_given(
    odd_regression: tuple[pd.DataFrame, pd.Series],
) -> None:
    from threadpoolctl import threadpool_info

    X, y = odd_regression
    seen: list[set[int]] = []

    def threads(row: object) -> None:
        seen.append({p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"})

    for n in (1, 2):
        select(
            X,
            y,
            task="regression",
            candidates=candidates_for("regression", include=["ridge"]),
            schema=odd_schema("regression"),
            cv=2,
            on_candidate=threads,
            openmp_threads=n,
        )
    assert seen == [{1}, {1}, {2}, {2}]
