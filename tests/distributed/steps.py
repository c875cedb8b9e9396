"""Steps and pipelines the distributed tests run; at module level so workers import them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sluice.pipelines import current_step, pipeline, step


def _marker(name: str) -> Path:
    return Path(current_step().workspace.settings.home) / name


@step
def source(n: int) -> list[int]:
    return list(range(n))


@step
def slow_sum(values: list[int], seconds: float) -> int:
    time.sleep(seconds)
    return sum(values)


@step
def slow_max(values: list[int], seconds: float) -> int:
    time.sleep(seconds)
    return max(values)


@step
def combine(total: int, top: int) -> dict[str, int]:
    return {"total": total, "top": top}


@pipeline
def branches(n: int = 10, seconds: float = 1.5) -> dict[str, Any]:
    """Two independent branches between a source and a join."""
    values = source(n)
    return combine(slow_sum(values, seconds), slow_max(values, seconds))


@step(retries=1)
def dies_once(values: list[int]) -> int:
    """Kills its worker process on the first attempt; the next attempt succeeds."""
    marker = _marker("died-once")
    if not marker.exists():
        marker.touch()
        os._exit(1)
    return len(values)


@step
def always_dies(values: list[int]) -> int:
    os._exit(1)


@pipeline
def worker_dies(n: int = 4) -> None:
    dies_once(source(n))


@pipeline
def worker_always_dies(n: int = 4) -> None:
    always_dies(source(n))


@step
def sleeps(values: list[int], seconds: float) -> int:
    time.sleep(seconds)
    _marker("woke-up").touch()  # a running task is not interrupted: it ends its call
    return len(values)


@step
def after_sleep(count: int) -> int:
    _marker("after-sleep").touch()  # never, once the run is cancelled
    return count


@pipeline
def long_sleep(n: int = 3, seconds: float = 60.0) -> None:
    after_sleep(sleeps(source(n), seconds))


def _slow_piece(seconds: float, number: int, home: str) -> int:
    time.sleep(seconds)
    (Path(home) / f"piece-{number}").touch()
    return number


@step
def fans_out(values: list[int], pieces: int, seconds: float) -> int:
    """Slow pieces as tasks of their own, as model selection fans out its folds."""
    from sluice.models.fanout import fan_out

    home = str(current_step().workspace.settings.home)
    try:
        with fan_out() as fanout:
            pending = [
                fanout.submit(_slow_piece, seconds, n, home, key="piece") for n in range(pieces)
            ]
            return sum(fanout.result(p) for p in pending)
    finally:
        _marker("fan-out-ended").touch()


@pipeline
def long_fan_out(n: int = 3, pieces: int = 40, seconds: float = 0.5) -> None:
    after_sleep(fans_out(source(n), pieces, seconds))
