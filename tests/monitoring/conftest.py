"""The UCI bike-sharing data shipped with sluice, read once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

BIKE = Path(__file__).resolve().parents[2] / "sluice" / "datasets" / "bike_sharing_hour.csv.gz"


@pytest.fixture(scope="session")
def bike() -> pd.DataFrame:
    return pd.read_csv(BIKE, parse_dates=["dteday"])
