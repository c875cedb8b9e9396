"""Files for the data tests: the bundled bike-sharing CSV and small odd files made on the spot."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

BIKE_CSV_GZ = Path(str(files("sluice") / "datasets" / "bike_sharing_hour.csv.gz"))


@pytest.fixture(scope="session")
def bike_path() -> Path:
    return BIKE_CSV_GZ


@pytest.fixture(scope="session")
def bike_frame() -> pd.DataFrame:
    from sluice.data import read_table

    return read_table(BIKE_CSV_GZ)


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path
