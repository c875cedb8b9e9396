"""Cross-validated model selection with a stated policy and reasons in plain English.

Every candidate is cross-validated on the training part with the same splits.
The policy takes the best mean score, then lets a simpler (and then faster)
candidate win when its score is within a tolerance of the best: a model that is
as good but easier to explain and cheaper to run is the better choice.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sluice.errors import ModelError, did_you_mean
from sluice.models.candidates import Candidate, SearchSettings
from sluice.models.fanout import FanOut, fan_out
from sluice.models.features import build_model
from sluice.models.metrics import DEFAULT_METRIC, Metric, compute, get_metric, outcome
from sluice.models.persistence import dumps
from sluice.models.splits import make_splitter, time_order
from sluice.models.threads import DEFAULT_OPENMP_THREADS
from sluice.models.threads import openmp_threads as limit_openmp
from sluice.models.types import SchemaLike, Task


@dataclass(frozen=True)
class SelectionPolicy:
    """Within ``tolerance`` of the best score, the simpler then faster candidate wins.

    ``relative=True``: tolerance is a share of the best score (0.01 = 1 %);
    otherwise it is in the metric's own units. The baseline never wins: it is the
    yardstick the others are measured against.
    """

    tolerance: float = 0.01
    relative: bool = True

    def __post_init__(self) -> None:
        if not self.tolerance >= 0:
            raise ModelError(
                f"Expected a selection tolerance ≥ 0; got {self.tolerance!r}. "
                "Set 'selection.tolerance' in sluice.yaml, e.g. 0.01 for 1 %."
            )

    def within(self, metric: Metric, best: float, score: float) -> bool:
        gap = metric.signed(best) - metric.signed(score)
        allowed = self.tolerance * abs(best) if self.relative else self.tolerance
        return bool(gap <= allowed + 1e-12)

    def describe(self) -> str:
        return f"{self.tolerance * 100:g}%" if self.relative else f"{self.tolerance:g} (absolute)"


@dataclass
class CandidateResult:
    """One row of the leaderboard."""

    name: str
    metric: str
    cv_mean: float
    cv_std: float
    cv_scores: list[float]
    fit_seconds: float
    predict_seconds_per_row: float
    size_bytes: int
    interpretability: str
    complexity: int
    baseline: bool
    params: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SelectionResult:
    metric: str
    leaderboard: list[CandidateResult]
    winner: str
    model: Any
    baseline_model: Any
    reasons: list[str]

    def row(self, name: str) -> CandidateResult:
        """The leaderboard row of candidate ``name``."""
        for row in self.leaderboard:
            if row.name == name:
                return row
        names = [r.name for r in self.leaderboard]
        raise ModelError(
            f"Expected one of the candidates {', '.join(names)}; got {name!r}."
            f"{did_you_mean(name, names)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything but the fitted models, JSON-able."""
        return {
            "metric": self.metric,
            "winner": self.winner,
            "reasons": list(self.reasons),
            "leaderboard": [r.to_dict() for r in self.leaderboard],
        }


