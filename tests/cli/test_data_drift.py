"""`sluice data drift` on the bundled bike data: 2011 as the reference, 2012 as the current.

Rentals grew by two thirds from 2011 to 2012, so the counts drift, and ``yr`` (0
then 1) and the running ``instant`` and ``dteday`` drift by construction; the
weather and the calendar do not. Seven of the seventeen columns: below the default
dataset share of 50%, above 30%.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sluice.cli.main import app
from sluice.data import read_table
from sluice.data.cluster import ADDRESS_ENV
from sluice.monitoring import DriftSettings, dataset_drift
from tests.data.conftest import BIKE_CSV_GZ

runner = CliRunner(env={"COLUMNS": "200"})
DRIFTED = ["instant", "dteday", "yr", "hum", "casual", "registered", "cnt"]


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["data", "drift", *(str(a) for a in args)])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # Rich wraps lines


@pytest.fixture(scope="module")
def bikes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2011 as CSV, 2012 as Parquet and as a folder of Parquet parts, all years as CSV."""
    folder = tmp_path_factory.mktemp("bikes")
    frame = read_table(BIKE_CSV_GZ)
    frame[frame.yr == 0].to_csv(folder / "2011.csv", index=False)
    frame[frame.yr == 1].to_parquet(folder / "2012.parquet", index=False)
    (folder / "parts").mkdir()
    frame[frame.yr == 1].to_parquet(folder / "parts" / "part-0.parquet", index=False)
    return {
        "2011": folder / "2011.csv",
        "2012": folder / "2012.parquet",
        "parts": folder / "parts",
        "all": BIKE_CSV_GZ,
    }


