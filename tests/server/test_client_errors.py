"""The client API's own refusals name the thing and the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sluice.client import LocalClient
from sluice.errors import ConfigError, NotFound
from sluice.workspace import Workspace
from tests.server.test_team_server import SLUICE, _register, _settings


@pytest.fixture
def api(tmp_path: Path) -> LocalClient:
    home = tmp_path / "home"
    _register(_settings(home, None))
    return LocalClient(Workspace.at(home))


def test_a_version_is_named_by_number_or_alias_not_both(api: LocalClient) -> None:
    with pytest.raises(ConfigError, match=r"a version number or an alias of demand, not both"):
        api.version("demand", 1, alias="champion")


def test_a_jobs_data_file_name_must_be_plain(api: LocalClient, tmp_path: Path) -> None:
    table = tmp_path / "demand.csv"
    table.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(40)))
    api.add_dataset(table, "demand", target="y")
    config = {
        "project": {"name": "demand", "objective": "x"},
        "data": {"path": "demand.csv", "target": "y"},
        "model": {"name": "demand"},
    }
    with pytest.raises(ConfigError, match=r"a plain file name such as day\.csv .*'\.\./x\.csv'"):
        api.prepare_job(config, dataset="demand@1", filename="../x.csv")


def test_a_report_of_a_window_the_monitor_does_not_have_is_not_found(
    api: LocalClient, tmp_path: Path
) -> None:
    table = tmp_path / "reference.csv"
    table.write_text("x,y\n" + "".join(f"{i},{3 * i}\n" for i in range(40)))
    api.add_dataset(table, "reference", target="y")
    api.create_monitor("watch", model="demand@champion", reference="reference@1")
    with pytest.raises(NotFound, match=r"the id of one of watch's results; got 999\. `sluice"):
        api.monitor_report("watch", 999)


def test_sluice_ui_names_the_users_it_could_sign_in_as(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env["SLUICE_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [SLUICE, "ui", "--user", "nobody"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "Expected --user to name an enabled user of this store (admin); got 'nobody'." in (
        done.stderr
    )
