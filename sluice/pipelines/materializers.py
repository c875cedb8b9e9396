"""The built-in materializers: how step outputs become artifacts and come back.

pandas objects go to Parquet, JSON values to JSON, numpy arrays to ``.npy``
(``allow_pickle=False``), scikit-learn objects to skops, raw bytes as they are.
Nothing here ever unpickles: a value none of them can store is refused when it is
saved, with the type named, rather than stored in a form that could run code on load.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from sluice.errors import PipelineError
from sluice.pipelines.types import Materializer

_SERIES_KEY = b"sluice.series_name"


def is_json_value(obj: object, depth: int = 0) -> bool:
    """Whether ``obj`` is made only of dict (str keys), list, tuple, str, int, float, bool, None."""
    if obj is None or isinstance(obj, str | bool | int):
        return True
    if isinstance(obj, float):
        return True
    if depth > 50:
        return False
    if isinstance(obj, list | tuple):
        return all(is_json_value(v, depth + 1) for v in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and is_json_value(v, depth + 1) for k, v in obj.items())
    return False


def canonical_json(obj: object) -> str:
    """One text per value: sorted keys, no spaces, tuples as lists, floats by repr."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class JsonMaterializer:
    name = "json"
    media_type = "application/json"
    libraries: tuple[str, ...] = ()

    def can_save(self, obj: object) -> bool:
        return is_json_value(obj)

    def save(self, obj: object) -> bytes:
        return canonical_json(obj).encode()

    def load(self, data: bytes) -> object:
        return json.loads(data)


class BytesMaterializer:
    name = "bytes"
    media_type = "application/octet-stream"
    libraries: tuple[str, ...] = ()

    def can_save(self, obj: object) -> bool:
        return isinstance(obj, bytes | bytearray)

    def save(self, obj: object) -> bytes:
        assert isinstance(obj, bytes | bytearray)
        return bytes(obj)

    def load(self, data: bytes) -> object:
        return data


class DataFrameMaterializer:
    name = "pandas.parquet"
    media_type = "application/vnd.apache.parquet"
    libraries: tuple[str, ...] = ("pandas", "pyarrow")

    def can_save(self, obj: object) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and isinstance(obj, pd.DataFrame | pd.Series)

    def save(self, obj: object) -> bytes:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = obj.to_frame(name="values") if isinstance(obj, pd.Series) else obj
        try:
            table = pa.Table.from_pandas(frame)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise PipelineError(
                f"Expected a DataFrame that Parquet can store; got one it cannot ({exc}). "
                "Give the columns string names and simple types (numbers, strings, dates, "
                "categories) before returning it."
            ) from exc
        if isinstance(obj, pd.Series):
            meta = dict(table.schema.metadata or {})
            meta[_SERIES_KEY] = json.dumps(obj.name, default=str).encode()
            table = table.replace_schema_metadata(meta)
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return buf.getvalue()

    def load(self, data: bytes) -> object:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        frame = table.to_pandas()
        meta = table.schema.metadata or {}
        if _SERIES_KEY in meta:
            series = frame["values"]
            series.name = json.loads(meta[_SERIES_KEY])
            return series
        return frame


class NumpyMaterializer:
    name = "numpy.npy"
    media_type = "application/x-npy"
    libraries: tuple[str, ...] = ("numpy",)

    def can_save(self, obj: object) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and isinstance(obj, np.ndarray)

    def save(self, obj: object) -> bytes:
        import numpy as np

        buf = io.BytesIO()
        try:
            np.save(buf, np.asarray(obj), allow_pickle=False)
        except ValueError as exc:
            raise PipelineError(
                f"Expected a numpy array of numbers, strings or dates; got dtype "
                f"{getattr(obj, 'dtype', '?')} ({exc}). Object arrays would need pickle: "
                "convert the array (e.g. arr.astype(str)) or return a DataFrame."
            ) from exc
        return buf.getvalue()

    def load(self, data: bytes) -> object:
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)


class SklearnMaterializer:
    name = "sklearn.skops"
    media_type = "application/x-skops"
    libraries: tuple[str, ...] = ("scikit-learn", "skops", "numpy", "scipy")

    def can_save(self, obj: object) -> bool:
        base = sys.modules.get("sklearn.base")
        return base is not None and isinstance(obj, base.BaseEstimator)

    def save(self, obj: object) -> bytes:
        from sluice.models.persistence import dumps

        return dumps(obj)

    def load(self, data: bytes) -> object:
        from sluice.models.persistence import loads

        return loads(data, trusted=False)


#: In the order they are tried when saving.
BUILTIN: tuple[Materializer, ...] = (
    JsonMaterializer(),
    BytesMaterializer(),
    DataFrameMaterializer(),
    NumpyMaterializer(),
    SklearnMaterializer(),
)
_BY_NAME = {m.name: m for m in BUILTIN}

SUPPORTED = (
    "pandas DataFrame or Series, numpy array, scikit-learn estimator, bytes, "
    "or JSON values (dict with str keys, list, str, int, float, bool, None)"
)


def materializer_for(obj: object, what: str = "value") -> Materializer:
    """The materializer that stores ``obj``; PipelineError naming the type otherwise."""
    for materializer in BUILTIN:
        if materializer.can_save(obj):
            return materializer
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise PipelineError(
        f"Expected {what} to be a {SUPPORTED}; got a {kind}. "
        f"Convert it to one of those before returning it{_hint(obj)}."
    )


def _hint(obj: object) -> str:
    if hasattr(obj, "item") and hasattr(obj, "dtype"):
        return " (a numpy scalar: use float(x) or int(x))"
    if isinstance(obj, set | frozenset):
        return " (a set: use sorted(x))"
    return ""


def materializer_named(name: str) -> Materializer:
    """The materializer an artifact was stored with.

    Artifacts are addressed by their bytes, and the index keeps the label of the first
    writer. A dataset version of a Parquet file written by pandas can have exactly the
    bytes of a step's DataFrame output, and then carry the dataset's label: such bytes
    are Parquet, so the DataFrame materializer reads them.
    """
    from sluice.data.versions import MATERIALIZER as DATASET_FILE

    if name == DATASET_FILE:
        name = DataFrameMaterializer.name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise PipelineError(
            f"Expected an artifact stored by one of the materializers "
            f"{', '.join(sorted(_BY_NAME))}; got one stored by {name!r}. "
            "Read it with the tool that wrote it."
        ) from None


def save(obj: object, what: str = "value") -> tuple[Materializer, bytes]:
    materializer = materializer_for(obj, what)
    return materializer, materializer.save(obj)


def load(materializer: str, data: bytes) -> Any:
    return materializer_named(materializer).load(data)
