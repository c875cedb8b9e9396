"""Dataset versions in a real store (SQLite, and PostgreSQL when a server is available)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.artifacts import content_hash, hash_file
from sluice.data import add_version, get_version, list_datasets, list_versions, load_frame
from sluice.errors import (
    ArtifactCorrupted,
    ColumnNotFound,
    ConfigError,
    DataFileNotFound,
    DataFormatError,
    EmptyData,
    NotFound,
)
from sluice.store import tables as t
from sluice.workspace import Workspace
from tests.data.conftest import write


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.datasets, t.dataset_versions, t.artifacts)
        )


def test_add_records_hash_schema_profile_and_bytes(any_ws: Workspace, bike_path: Path) -> None:
    v = add_version(any_ws, bike_path, "bikes", target="cnt", time_column="dteday")
    assert (v.ref, v.version, v.parent_id) == ("bikes@1", 1, None)
    assert v.content_hash == v.artifact_hash == hash_file(bike_path)
    assert (v.n_rows, v.n_cols, v.format, v.size_bytes) == (
        17379,
        17,
        "csv",
        bike_path.stat().st_size,
    )
    assert v.source_uri == str(bike_path.absolute())
    assert v.schema.target == "cnt" and v.schema.task == "regression"
    assert v.profile["columns"]["cnt"]["max"] == 977
    assert any_ws.get(v.artifact_hash) == bike_path.read_bytes()
    assert get_version(any_ws, "bikes@1") == v


def test_identical_bytes_give_the_same_version(
    any_ws: Workspace, bike_path: Path, tmp_path: Path
) -> None:
    first = add_version(any_ws, bike_path, "bikes")
    copy = tmp_path / "elsewhere.csv.gz"
    shutil.copy(bike_path, copy)
    again = add_version(any_ws, copy, "bikes")
    assert again == first
    assert _counts(any_ws) == (1, 1, 1)


def test_next_versions_and_latest(any_ws: Workspace, tmp_path: Path) -> None:
    a = add_version(any_ws, write(tmp_path / "a.csv", "x,y\n1,a\n2,b\n"), "small")
    b = add_version(any_ws, write(tmp_path / "b.csv", "x,y\n1,a\n2,b\n3,c\n"), "small")
    other = add_version(any_ws, tmp_path / "a.csv", "other")  # same bytes, another dataset
    assert (a.version, b.version, b.parent_id) == (1, 2, a.id)
    assert other.ref == "other@1" and other.artifact_hash == a.artifact_hash
    assert get_version(any_ws, "small").ref == "small@2"
    assert [v.ref for v in list_versions(any_ws, "small")] == ["small@1", "small@2"]
    summaries = list_datasets(any_ws)
    assert [(s.name, s.n_versions, s.latest.ref) for s in summaries] == [
        ("other", 1, "other@1"),
        ("small", 2, "small@2"),
    ]
    assert _counts(any_ws) == (2, 3, 2)  # the shared bytes are stored once


def test_load_frame_reads_the_stored_bytes(
    any_ws: Workspace, bike_path: Path, bike_frame: pd.DataFrame
) -> None:
    v = add_version(any_ws, bike_path, "bikes")
    pd.testing.assert_frame_equal(load_frame(any_ws, v), bike_frame)
    pd.testing.assert_frame_equal(load_frame(any_ws, "bikes@1"), bike_frame)


def test_parquet_versions(any_ws: Workspace, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a b": [1, 2, 3], "é": ["x", None, "z"]})
    frame.to_parquet(tmp_path / "f.parquet")
    v = add_version(any_ws, tmp_path / "f.parquet", "pq")
    assert v.format == "parquet"
    back = load_frame(any_ws, v)
    assert list(back.columns) == ["a b", "é"] and back["é"].isna().sum() == 1


def test_corrupted_bytes_are_refused(ws: Workspace, tmp_path: Path) -> None:
    v = add_version(ws, write(tmp_path / "a.csv", "x\n1\n2\n"), "small")
    blob = Path(str(ws.artifacts)) / v.artifact_hash[:2] / v.artifact_hash[2:]
    blob.write_bytes(b"x\n1\n3\n")
    with pytest.raises(ArtifactCorrupted, match="is corrupted"):
        load_frame(ws, v)


def test_unknown_names_and_versions(any_ws: Workspace, tmp_path: Path) -> None:
    add_version(any_ws, write(tmp_path / "a.csv", "x\n1\n2\n"), "bikes")
    with pytest.raises(
        NotFound,
        match=r"Expected a dataset named 'bike'; there is none\. "
        r"Did you mean 'bikes'\? See `sluice data list`",
    ):
        get_version(any_ws, "bike@1")
    with pytest.raises(
        NotFound,
        match=r"Expected version 7 of dataset 'bikes'; it has versions 1\. Use one of them",
    ):
        get_version(any_ws, "bikes@7")
    with pytest.raises(
        ConfigError, match=r"NAME@VERSION with a positive version number; got 'bikes@latest'"
    ):
        get_version(any_ws, "bikes@latest")
    with pytest.raises(NotFound, match="Did you mean 'bikes'"):
        list_versions(any_ws, "bikez")


@pytest.mark.parametrize("name", ["", "a@b", "with space", "-dash", "x" * 201])
def test_bad_dataset_names(ws: Workspace, tmp_path: Path, name: str) -> None:
    with pytest.raises(
        ConfigError, match=r"Expected a dataset name of letters, digits.*For example: bike-sharing"
    ):
        add_version(ws, write(tmp_path / "a.csv", "x\n1\n"), name)
    assert _counts(ws) == (0, 0, 0)


def test_bad_files_leave_nothing_behind(any_ws: Workspace, tmp_path: Path) -> None:
    cases = [
        (tmp_path / "missing.csv", DataFileNotFound),
        (write(tmp_path / "empty.csv", b""), EmptyData),
        (write(tmp_path / "header.csv", "a,b\n"), EmptyData),
        (write(tmp_path / "latin.csv", "a\né\n".encode("latin-1")), DataFormatError),
        (write(tmp_path / "dupes.csv", "a,a\n1,2\n"), DataFormatError),
        (write(tmp_path / "x.xlsx", "a\n1\n"), DataFormatError),
    ]
    for path, error in cases:
        with pytest.raises(error):
            add_version(any_ws, path, "bad")
    with pytest.raises(ColumnNotFound, match="Did you mean 'target'"):
        add_version(any_ws, write(tmp_path / "ok.csv", "target,x\n1,2\n"), "bad", target="targte")
    assert _counts(any_ws) == (0, 0, 0)
    assert not any(
        p.is_file() and p.name != "FORMAT" for p in Path(str(any_ws.artifacts)).rglob("*")
    )


def test_concurrent_writers_get_distinct_versions(any_ws: Workspace, tmp_path: Path) -> None:
    paths = [write(tmp_path / f"part{i}.csv", f"x,y\n{i},{i * 2}\n{i + 1},0\n") for i in range(8)]
    barrier = threading.Barrier(len(paths) + 2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(path: Path) -> None:
        try:
            barrier.wait()
            results.append(add_version(any_ws, path, "parts").ref)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # two writers race on the same bytes as well: they must end up with one version
    threads = [threading.Thread(target=worker, args=(p,)) for p in [*paths, paths[0], paths[0]]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = list_versions(any_ws, "parts")
    assert sorted(v.version for v in versions) == list(range(1, 9))
    assert len({v.content_hash for v in versions}) == 8
    assert len(results) == 10 and len(set(results)) == 8


@settings(max_examples=25, deadline=None)
@given(data=st.binary(min_size=0, max_size=5000))
def test_content_hash_is_stable_and_matches_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("h") / "blob"
    path.write_bytes(data)
    assert hash_file(path) == content_hash(data) == content_hash(bytes(data))
    assert len(content_hash(data)) == 64


def test_known_hash_of_the_bundled_data(bike_path: Path) -> None:
    # the address must never change across runs, machines or versions of sluice
    assert (
        hash_file(bike_path) == "39c0076a4150cae4eb43b0853b10df73da394bdc4ea3a2bbc0c33d5efbe0b6b4"
    )


def test_shared_bike_csv_versions(
    ws: Workspace, shared_data: Path, bike_frame: pd.DataFrame
) -> None:
    v = add_version(ws, shared_data / "bike-sharing" / "hour.csv", "bikes")
    assert v.n_rows == len(bike_frame)
    pd.testing.assert_frame_equal(load_frame(ws, v), bike_frame)
