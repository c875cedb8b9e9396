"""Reading CSV, gzipped CSV and Parquet, and every error a bad file gives."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from sluice.data import read_table
from sluice.data.read import read_arrow_bytes
from sluice.errors import DataFileNotFound, DataFormatError, EmptyData
from tests.data.conftest import write


def test_bike_csv_gz_reads_with_dates_parsed(bike_frame: pd.DataFrame) -> None:
    assert bike_frame.shape == (17379, 17)
    assert pd.api.types.is_datetime64_any_dtype(bike_frame["dteday"])
    assert bike_frame["dteday"].min() == pd.Timestamp("2011-01-01")
    assert bike_frame["cnt"].sum() == 3292679  # the published total of the UCI data


def test_odd_column_names_survive(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", "col one,temp.max,café,Größe\n1,2.5,a,x\n2,3.5,b,y\n")
    df = read_table(path)
    assert list(df.columns) == ["col one", "temp.max", "café", "Größe"]
    assert df["temp.max"].tolist() == [2.5, 3.5]


def test_utf8_bom_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbfa,b\n1,2\n")
    assert list(read_table(path).columns) == ["a", "b"]


def test_numeric_codes_stay_numbers_and_iso_dates_become_dates(tmp_path: Path) -> None:
    text = (
        "code,day,stamp,label\n"
        "20110101,2011-01-01,2011-01-01 10:00:00,a\n"
        "20110102,2011-01-02,2011-01-02 11:30:00,b\n"
    )
    df = read_table(write(tmp_path / "d.csv", text))
    assert pd.api.types.is_integer_dtype(df["code"])
    assert pd.api.types.is_datetime64_any_dtype(df["day"])
    assert pd.api.types.is_datetime64_any_dtype(df["stamp"])
    assert df["stamp"].iloc[1] == pd.Timestamp("2011-01-02 11:30:00")
    assert df["label"].tolist() == ["a", "b"]


def test_empty_strings_are_missing(tmp_path: Path) -> None:
    df = read_table(write(tmp_path / "m.csv", "a,b\n1,x\n2,\n3,NA\n"))
    assert df["b"].isna().tolist() == [False, True, True]


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x y": [1, 2, 3], "ünï": ["a", None, "c"], "f": [0.5, None, 1.5]})
    frame.to_parquet(tmp_path / "t.parquet")
    back = read_table(tmp_path / "t.parquet")
    assert list(back.columns) == ["x y", "ünï", "f"]
    assert back["ünï"].isna().sum() == 1
    assert back["f"].tolist()[0] == 0.5


def test_format_override_and_parquet_sniffed_without_extension(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "blob")
    assert read_table(tmp_path / "blob")["a"].tolist() == [1, 2]
    write(tmp_path / "data.txt", "a\n1\n")
    assert read_table(tmp_path / "data.txt", format="csv")["a"].tolist() == [1]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        DataFileNotFound,
        match=r"Expected a data file at .*nope\.csv'; found nothing there\. Check the path",
    ):
        read_table(tmp_path / "nope.csv")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFound, match="found a folder there"):
        read_table(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyData, match=r"the file is empty \(0 bytes\)"):
        read_table(write(tmp_path / "e.csv", b""))


def test_blank_lines_only(tmp_path: Path) -> None:
    with pytest.raises(EmptyData, match="the CSV has no content"):
        read_table(write(tmp_path / "e.csv", "\n\n"))


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(
        EmptyData, match=r"found only a header \(3 columns, 0 rows\)\. Add data rows"
    ):
        read_table(write(tmp_path / "h.csv", "a,b,c\n"))


def test_non_utf8_csv_names_the_byte_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.csv", "id,city\n1,Paris\n2,Zürich\n".encode("latin-1"))
    with pytest.raises(DataFormatError) as info:
        read_table(path)
    message = str(info.value)
    assert "Expected a UTF-8 encoded CSV" in message
    assert "at byte 19 (line 3)" in message
    assert "in column 'city'" in message
    assert "Re-save the file as UTF-8" in message


def test_non_utf8_gzipped_csv_is_located_too(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.csv.gz", gzip.compress("a,b\n1,é\n".encode("latin-1")))
    with pytest.raises(DataFormatError, match=r"at byte 6 \(line 2\)"):
        read_table(path)


def test_non_utf8_header(tmp_path: Path) -> None:
    path = write(tmp_path / "hdr.csv", "préfix,b\n1,2\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"not UTF-8 at byte 2 \(line 1\)"):
        read_table(path)


def test_duplicate_column_names(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"these appear more than once: 'a', 'b'\. Rename them"
    ):
        read_table(write(tmp_path / "d.csv", "a,b,a,c,b\n1,2,3,4,5\n"))


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError,
        match=r"Expected a \.csv, \.csv\.gz or \.parquet file; got 'x\.xlsx'.*pass the format",
    ):
        read_table(write(tmp_path / "x.xlsx", "PK\x03\x04junk"))


def test_unknown_format_name_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"one of csv, parquet; got 'parqet'\. Did you mean 'parquet'\?"
    ):
        read_table(write(tmp_path / "a.csv", "a\n1\n"), format="parqet")


def test_ragged_csv(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"Expected a readable CSV file.*every row has the same fields"
    ):
        read_table(write(tmp_path / "r.csv", "a,b\n1,2\n3,4,5\n"))


def test_not_really_parquet(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"Expected a readable Parquet file.*really is Parquet"
    ):
        read_table(write(tmp_path / "fake.parquet", "a,b\n1,2\n"))


def test_stored_bytes_read_like_the_file(bike_path: Path, bike_frame: pd.DataFrame) -> None:
    table = read_arrow_bytes(bike_path.read_bytes(), format="csv", label="bikes@1")
    pd.testing.assert_frame_equal(table.to_pandas(date_as_object=False), bike_frame)


def test_stored_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"in 'v@1'; found a byte that is not UTF-8 at byte 4 \(line 3\)"
    ):
        read_arrow_bytes("a\n1\n\xe9\n".encode("latin-1"), format="csv", label="v@1")


def test_shared_credit_data_reads(shared_data: Path) -> None:
    df = read_table(shared_data / "credit-default" / "default_of_credit_card_clients.csv.gz")
    assert df.shape == (30000, 25)
    assert "default payment next month" in df.columns


def test_non_utf8_is_caught_when_parsing_with_dictionaries(tmp_path: Path) -> None:
    from sluice.data import read_arrow

    path = write(tmp_path / "latin.csv", "a,b\n1,x\n2,\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"at byte 10 \(line 3\) in column 'b'"):
        read_arrow(path, dictionaries=True)


def test_a_memory_mapped_csv_owes_nothing_to_the_file_once_read(tmp_path: Path) -> None:
    from sluice.data.read import read_arrow

    path = write(tmp_path / "m.csv", "name,n\nalpha,1\nbeta,2\n")
    table = read_arrow(path, dictionaries=True)
    write(path, "x\n")  # truncating a still-mapped file would crash the reads below
    assert table.column("name").to_pylist() == ["alpha", "beta"]
    assert table.column("n").to_pylist() == [1, 2]
