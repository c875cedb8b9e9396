"""Checks on keys and values, made when they are logged, never later.

Rows are written by a background thread, so anything the store would refuse
must be refused here, in the caller's frame, with a message that says what to
fix. The rules:

- keys (params, metrics, tags) are non-empty strings of at most 250 characters,
  without NUL and encodable as UTF-8 (PostgreSQL refuses both);
- metric values are real numbers (int, float, numpy scalars, anything with
  ``__float__`` except ``str`` and ``bool``); ``+inf`` and ``-inf`` are kept as
  they are, but **NaN is refused**: SQLite cannot store it (it becomes NULL) and
  a NaN silently breaks "best run" comparisons. Skip the value or log a tag such
  as ``diverged=true`` instead;
- steps are integers that fit in 64 bits (default 0); timestamps are finite
  Unix seconds (default: now);
- param and tag values may be anything; they are stored as ``str(value)``, again
  without NUL and encodable as UTF-8.

Keys that passed are remembered, so the check in a training loop is one set
lookup.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sluice.errors import TrackingError, did_you_mean

MAX_KEY = 250
_INT64 = 2**63
_known_keys: set[str] = set()


def check_key(key: object, what: str) -> str:
    """A key that the store accepts, or TrackingError saying why not."""
    if type(key) is str and key in _known_keys:
        return key
    if not isinstance(key, str):
        raise TrackingError(
            f"A {what} key must be a string; got {type(key).__name__} {key!r}. "
            f"Pass the name as text, for example str({key!r})."
        )
    if not key.strip():
        raise TrackingError(
            f"A {what} key must be a non-empty name; got {key!r}. Give it a name such as 'loss'."
        )
    if len(key) > MAX_KEY:
        raise TrackingError(
            f"A {what} key must be at most {MAX_KEY} characters; got {len(key)} "
            f"({key[:40]!r}...). Use a shorter name."
        )
    _check_text(key, f"{what} key")
    if len(_known_keys) > 100_000:
        _known_keys.clear()
    _known_keys.add(key)
    return key


def check_text(value: object, what: str) -> str:
    """``str(value)``, refused when the store could not keep it."""
    text = value if type(value) is str else str(value)
    _check_text(text, what)
    return text


def _check_text(text: str, what: str) -> None:
    if "\x00" in text:
        raise TrackingError(
            f"A {what} must not contain the NUL character; got {text[:60]!r}. "
            "Remove the '\\x00' from it."
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TrackingError(
                f"A {what} must be valid Unicode text; got {text[:60]!r} with an unpaired "
                f"surrogate at position {exc.start}. Decode the bytes it came from properly."
            ) from exc


def check_value(key: str, value: object) -> float:
    """A metric value as a float; NaN, text, bools and non-numbers are refused."""
    kind = type(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
    elif kind is int:
        number = _to_float(key, value)
    elif kind is bool or isinstance(value, str | bytes) or not hasattr(kind, "__float__"):
        raise TrackingError(
            f"Metric {key!r} expects a number; got {kind.__name__} {_show(value)}. "
            "Log a float or int (for text, use set_tag or log_param)."
        )
    else:
        number = _to_float(key, value)
    if number != number:
        raise TrackingError(
            f"Metric {key!r} expects a number; got NaN. sluice does not store NaN (it cannot be "
            "compared or ranked); skip this value, or record the event with set_tag, for "
            "example set_tag('diverged', 'true')."
        )
    return number


def _to_float(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TrackingError(
            f"Metric {key!r} expects a value that converts to a float; got "
            f"{type(value).__name__} {_show(value)} ({exc}). Log a plain number."
        ) from exc


def _show(value: object) -> str:
    """A repr short enough for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_step(key: str, step: object) -> int:
    """A step as an int within 64 bits; None means 0."""
    if step is None:
        return 0
    if type(step) is not int:
        if isinstance(step, bool) or not hasattr(type(step), "__index__"):
            raise TrackingError(
                f"The step of metric {key!r} must be an integer; got {type(step).__name__} "
                f"{step!r}. Pass the epoch or iteration number as an int."
            )
        step = step.__index__()  # type: ignore[attr-defined]
    assert isinstance(step, int)
    if not -_INT64 <= step < _INT64:
        raise TrackingError(
            f"The step of metric {key!r} must fit in 64 bits; got {step}. Use a smaller number."
        )
    return step


def check_timestamp(timestamp: object, of: str) -> float:
    """Unix seconds as a float; None means now."""
    if timestamp is None:
        return time.time()
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise TrackingError(
            f"The timestamp of {of} must be Unix seconds as a number; got "
            f"{type(timestamp).__name__} {timestamp!r}. Pass time.time() or leave it out."
        )
    if not math.isfinite(timestamp):
        raise TrackingError(
            f"The timestamp of {of} must be finite Unix seconds; got {timestamp}. "
            "Pass time.time() or leave it out."
        )
    return float(timestamp)


def check_mapping(items: object, what: str) -> Mapping[str, Any]:
    """The dict given to log_params / log_metrics / tags=."""
    if not isinstance(items, Mapping):
        raise TrackingError(
            f"{what} expects a mapping of names to values; got {type(items).__name__}. "
            "Pass a dict such as {'lr': 0.1}."
        )
    return items


def check_name(value: object, what: str, *, optional: bool) -> str | None:
    """A run or experiment name: text of 1 to 200 characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        shown = f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)
        raise TrackingError(
            f"The {what} must be text of 1 to 200 characters; got {shown[:80]}. "
            f"Pass a short name such as 'baseline'."
        )
    _check_text(value, what)
    return value


def check_choice(value: object, choices: Sequence[str], expects: str) -> str:
    """One of ``choices`` (an Enum member counts as its value), or TrackingError suggesting one."""
    text = value.value if isinstance(value, enum.Enum) else value
    if not isinstance(text, str) or text not in choices:
        raise TrackingError(
            f"{expects} {', '.join(choices)}; got {text!r}.{did_you_mean(str(text), choices)}"
        )
    return text