def select(
    X: Any,
    y: Any,
    *,
    task: Task | str,
    candidates: Sequence[Candidate],
    schema: SchemaLike,
    metric: str | None = None,
    cv: int = 5,
    policy: SelectionPolicy | None = None,
    search: SearchSettings | None = None,
    on_candidate: Callable[[CandidateResult], None] | None = None,
    random_state: int = 0,
    openmp_threads: int = DEFAULT_OPENMP_THREADS,
    cluster: Any = None,
) -> SelectionResult:
    """Cross-validate ``candidates`` on (X, y), pick one by ``policy``, refit it on all rows.

    Rows are put in time order first when the schema names a time column, and then
    split forward in time. ``on_candidate`` is called with each leaderboard row as
    soon as it is known (the tabular template logs each as a tracked run), in the
    order of ``candidates`` and in the calling process.
    ``openmp_threads``: see :mod:`sluice.models.threads`.

    ``cluster`` says where the work runs (see :mod:`sluice.models.fanout`): by default
    here, one candidate after another, or, when called inside a task on a Dask
    worker, as tasks on that worker's cluster; a scheduler address or a
    ``distributed.Client`` fans out over that cluster. Each candidate's search is one
    task (its trials tasks of their own) and each of its cross-validation folds one
    task. The leaderboard and the winner are the same wherever the work runs.
    """
    task = Task.parse(task)
    scorer = get_metric(metric or DEFAULT_METRIC[task], task)
    X, y = _prepare(X, y, schema)
    _check_candidates(candidates)
    setting = _Setting(
        task=task,
        schema=schema,
        metric=scorer,
        search=search or SearchSettings(),
        time_ordered=bool(schema.time_column and schema.time_column in X.columns),
        random_state=random_state,
    )
    policy = policy or SelectionPolicy()
    with limit_openmp(openmp_threads), fan_out(cluster, openmp_threads=openmp_threads) as where:
        return _select(X, y, candidates, setting, cv, policy, on_candidate, where)


@dataclass(frozen=True)
class _Setting:
    """What every candidate's work shares besides the data."""

    task: Task
    schema: SchemaLike
    metric: Metric
    search: SearchSettings
    time_ordered: bool
    random_state: int


def _select(
    X: Any,
    y: Any,
    candidates: Sequence[Candidate],
    setting: _Setting,
    cv: int,
    policy: SelectionPolicy,
    on_candidate: Callable[[CandidateResult], None] | None,
    where: FanOut,
) -> SelectionResult:
    rows, estimators = [], {}
    for cand, tuned, scored in _submit(X, y, candidates, setting, cv, where):
        estimator, params = where.result(tuned)
        row = _row(cand, params, [where.result(f) for f in scored], setting.metric)
        rows.append(row)
        estimators[cand.name] = estimator
        if on_candidate is not None:
            on_candidate(row)
    scorer, schema = setting.metric, setting.schema
    winner, reasons = choose(rows, scorer, policy)
    baseline = next(r.name for r in rows if r.baseline)
    return SelectionResult(
        metric=scorer.name,
        leaderboard=sorted(rows, key=lambda r: -scorer.signed(r.cv_mean)),
        winner=winner,
        model=_fit(build_model(schema, estimators[winner]), X, y)[0],
        baseline_model=_fit(build_model(schema, estimators[baseline]), X, y)[0],
        reasons=reasons,
    )


def _submit(
    X: Any, y: Any, candidates: Sequence[Candidate], setting: _Setting, cv: int, where: FanOut
) -> list[tuple[Candidate, Any, list[Any]]]:
    """Each candidate's search, then each of its folds, as work for ``where``: every fold
    waits for its candidate's search only, so candidates never wait for each other."""
    splitter = make_splitter(
        y,
        task=setting.task,
        folds=cv,
        time_ordered=setting.time_ordered,
        random_state=setting.random_state,
    )
    folds = list(splitter.split(X, y))
    data = where.share(X), where.share(y)
    pending = []
    for cand in candidates:
        key = cand.name
        tuned = where.submit(_tuned, cand, *data, setting, where.trial_backend, key=f"search-{key}")
        last = len(folds) - 1
        scored = [
            where.submit(
                _fold, cand, tuned, *data, tr, va, setting, n == last, key=f"fold-{key}-{n}"
            )
            for n, (tr, va) in enumerate(folds)
        ]
        pending.append((cand, tuned, scored))
    return pending


def _prepare(X: Any, y: Any, schema: SchemaLike) -> tuple[Any, Any]:
    if len(X) != len(y):
        raise ModelError(
            f"Expected as many target values as rows; got {len(y)} for {len(X)} rows. "
            "Pass the target column of the same frame."
        )
    X, y = time_order(X, y, schema.time_column)
    missing = int(y.isna().sum())
    if missing:
        raise ModelError(
            f"Expected a target value in every training row; {missing} of {len(y)} are missing. "
            "Drop those rows before training (the tabular template does so)."
        )
    return X, y


