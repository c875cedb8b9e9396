"""Shared helpers for tests of the main job: small real datasets and fast sluice.yaml files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml

from sluice.store import tables as t
from sluice.workspace import Workspace

# Fast settings: two folds, one real candidate, no learning curve.
FAST: dict[str, dict[str, Any]] = {
    "selection": {"cv_folds": 2},
    "evaluation": {"learning_curve": False, "slices": True},
}
FAST_DEMO: dict[str, Any] = {
    "data": {"sample": 1200},
    "selection": {"cv_folds": 2, "candidates": ["ridge", "hist_gradient_boosting"]},
    "evaluation": {"learning_curve": False},
}


def mixed_frame(n: int = 240, *, task: str = "binary", seed: int = 0) -> pd.DataFrame:
    """Numeric, categorical, boolean and datetime columns with missing values and odd names."""
    rng = np.random.default_rng(seed)
    temp = rng.normal(20, 6, n)
    city = rng.choice(["Zürich", "Genève", "Bern"], n)
    member = rng.random(n) > 0.5
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h")
    signal = (temp - 20) / 6 + np.where(member, 1.0, -1.0) + (city == "Bern") * 0.8
    frame = pd.DataFrame(
        {
            "température": temp,
            "city name": city,
            "is.member": member,
            "day": day,
            "noise ß": rng.normal(0, 1, n),
        }
    )
    frame.loc[rng.choice(n, n // 10, replace=False), "température"] = np.nan
    frame.loc[rng.choice(n, n // 12, replace=False), "city name"] = None
    if task == "binary":
        frame["label"] = np.where(signal + rng.normal(0, 0.4, n) > 0, "yes", "no")
    elif task == "multiclass":
        frame["label"] = pd.cut(signal + rng.normal(0, 0.3, n), 3, labels=["low", "mid", "high"])
        frame["label"] = frame["label"].astype(str)
    else:
        frame["label"] = 50 + 12 * signal + rng.normal(0, 2, n)
    return frame


def job_yaml(
    folder: Path,
    data_file: Path,
    /,
    *,
    target: str = "label",
    gates: list[dict[str, Any]] | None = None,
    model: str = "m",
    **sections: Any,
) -> Path:
    """A sluice.yaml in ``folder`` for ``data`` with the fast settings, merged with ``sections``."""
    raw: dict[str, Any] = {
        "project": {"name": "test", "objective": "a test"},
        "data": {
            "path": data_file.name if data_file.parent == folder else str(data_file),
            "target": target,
        },
        "selection": dict(FAST["selection"]),
        "evaluation": dict(FAST["evaluation"]),
        "gates": gates if gates is not None else [{"kind": "validation"}],
        "model": {"name": model},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    path = folder / "sluice.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def counts(ws: Workspace) -> dict[str, int]:
    """Rows in the tables a run writes to."""
    tables = [t.dataset_versions, t.model_versions, t.artifacts, t.pipeline_runs, t.runs]
    with ws.store.read() as conn:
        return {
            tb.name: conn.execute(sa.select(sa.func.count()).select_from(tb)).scalar_one()
            for tb in tables
        }


def stored_files(home: Path) -> list[Path]:
    """Every file under the artifact folder (blobs and leftover temp files), but its marker."""
    root = home / "artifacts"
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p != root / "FORMAT")
