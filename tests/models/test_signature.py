"""Signature: inferred from a frame, round-tripped, and checked with every problem listed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sluice.errors import SignatureMismatch
from sluice.models.signature import Signature, infer_signature
from tests.models.conftest import odd_frame


@pytest.fixture
def frame() -> pd.DataFrame:
    df = odd_frame(50).drop(columns=["y"])
    df["signup date"] = pd.to_datetime(df["signup date"])
    df["is member"] = df["is member"].eq("yes")
    return df


def test_kinds_dtypes_and_domains(frame: pd.DataFrame) -> None:
    sig = Signature.from_frame(frame)
    kinds = {c.name: c.kind for c in sig.columns}
    assert kinds == {
        "ID": "numeric",
        "temp °C": "numeric",
        "city.name": "categorical",
        "is member": "boolean",
        "signup date": "datetime",
        "always one": "numeric",
    }
    city = next(c for c in sig.columns if c.name == "city.name")
    assert city.categories == ("Genève", "Malmö", "São Paulo", "Zürich")
    assert next(c for c in sig.columns if c.name == "temp °C").dtype == "float64"


def test_round_trip_through_json(frame: pd.DataFrame) -> None:
    X = np.c_[np.arange(10.0)]
    model = LogisticRegression().fit(X, np.array([0, 1] * 5))
    sig = infer_signature(frame, model, task="classification")
    back = Signature.from_dict(json.loads(json.dumps(sig.to_dict())))
    assert back == sig
    assert back.output == {"task": "classification", "classes": [0, 1]}


def test_a_frame_that_fits_passes_unchanged(frame: pd.DataFrame) -> None:
    sig = Signature.from_frame(frame)
    assert sig.check(frame) is frame
    loose = frame.astype({"ID": "float64"})
    loose["signup date"] = loose["signup date"].astype(str)  # JSON sends text dates
    loose["is member"] = loose["is member"].map({True: "true", False: "false"})
    loose["temp °C"] = np.nan  # all missing: imputed
    sig.check(loose)


def test_every_problem_is_listed_with_suggestions(frame: pd.DataFrame) -> None:
    sig = Signature.from_frame(frame)
    bad = frame.drop(columns=["city.name"]).rename(columns={"temp °C": "temp C"})
    bad["ID"] = "x"
    bad["signup date"] = "soon"
    with pytest.raises(SignatureMismatch) as err:
        sig.check(bad)
    assert str(err.value) == (
        "Expected input columns that match the model's signature; got: "
        "missing column 'temp °C' (did you mean 'temp C'?); missing column 'city.name'; "
        "column 'ID' should be numeric (int64), got str; "
        "column 'signup date' should be datetime (datetime64[us]), got str; "
        "unknown column 'temp C' (did you mean 'temp °C'?). "
        "Send the columns the model was trained on, with the same kinds."
    )


def test_no_suggestion_among_columns_that_are_already_right(frame: pd.DataFrame) -> None:
    sig = Signature.from_frame(frame)
    with pytest.raises(SignatureMismatch) as err:
        sig.check(frame.drop(columns=["city.name"]).assign(target=1))
    assert "got: missing column 'city.name'; unknown column 'target'. Send" in str(err.value)


def test_extra_columns_can_be_allowed(frame: pd.DataFrame) -> None:
    sig = Signature.from_frame(frame)
    wider = frame.assign(note="hello")
    with pytest.raises(SignatureMismatch, match="unknown column 'note'"):
        sig.check(wider)
    assert sig.check(wider, allow_extra=True) is wider


def test_datetime_text_with_mixed_offsets_fits_a_datetime_column() -> None:
    sig = Signature.from_frame(pd.DataFrame({"t": pd.date_range("2024", periods=2, tz="UTC")}))
    request = pd.DataFrame({"t": ["2024-01-01T01:00:00+02:00", "2024-01-02T10:00:00+00:00"]})
    assert sig.check(request) is request
    with pytest.raises(SignatureMismatch, match="column 't' should be datetime"):
        sig.check(pd.DataFrame({"t": ["2024-01-01T01:00:00+02:00", "soon"]}))