def _check_candidates(candidates: Sequence[Candidate]) -> None:
    names = [c.name for c in candidates]
    if sum(c.baseline for c in candidates) != 1 or len(set(names)) != len(names):
        raise ModelError(
            f"Expected distinct candidate names and exactly one baseline; got {names}. "
            "Build the list with sluice.models.candidates_for(task)."
        )
    if len(candidates) < 2:
        raise ModelError(
            "Expected at least one candidate besides the baseline; got only the baseline. "
            "List more candidates in sluice.yaml."
        )


def _fit(model: Any, X: Any, y: Any) -> tuple[Any, float, list[str]]:
    """Fit, timing it and keeping the warnings it raised (convergence and the like)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return model, time.perf_counter() - start, sorted({str(w.message) for w in caught})


@dataclass(frozen=True)
class _FoldResult:
    score: float
    fit_seconds: float
    predict_seconds_per_row: float
    warnings: list[str]
    size_bytes: int | None


def _fold(
    cand: Candidate,
    tuned: tuple[Any, dict[str, Any]],
    X: Any,
    y: Any,
    train: Any,
    valid: Any,
    setting: _Setting,
    last: bool,
) -> _FoldResult:
    """One cross-validation fold of the tuned candidate; the last also weighs the model."""
    from sklearn.base import clone

    model, seconds, caught = _fit(
        build_model(setting.schema, clone(tuned[0])), X.iloc[train], y.iloc[train]
    )
    start = time.perf_counter()
    said = outcome(model, X.iloc[valid], y.iloc[valid], setting.task)
    latency = (time.perf_counter() - start) / len(valid)
    size = len(dumps(model)) if last else None
    return _FoldResult(_fold_score(cand, setting.metric, said), seconds, latency, caught, size)


def _row(
    cand: Candidate, params: dict[str, Any], folds: list[_FoldResult], metric: Metric
) -> CandidateResult:
    scores = [f.score for f in folds]
    return CandidateResult(
        name=cand.name,
        metric=metric.name,
        cv_mean=float(np.mean(scores)),
        cv_std=float(np.std(scores)),
        cv_scores=scores,
        fit_seconds=float(np.mean([f.fit_seconds for f in folds])),
        predict_seconds_per_row=float(np.median([f.predict_seconds_per_row for f in folds])),
        size_bytes=folds[-1].size_bytes or 0,
        interpretability=cand.interpretability.value,
        complexity=cand.complexity,
        baseline=cand.baseline,
        params=params,
        warnings=sorted({w for f in folds for w in f.warnings}),
    )


def _fold_score(cand: Candidate, metric: Metric, said: Any) -> float:
    try:
        return compute(said, metric)
    except ModelError as exc:
        raise ModelError(f"Candidate {cand.name!r}, one cross-validation fold: {exc}") from exc


def _tuned(
    cand: Candidate, X: Any, y: Any, setting: _Setting, trial_backend: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """The candidate's estimator, with the best of a budgeted random search when enabled.

    ``trial_backend`` names a joblib backend ("dask") to run the search's trials on;
    the search draws the same settings and finds the same best wherever they run.
    """
    estimator, search, task = cand.make(), setting.search, setting.task
    if not (search.enabled and cand.search_space):
        return estimator, _plain_params(estimator)
    from sklearn.model_selection import ParameterGrid, RandomizedSearchCV

    from sluice.models.metrics import Scorer

    space = {f"model__{k}": v for k, v in cand.search_space.items()}
    budget = min(search.n_iter, len(ParameterGrid(space)))
    splitter = make_splitter(
        y,
        task=task,
        folds=search.cv,
        time_ordered=setting.time_ordered,
        random_state=setting.random_state,
    )
    finder = RandomizedSearchCV(
        build_model(setting.schema, estimator),
        space,
        n_iter=budget,
        cv=splitter,
        scoring=Scorer(setting.metric.name, task),
        random_state=setting.random_state,
        n_jobs=1 if trial_backend is None else -1,
    )
    if trial_backend is None:
        _fit(finder, X, y)
    else:
        from joblib import parallel_config

        with parallel_config(backend=trial_backend):
            _fit(finder, X, y)
    best = {k.removeprefix("model__"): v for k, v in finder.best_params_.items()}
    estimator = estimator.set_params(**best)
    return estimator, _plain_params(estimator)


def _plain_params(estimator: Any) -> dict[str, Any]:
    """The estimator's own hyperparameters that are plain values (what a run records)."""
    return {
        key: value
        for key, value in sorted(estimator.get_params(deep=False).items())
        if value is None or isinstance(value, str | int | float | bool)
    }


