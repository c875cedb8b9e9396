"""The candidate models per task, with what a person needs to choose between them.

Each candidate names its estimator, how interpretable it is, a complexity rank
(lower is simpler; the selection policy breaks ties with it) and a small search
space for the optional budgeted hyperparameter search. Defaults suit a laptop with
two cores: bounded tree counts and depths, n_jobs set explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sluice.errors import ModelError, did_you_mean
from sluice.models.types import Interpretability, Task


@dataclass(frozen=True)
class Candidate:
    """One kind of model to try. ``make()`` returns a fresh, unfitted estimator."""

    name: str
    factory: Callable[[], Any]
    interpretability: Interpretability
    complexity: int
    search_space: dict[str, Any] = field(default_factory=dict)
    baseline: bool = False

    def make(self) -> Any:
        return self.factory()


@dataclass(frozen=True)
class SearchSettings:
    """Budgeted random search per candidate: ``n_iter`` settings tried with ``cv`` folds."""

    n_iter: int = 8
    cv: int = 3
    enabled: bool = False


@dataclass(frozen=True)
class CandidateSettings:
    n_jobs: int = 2
    random_state: int = 0
    n_estimators: int = 100


def _regression(s: CandidateSettings) -> list[Candidate]:
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge

    return [
        Candidate(
            "baseline",
            lambda: DummyRegressor(strategy="mean"),
            Interpretability.HIGH,
            0,
            baseline=True,
        ),
        Candidate(
            "ridge",
            lambda: Ridge(alpha=1.0),
            Interpretability.HIGH,
            1,
            {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0]},
        ),
        Candidate(
            "hist_gradient_boosting",
            lambda: HistGradientBoostingRegressor(random_state=s.random_state),
            Interpretability.LOW,
            2,
            _HGB_SPACE,
        ),
        Candidate(
            "random_forest",
            lambda: RandomForestRegressor(
                n_estimators=s.n_estimators,
                min_samples_leaf=2,
                max_features=0.5,
                n_jobs=s.n_jobs,
                random_state=s.random_state,
            ),
            Interpretability.MEDIUM,
            3,
            _RF_SPACE,
        ),
    ]


def _classification(s: CandidateSettings) -> list[Candidate]:
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return [
        Candidate(
            "baseline",
            # class priors as probabilities: the same predictions as "most frequent", and a
            # log loss and Brier score a real model can fairly be compared with
            lambda: DummyClassifier(strategy="prior"),
            Interpretability.HIGH,
            0,
            baseline=True,
        ),
        Candidate(
            "logistic_regression",
            lambda: LogisticRegression(max_iter=1000),
            Interpretability.HIGH,
            1,
            {"C": [0.01, 0.1, 1.0, 10.0]},
        ),
        Candidate(
            "hist_gradient_boosting",
            lambda: HistGradientBoostingClassifier(random_state=s.random_state),
            Interpretability.LOW,
            2,
            _HGB_SPACE,
        ),
        Candidate(
            "random_forest",
            lambda: RandomForestClassifier(
                n_estimators=s.n_estimators,
                min_samples_leaf=2,
                max_features="sqrt",
                n_jobs=s.n_jobs,
                random_state=s.random_state,
            ),
            Interpretability.MEDIUM,
            3,
            _RF_SPACE,
        ),
    ]


_HGB_SPACE: dict[str, Any] = {
    "learning_rate": [0.03, 0.1, 0.2],
    "max_leaf_nodes": [15, 31, 63],
    "min_samples_leaf": [10, 20, 50],
    "l2_regularization": [0.0, 0.1, 1.0],
}
_RF_SPACE: dict[str, Any] = {"min_samples_leaf": [1, 2, 5, 10], "max_depth": [None, 10, 20]}


def candidates_for(
    task: Task | str,
    *,
    include: Sequence[str] | None = None,
    settings: CandidateSettings | None = None,
) -> list[Candidate]:
    """The candidates for ``task``; the baseline is always among them.

    ``include`` picks some by name (the baseline is added when left out, because
    every model is judged against it).
    """
    task, settings = Task.parse(task), settings or CandidateSettings()
    found = _classification(settings) if task is Task.CLASSIFICATION else _regression(settings)
    if include is None:
        return found
    by_name = {c.name: c for c in found}
    for name in include:
        if name not in by_name:
            raise ModelError(
                f"Expected candidate names for {task.value} ({', '.join(by_name)}); got {name!r}."
                f"{did_you_mean(name, by_name)} Fix 'candidates' in sluice.yaml."
            )
    chosen = [c for c in found if c.name in set(include) or c.baseline]
    return chosen
