"""Runs a page at a time, sorted and filtered in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.errors import ConfigError
from sluice.pipelines import list_runs
from sluice.workspace import current
from tests.pipelines.conftest import WriteModule

SOURCE = """
    import time

    from sluice.pipelines import pipeline, step

    @step
    def wait(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @pipeline
    def waiting(seconds: float = 0.0):
        wait(seconds)
"""


def test_pages_sorts_and_filters(sluice_home: Path, write_module: WriteModule) -> None:
    module = write_module(SOURCE)
    ws = current()
    made = [module.waiting.run(ws, seconds=s).id for s in (0.3, 0.0, 0.15)]
    newest = [r.id for r in list_runs(ws)]
    assert newest == made[::-1]
    assert [r.id for r in list_runs(ws, limit=2, offset=1)] == made[::-1][1:]
    by_duration = list_runs(ws, sort="duration", descending=False)
    durations = [r.duration for r in by_duration]
    assert durations == sorted(durations) and by_duration[-1].id == made[0]
    assert list_runs(ws, sort="duration")[0].id == made[0]
    assert list_runs(ws, pipeline="other") == []
    with pytest.raises(ConfigError, match=r"sorted by one of created, duration, pipeline, "):
        list_runs(ws, sort="durration")


def test_a_run_without_a_report_says_which_runs_have_one(
    sluice_home: Path, write_module: WriteModule
) -> None:
    from sluice.client import LocalClient
    from sluice.errors import NotFound

    run = write_module(SOURCE).waiting.run(current())
    with pytest.raises(NotFound, match=r"only runs of the main job started with `sluice run`"):
        LocalClient(current()).run_report(run.id)
