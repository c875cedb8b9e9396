"""Serve this bundle's model over HTTP, without sluice or its store.

    pip install -r requirements.txt
    python serve.py --port 8000          # or: uvicorn serve:app

POST /predict takes {"records": [{...}, ...]} (or {"record": {...}}) with the
columns of model.json's signature and answers {"predictions": [...], "model": ...}
(and "probabilities" for a classifier). GET /health and GET /metadata too.
The model file's SHA-256 is checked before it is loaded; only the types that
sluice's allow-list accepted when the bundle was made are trusted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "vendor"))  # sluice's own transformers, if the model uses them

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import skops.io as sio  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

META = json.loads((HERE / "model.json").read_text(encoding="utf-8"))
COLUMNS = META["signature"]["inputs"]
NAMES = [c["name"] for c in COLUMNS]


def load_model() -> Any:
    data = (HERE / "model.skops").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != META["sha256"]:
        raise SystemExit(
            f"model.skops does not match model.json (sha256 {digest[:12]}, expected "
            f"{META['sha256'][:12]}): the bundle was changed after it was made; refusing to load."
        )
    unknown = set(sio.get_untrusted_types(data=data)) - set(META["trusted_types"])
    if unknown:
        raise SystemExit(f"model.skops holds types the bundle does not trust: {sorted(unknown)}")
    return sio.loads(data, trusted=META["trusted_types"])


MODEL = load_model()
app = FastAPI(title=f"{META['name']} v{META['version']}", version=str(META["version"]))


class BadInput(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems


@app.exception_handler(BadInput)
async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
    first = exc.problems[0]["message"]
    return JSONResponse(
        {"error": "invalid_request", "message": first, "problems": exc.problems}, 422
    )


def frame(records: list[Any]) -> pd.DataFrame:
    problems: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append({"record": i, "message": f"Record {i}: expected an object."})
            continue
        for name in sorted(set(NAMES) - set(record)):
            problems.append(
                {"record": i, "column": name, "message": f"Record {i}: missing column {name!r}."}
            )
        for name in sorted(set(record) - set(NAMES)):
            problems.append(
                {"record": i, "column": name, "message": f"Record {i}: unknown column {name!r}."}
            )
    if problems:
        raise BadInput(problems)
    df = pd.DataFrame.from_records(records, columns=NAMES)
    for col in COLUMNS:
        name, kind = col["name"], col["kind"]
        if kind == "numeric":
            values = pd.to_numeric(df[name], errors="coerce")
            problems += _unparsed(df[name], values, name, "a number")
            df[name] = values.astype("float64")
        elif kind == "datetime":
            values = pd.to_datetime(df[name], errors="coerce")
            problems += _unparsed(df[name], values, name, "a date")
            df[name] = values
        elif kind == "boolean":
            df[name] = df[name].astype("boolean")
        else:
            df[name] = df[name].astype("object")
    if problems:
        raise BadInput(problems)
    return df


def _unparsed(raw: pd.Series, parsed: pd.Series, name: str, what: str) -> list[dict[str, Any]]:
    """A problem for every value that was given but could not be read as ``what``."""
    return [
        {
            "record": int(i),
            "column": name,
            "message": f"Record {int(i)}, column {name!r}: expected {what}; got {raw[i]!r}.",
        }
        for i in np.flatnonzero(parsed.isna() & raw.notna())
    ]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/metadata")
def metadata() -> dict[str, Any]:
    return {k: v for k, v in META.items() if k != "trusted_types"}


@app.post("/predict")
async def predict(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise BadInput([{"record": None, "message": f"The body is not JSON: {exc}."}]) from None
    if isinstance(body, dict) and "record" in body:
        records = [body["record"]]
    elif isinstance(body, dict) and isinstance(body.get("records"), list):
        records = body["records"]
    else:
        raise BadInput(
            [{"record": None, "message": 'Expected {"records": [...]} or {"record": {...}}.'}]
        )
    if not records:
        raise BadInput([{"record": None, "message": "Expected at least one record."}])
    X = frame(records)
    out: dict[str, Any] = {"model": {"name": META["name"], "version": META["version"]}}
    if META.get("classes"):
        proba = np.asarray(MODEL.predict_proba(X))
        classes = list(MODEL.classes_)
        out["predictions"] = [_plain(classes[k]) for k in proba.argmax(axis=1)]
        out["probabilities"] = [
            dict(zip(map(str, classes), map(float, row), strict=True)) for row in proba
        ]
    else:
        out["predictions"] = [_plain(v) for v in np.asarray(MODEL.predict(X))]
    return out


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description=f"Serve {META['name']} v{META['version']}.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port)
