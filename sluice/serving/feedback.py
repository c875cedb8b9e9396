"""Feedback bodies: ground-truth labels for request ids answered earlier, checked per item.

``{"feedback": [{"request_id": "<32 hex>", "label": 17.0}, ...]}`` (or the bare list).
Labels are numbers for a regression model and text for a classifier (numbers and
booleans are turned into the text of the class, as the log stores classes).
Request ids are not looked up: a label may come long after, from any worker.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sluice.errors import InvalidRequest

MAX_ITEMS = 100_000
_REQUEST_ID = re.compile(r"[0-9a-f]{32}")
SHAPE = '{"feedback": [{"request_id": "<32 hex characters>", "label": ...}, ...]}'


def parse_feedback(body: bytes, classifier: bool) -> tuple[list[str], list[Any]]:
    """Request ids and labels, or InvalidRequest listing every bad item."""
    items = _items(_load(body))
    ids: list[str] = []
    labels: list[Any] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        found = _item(i, item, classifier, problems)
        if found is not None:
            ids.append(found[0])
            labels.append(found[1])
    if problems:
        raise InvalidRequest(
            f"{len(problems)} problem(s) in the feedback; nothing was stored. "
            f"First: {problems[0]['message']}",
            problems,
        )
    return ids, labels


def _load(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_refuse)
    except (ValueError, RecursionError) as exc:
        _fail("malformed_json", f"Expected a JSON body; it could not be read ({exc}).", "JSON")


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and set(data) == {"feedback"} and isinstance(data["feedback"], list):
        items: list[Any] = data["feedback"]
    elif isinstance(data, list):
        items = data
    else:
        _fail("wrong_shape", f"Expected {SHAPE}.", SHAPE)
    if not items:
        _fail("empty", "Expected at least one feedback item; got none.", "at least one item")
    if len(items) > MAX_ITEMS:
        _fail(
            "too_many_records",
            f"Expected at most {MAX_ITEMS} feedback items in one request; got {len(items)}. "
            "Split it.",
            f"at most {MAX_ITEMS} items",
        )
    return items


def _item(
    i: int, item: Any, classifier: bool, problems: list[dict[str, Any]]
) -> tuple[str, Any] | None:
    def problem(kind: str, column: str | None, expected: str, message: str) -> None:
        problems.append(
            {
                "record": i,
                "column": column,
                "kind": kind,
                "expected": expected,
                "message": f"Feedback {i}: {message}",
            }
        )

    if not isinstance(item, dict) or set(item) != {"request_id", "label"}:
        got = sorted(item) if isinstance(item, dict) else type(item).__name__
        problem(
            "wrong_shape",
            None,
            '{"request_id": ..., "label": ...}',
            f'expected an object with exactly "request_id" and "label"; got {got}.',
        )
        return None
    rid, label = item["request_id"], item["label"]
    ok = True
    if not isinstance(rid, str) or not _REQUEST_ID.fullmatch(rid):
        problem(
            "wrong_type",
            "request_id",
            "32 lowercase hex characters",
            f"expected a request id as returned by /predict (32 hex characters); got {rid!r}.",
        )
        ok = False
    converted = _label(label, classifier)
    if converted is None:
        expected = "a class (text)" if classifier else "a finite number"
        problem("wrong_type", "label", expected, f"expected {expected} as label; got {label!r}.")
        ok = False
    return (rid, converted) if ok else None


def _label(label: Any, classifier: bool) -> Any:
    if classifier:
        if isinstance(label, bool):
            return str(label)
        if isinstance(label, str) and label:
            return label
        if isinstance(label, int) or (isinstance(label, float) and math.isfinite(label)):
            return str(label)
        return None
    if isinstance(label, bool) or not isinstance(label, int | float | str):
        return None
    try:
        number = float(label)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _fail(kind: str, message: str, expected: str) -> Any:
    raise InvalidRequest(
        message,
        [{"record": None, "column": None, "kind": kind, "expected": expected, "message": message}],
    )
