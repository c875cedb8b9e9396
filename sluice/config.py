"""Settings from the environment: where the store lives.

``SLUICE_HOME``       folder of the embedded store (default ``./.sluice``)
``SLUICE_DB_URL``     SQLAlchemy URL of the metadata store (default SQLite in SLUICE_HOME)
``SLUICE_ARTIFACTS``  folder (or fsspec URL) of the artifact store (default SLUICE_HOME/artifacts)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    artifacts: str

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Settings:
        root = Path(home or os.environ.get("SLUICE_HOME") or ".sluice").expanduser().absolute()
        db_url = os.environ.get("SLUICE_DB_URL") or f"sqlite:///{root / 'sluice.db'}"
        artifacts = os.environ.get("SLUICE_ARTIFACTS") or str(root / "artifacts")
        return cls(home=root, db_url=db_url, artifacts=artifacts)

    @classmethod
    def at(cls, home: str | os.PathLike[str]) -> Settings:
        """Everything inside one folder, ignoring the environment (tests, demos)."""
        root = Path(home).expanduser().absolute()
        return cls(
            home=root, db_url=f"sqlite:///{root / 'sluice.db'}", artifacts=str(root / "artifacts")
        )
