"""Window specifications: how much of the prediction log one evaluation looks at.

A window is either a period of time (``30m``, ``6h``, ``1d``, ``1w``), aligned on
multiples of the period since the Unix epoch so that ``1d`` windows are UTC days,
or a block of rows (``10000rows``) in the log's order (timestamp, then request id).
Only full windows are evaluated: a day still running or a half-filled block waits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.errors import MonitorError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"([1-9][0-9]*)\s*(s|m|h|d|w|rows)")
_EXAMPLES = "'30m', '6h', '1d', '1w' or '10000rows'"
MIN_SECONDS = 60


@dataclass(frozen=True)
class WindowSpec:
    """A parsed window: ``seconds`` for time windows, ``rows`` for row windows."""

    text: str
    seconds: float | None = None
    rows: int | None = None

    @property
    def by_rows(self) -> bool:
        return self.rows is not None

    def start_of(self, timestamp: float) -> float:
        """The start of the time window holding ``timestamp`` (epoch-aligned)."""
        assert self.seconds is not None
        return (timestamp // self.seconds) * self.seconds

    def __str__(self) -> str:
        return self.text


def parse_window(text: str) -> WindowSpec:
    """``"1d"`` -> a one-day time window; ``"10000rows"`` -> blocks of 10,000 rows.

    Anything else raises MonitorError with the accepted forms.
    """
    cleaned = text.strip().lower() if isinstance(text, str) else ""
    match = _PATTERN.fullmatch(cleaned)
    if match is None:
        raise MonitorError(
            f"Expected a window like {_EXAMPLES} (a positive number and a unit s, m, h, d, w "
            f"or rows); got {text!r}. Pass for instance --window 1d."
        )
    number, unit = int(match.group(1)), match.group(2)
    if unit == "rows":
        return WindowSpec(text=f"{number}rows", rows=number)
    seconds = number * UNITS[unit]
    if seconds < MIN_SECONDS:
        raise MonitorError(
            f"Expected a time window of at least {MIN_SECONDS} seconds; got {text!r} "
            f"({seconds} s). Use a longer window such as '5m', or a row window such as '1000rows'."
        )
    return WindowSpec(text=f"{number}{unit}", seconds=float(seconds))