def final_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def table_rows(out: str) -> dict[str, list[str]]:
    """The table's cells by column name: kind, method, value, p-value, drifted."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6 and cells[0] not in ("column", ""):
            rows[cells[0]] = cells[1:]
    return rows


def test_2011_against_2012_drifts_in_the_counts_and_the_year(
    sluice_home: Path, bikes: dict[str, Path]
) -> None:
    assert runner.invoke(app, ["data", "add", str(bikes["2011"]), "--name", "bikes"]).exit_code == 0
    code, out, err = run("bikes@1", bikes["2012"], "--dataset-share", "0.3")
    assert (code, err) == (1, "")
    assert final_line(out) == (
        "Drift: 7 of 17 columns drifted (41%); the dataset drifted at a share of 30%."
    )
    rows = table_rows(out)
    assert len(rows) == 17
    assert sorted(name for name, cells in rows.items() if cells[-1] == "yes") == sorted(DRIFTED)
    assert rows["cnt"][:2] == ["numeric", "Wasserstein (normalized)"]
    assert float(rows["cnt"][2]) > 0.5  # the verdict's figure: far above the 0.1 threshold
    assert rows["yr"][2] == "inf"  # a constant reference: any change is infinite in its units
    assert rows["temp"][-1] == "no"

    code, out, _ = run("bikes", bikes["2012"])  # the latest version; the default share, 50%
    assert code == 0
    assert final_line(out) == (
        "Drift: 7 of 17 columns drifted (41%); the dataset did not drift at a share of 50%."
    )


def test_a_file_against_itself_does_not_drift(bikes: dict[str, Path]) -> None:
    code, out, err = run(bikes["all"], bikes["all"])
    assert (code, err) == (0, "")
    assert final_line(out) == (
        "Drift: 0 of 17 columns drifted (0%); the dataset did not drift at a share of 50%."
    )
    assert {cells[-1] for cells in table_rows(out).values()} == {"no"}


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def test_json_is_dataset_drift_of_the_two_files(bikes: dict[str, Path]) -> None:
    code, out, _ = run(bikes["2011"], bikes["2012"], "--dataset-share", "0.3", "--json")
    assert code == 1
    got = json.loads(out, parse_constant=_refuse)  # strict JSON: jq reads it too
    expected = dataset_drift(
        read_table(bikes["2011"]),
        read_table(bikes["2012"]),
        settings=DriftSettings(dataset_share=0.3),
    ).to_dict()
    # 'yr' is constant in 2011: its effect size is infinite, written as null
    year = next(c for c in expected["columns"] if c["column"] == "yr")
    assert year["effect_size"] == float("inf")
    year["effect_size"] = None
    assert got == json.loads(json.dumps(expected))
    assert got["drifted"] is True and got["threshold"] == 0.3
    assert sorted(got["drifted_columns"]) == sorted(DRIFTED)
    assert got["correction"] == "benjamini-hochberg"


def test_the_settings_reach_the_statistics(bikes: dict[str, Path]) -> None:
    args = [bikes["2011"], bikes["2012"], "--json"]
    code, out, _ = run(*args, "--categorical", "season,weathersit", "--categorical", "mnth")
    by_name = {c["column"]: c for c in json.loads(out)["columns"]}
    assert {by_name[c]["kind"] for c in ("season", "weathersit", "mnth")} == {"categorical"}
    assert by_name["season"]["method"] == "jensen_shannon"
    assert by_name["temp"]["kind"] == "numeric"

    code, out, _ = run(*args, "--large-sample", "100000", "--p-value", "0.01")
    by_name = {c["column"]: c for c in json.loads(out)["columns"]}
    assert {c["method"] for c in by_name.values()} == {"ks"}
    assert by_name["temp"]["drifted"] is True  # a test on 8,000 rows flags a small change
    assert code == 1  # and so does every other column the test flags: more than half

    code, out, _ = run(*args[:2], "--wasserstein", "5")
    assert code == 0 and "Drift: 1 of 17 columns drifted (6%)" in out  # only yr: infinite

    code, out, _ = run(*args[:2], "--min-rows", "9000")
    assert code == 0
    assert "Not compared: cnt (not enough data: 8645 rows, need at least 9000" in out
    assert final_line(out).startswith("Drift: 0 of 0 columns drifted (0%)")


def test_columns_on_one_side_are_listed(bikes: dict[str, Path], tmp_path: Path) -> None:
    current = read_table(bikes["2012"]).drop(columns=["casual"]).assign(extra=1.0)
    current.to_parquet(tmp_path / "current.parquet", index=False)
    code, out, _ = run(bikes["2011"], tmp_path / "current.parquet")
    assert code == 0
    assert "Only in REFERENCE: casual." in out and "Only in CURRENT: extra." in out
    assert final_line(out).startswith("Drift: 6 of 16 columns drifted")


def test_input_errors_exit_2_naming_the_input_and_the_fix(
    sluice_home: Path, bikes: dict[str, Path], tmp_path: Path
) -> None:
    runner.invoke(app, ["data", "add", str(bikes["2011"]), "--name", "bikes"])
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(tmp_path / "other.csv", index=False)
    pd.DataFrame({"a": [1.5, 2.5] * 20}).to_csv(tmp_path / "numbers.csv", index=False)
    pd.DataFrame({"a": ["low", "high"] * 20}).to_csv(tmp_path / "words.csv", index=False)
    as_text = read_table(bikes["2012"]).astype({"dteday": str})  # as pd.read_csv leaves it
    as_text.to_parquet(tmp_path / "dates-as-text.parquet", index=False)
    cases = [
        (
            (bikes["2011"], tmp_path / "nowhere.csv"),
            f"Expected CURRENT to be a CSV or Parquet file, or a folder or glob of Parquet "
            f"files; '{tmp_path / 'nowhere.csv'}' does not exist. Check the path",
        ),
        (
            (tmp_path / "nowhere.csv", bikes["2012"]),
            "Expected REFERENCE to be a CSV or Parquet file or a dataset version NAME@VERSION; "
            f"there is no file '{tmp_path / 'nowhere.csv'}'. Check the path, or name a version "
            "listed by `sluice data list`.",
        ),
        (
            ("bikez@1", bikes["2012"]),
            "Expected a dataset named 'bikez'; there is none. Did you mean 'bikes'?",
        ),
        (
            ("bikes@9", bikes["2012"]),
            "Expected version 9 of dataset 'bikes'; it has versions 1. Use one of them, or omit "
            "@N for the latest.",
        ),
        (
            (bikes["parts"], bikes["2012"]),
            "Expected REFERENCE to be one CSV or Parquet file or a dataset version NAME@VERSION "
            "(it is held in memory)",
        ),
        (
            (tmp_path / "other.csv", bikes["2012"]),
            "Expected REFERENCE and CURRENT to share columns to compare; they share none "
            "(REFERENCE: a, b; CURRENT: instant, dteday, season, yr, mnth, and 12 more). "
            "Compare two samples of the same table, or rename the columns to match.",
        ),
        (
            (bikes["2011"], bikes["2012"], "--categorical", "seasn"),
            "Expected --categorical to name columns of the data; 'seasn' is in neither "
            "REFERENCE nor CURRENT. Did you mean 'season'?",
        ),
        (
            (bikes["2011"], bikes["2011"], "--dask", "tcp://127.0.0.1:1"),
            f"Expected CURRENT to be Parquet on a Dask cluster; got the CSV file "
            f"'{bikes['2011']}'. Convert it to Parquet, or drop --dask to compare it in memory.",
        ),
        (
            (bikes["2011"], str(tmp_path / "*.csv"), "--dask", "tcp://127.0.0.1:1"),
            f"Expected CURRENT to be Parquet on a Dask cluster; got CSV files "
            f"'{tmp_path / '*.csv'}'. Convert them to Parquet, or pass one CSV file to compare "
            "it in memory.",
        ),
        (
            (bikes["2011"], tmp_path / "dates-as-text.parquet"),
            "Column 'dteday' must be numeric to be compared as numeric; got dtype str",
        ),
        (
            (bikes["2011"], tmp_path / "dates-as-text.parquet"),
            "They look like dates written as text: store the column as timestamps "
            "(pd.to_datetime before writing the file), or compare the column as categories",
        ),
        (
            (tmp_path / "numbers.csv", tmp_path / "words.csv"),
            "Column 'a' must be numeric to be compared as numeric; got dtype",
        ),
        (
            (tmp_path / "numbers.csv", tmp_path / "words.csv"),
            "Fix the data, or compare the column as categories (kind='categorical' in Python, "
            "--categorical on the command line).",
        ),
    ]
    for args, message in cases:
        code, out, err = run(*args)
        assert (code, out) == (2, ""), (args, err)
        assert message in err, (args, err)


def test_an_option_out_of_range_is_a_usage_error(bikes: dict[str, Path]) -> None:
    code, _, err = run(bikes["2011"], bikes["2012"], "--dataset-share", "1.5")
    assert code == 2 and "Invalid value for '--dataset-share'" in err
    code, _, err = run(bikes["2011"], bikes["2012"], "--p-value", "0")
    assert code == 2 and "DriftSettings.p_value must be in (0, 1]; got 0.0." in err


def test_a_team_server_is_refused_for_a_dataset_version(
    sluice_home: Path, bikes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_TRACKING_URI", "http://127.0.0.1:1")
    code, _, err = run("bikes@1", bikes["2012"])
    assert code == 2 and "This command works on a local store only" in err
    assert run(bikes["2011"], bikes["2012"])[0] == 0  # files need no store


def test_a_folder_without_dask_says_how_to_install_it(
    bikes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    code, _, err = run(bikes["2011"], bikes["parts"])
    assert code == 2
    assert "Expected Dask to be installed to run on a cluster; it is not" in err
    assert "Install the extra: pip install 'sluice[dask]'" in err


def test_a_folder_without_an_address_names_the_option_and_the_variable(
    bikes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADDRESS_ENV, raising=False)
    code, _, err = run(bikes["2011"], f"{bikes['parts']}/*.parquet")
    assert code == 2
    assert (
        "Expected the address of a Dask scheduler (tcp://host:port); got none. "
        f"Pass --dask ADDRESS or set {ADDRESS_ENV}."
    ) in err
    code, _, err = run(bikes["2011"], bikes["parts"].parent / "no-parts" / "*.parquet")
    assert code == 2 and "Expected CURRENT to match Parquet files" in err  # before connecting


def test_an_unreachable_scheduler_is_named(
    bikes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sluice.data.cluster.CONNECT_TIMEOUT", "1s")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run(bikes["2011"], bikes["parts"], "--dask", f"tcp://127.0.0.1:{port}")
    assert code == 2
    assert f"Expected a Dask scheduler at 'tcp://127.0.0.1:{port}'; nothing listens" in err
    assert "Start one with `dask scheduler`, or check the address." in err
