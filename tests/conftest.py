"""Fixtures: real stores in temporary folders, and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.config import Settings
from sluice.workspace import Workspace
from tests.cluster import DaskCluster
from tests.pg import PostgresServer, find_bin_dir

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh embedded workspace (SQLite + local artifacts) in a temp folder."""
    workspace = Workspace.at(tmp_path / "home")
    yield workspace
    workspace.close()


@pytest.fixture
def sluice_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SLUICE_HOME pointing at a temp folder, for the CLI and the fluent API."""
    home = tmp_path / "home"
    monkeypatch.setenv("SLUICE_HOME", str(home))
    monkeypatch.delenv("SLUICE_DB_URL", raising=False)
    monkeypatch.delenv("SLUICE_ARTIFACTS", raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    url = os.environ.get("SLUICE_TEST_PG_URL")
    if url:
        yield url
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if IN_CI:
            pytest.fail("CI=true but no PostgreSQL binaries were found; .ci/run installs them.")
        pytest.skip("no PostgreSQL server binaries here (apt-get install postgresql to run these)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer | str) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    if isinstance(postgres_server, str):
        return postgres_server
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """The same test on an SQLite and on a PostgreSQL workspace."""
    home = tmp_path / "home"
    if request.param == "sqlite":
        settings = Settings.at(home)
    else:
        url = request.getfixturevalue("pg_url")
        settings = Settings(home=home, db_url=url, artifacts=str(home / "artifacts"))
    workspace = Workspace(settings)
    yield workspace
    workspace.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A real scheduler and two single-threaded workers, as separate processes on loopback."""
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()  # also when it failed to start: no process outlives the session
