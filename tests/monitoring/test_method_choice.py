"""The verdict's method depends on the kind and on the sizes of BOTH windows."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from sluice.monitoring import column_drift

RNG = np.random.default_rng(5)
PACKAGE = Path(__file__).resolve().parents[2] / "sluice" / "monitoring"


def normal(n: int, loc: float = 0.0) -> pd.Series:
    return pd.Series(RNG.normal(loc, 1.0, n))


def test_both_windows_large_use_the_effect_size() -> None:
    result = column_drift(normal(5000), normal(5000), kind="numeric")
    assert result.method == "wasserstein"


def test_one_small_window_uses_the_test_even_with_a_large_reference() -> None:
    result = column_drift(normal(50_000), normal(200), kind="numeric")
    assert result.method == "ks"
    assert "a window is small" in result.reason
    result = column_drift(pd.Series(["a", "b"] * 100), pd.Series(["a"] * 5000), kind="categorical")
    assert result.method == "chi_squared"


def test_a_trivial_shift_on_large_samples_is_significant_but_not_drift() -> None:
    result = column_drift(normal(100_000), normal(100_000, loc=0.03), kind="numeric")
    assert result.p_value is not None and result.p_value < 1e-6
    assert not result.drifted
    assert "p-values flag trivial differences" in result.reason


def test_a_real_shift_on_large_samples_is_drift() -> None:
    result = column_drift(normal(5000), normal(5000, loc=0.5), kind="numeric")
    assert result.drifted
    assert result.effect_size is not None and 0.4 < result.effect_size < 0.6


def test_large_categorical_windows_use_jensen_shannon() -> None:
    reference = pd.Series(RNG.choice(["x", "y", "z"], 4000, p=[0.5, 0.3, 0.2]))
    current = pd.Series(RNG.choice(["x", "y", "z"], 4000, p=[0.2, 0.3, 0.5]))
    result = column_drift(reference, current, kind="categorical")
    assert result.method == "jensen_shannon"
    assert result.drifted
    assert result.psi is not None and result.psi > 0.2


# Monitors, alerts and their storage use the store, registry and log; the statistics do not.
MONITOR_MODULES = {
    "__init__", "alerts", "distributions", "evaluate", "monitor_settings", "monitor_store",
    "monitors", "performance", "prediction_drift", "records", "reference", "window_spec",
}  # fmt: skip
# The cluster path reads Parquet and talks to Dask through sluice.data.cluster; the
# statistics it runs per partition are the ones checked here.
CLUSTER_MODULES = {"drift_dask"}


def test_the_package_imports_only_numpy_scipy_pandas_and_errors() -> None:
    allowed = {"__future__", "dataclasses", "typing", "collections", "warnings"}
    allowed |= {"numpy", "scipy", "pandas"}
    for path in PACKAGE.glob("*.py"):
        if path.stem in MONITOR_MODULES | CLUSTER_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                inside = name == "sluice.errors" or name.startswith("sluice.monitoring")
                assert top in allowed or inside, f"{path.name} imports {name}"
