"""Candidates per task: the baseline always, interpretability and complexity, name errors."""

from __future__ import annotations

import pytest
from sklearn.base import is_classifier, is_regressor

from sluice.errors import ModelError
from sluice.models.candidates import CandidateSettings, candidates_for
from sluice.models.types import Interpretability


@pytest.mark.parametrize(
    ("task", "names", "check"),
    [
        (
            "regression",
            ["baseline", "ridge", "hist_gradient_boosting", "random_forest"],
            is_regressor,
        ),
        (
            "classification",
            ["baseline", "logistic_regression", "hist_gradient_boosting", "random_forest"],
            is_classifier,
        ),
    ],
)
def test_candidates_per_task(task: str, names: list[str], check) -> None:  # type: ignore[no-untyped-def]
    found = candidates_for(task)
    assert [c.name for c in found] == names
    assert [c.baseline for c in found] == [True, False, False, False]
    assert [c.complexity for c in found] == [0, 1, 2, 3]
    assert all(check(c.make()) for c in found)
    assert found[1].interpretability is Interpretability.HIGH
    assert found[2].interpretability is Interpretability.LOW
    assert found[0].make() is not found[0].make()  # fresh, unfitted each time


def test_settings_reach_the_estimators() -> None:
    forest = candidates_for(
        "regression", settings=CandidateSettings(n_jobs=1, random_state=7, n_estimators=20)
    )[-1]
    params = forest.make().get_params()
    assert (params["n_jobs"], params["random_state"], params["n_estimators"]) == (1, 7, 20)


def test_include_keeps_the_baseline() -> None:
    assert [c.name for c in candidates_for("classification", include=["random_forest"])] == [
        "baseline",
        "random_forest",
    ]


def test_an_unknown_candidate_name_suggests_the_nearest() -> None:
    with pytest.raises(ModelError) as err:
        candidates_for("regression", include=["random_forrest"])
    assert str(err.value) == (
        "Expected candidate names for regression (baseline, ridge, hist_gradient_boosting, "
        "random_forest); got 'random_forrest'. Did you mean 'random_forest'? "
        "Fix 'candidates' in sluice.yaml."
    )