def choose(
    rows: Sequence[CandidateResult], metric: Metric, policy: SelectionPolicy
) -> tuple[str, list[str]]:
    """The winner's name and the reasons, as the policy states them."""
    contenders = [r for r in rows if not r.baseline]
    best = max(contenders, key=lambda r: metric.signed(r.cv_mean))
    close = [r for r in contenders if policy.within(metric, best.cv_mean, r.cv_mean)]
    winner = min(close, key=lambda r: (r.complexity, r.predict_seconds_per_row))
    return winner.name, _reasons(winner, best, close, rows, metric, policy)


def _reasons(
    winner: CandidateResult,
    best: CandidateResult,
    close: list[CandidateResult],
    rows: Sequence[CandidateResult],
    metric: Metric,
    policy: SelectionPolicy,
) -> list[str]:
    label = metric.label
    ranked = sorted((r for r in rows if not r.baseline), key=lambda r: -metric.signed(r.cv_mean))
    place = ranked.index(winner) + 1
    reasons = [
        f"{winner.name} won: CV {label} {_fmt(winner)}, "
        f"{'best' if place == 1 else f'#{place}'} of {len(ranked)} candidates "
        f"besides the baseline ({'higher' if metric.greater_is_better else 'lower'} is better)."
    ]
    if winner is not best:
        reasons.append(
            f"{best.name} scored best ({_fmt(best)}), but {winner.name} is within the "
            f"{policy.describe()} tolerance and simpler ({_why(winner, best)}), so it wins."
        )
    for other in close:
        if other is not winner and other is not best:
            why = _why(winner, other)
            reasons.append(f"{other.name} was within the {policy.describe()} tolerance but {why}.")
    baseline = next(r for r in rows if r.baseline)
    reasons.append(_against_baseline(winner, baseline, metric))
    return reasons


def _fmt(row: CandidateResult) -> str:
    return f"{row.cv_mean:.4g} ± {row.cv_std:.2g}"


def _why(winner: CandidateResult, other: CandidateResult) -> str:
    """Why ``winner`` is preferred to ``other`` under the tie-break."""
    parts = []
    if winner.complexity < other.complexity:
        parts.append(
            f"{other.name} is more complex: rank {other.complexity} vs {winner.complexity}"
        )
    ratio = other.predict_seconds_per_row / max(winner.predict_seconds_per_row, 1e-12)
    if ratio >= 1.5:
        parts.append(f"{other.name} is {ratio:.0f}× slower to predict")
    return "; ".join(parts) or f"{winner.name} is faster to predict"


def _against_baseline(winner: CandidateResult, baseline: CandidateResult, metric: Metric) -> str:
    gain = metric.signed(winner.cv_mean) - metric.signed(baseline.cv_mean)
    if gain <= 0:
        return (
            f"No candidate beat the baseline (CV {metric.label} {_fmt(baseline)}): the features "
            "may not predict the target; check the data and the target column."
        )
    relative = gain / abs(baseline.cv_mean) if baseline.cv_mean else float("inf")
    return (
        f"The baseline scored {_fmt(baseline)}; {winner.name} is better by {gain:.4g} "
        f"({relative:.0%})."
    )
