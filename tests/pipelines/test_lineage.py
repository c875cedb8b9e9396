"""Every artifact knows the step run that made it and the step runs that read it."""

from __future__ import annotations

from sluice.pipelines import Status, consumers_of, producer_of
from sluice.workspace import Workspace
from tests.pipelines.conftest import WriteModule

SOURCE = """
    from sluice.pipelines import pipeline, step

    @step
    def make(n: int) -> list:
        return list(range(n))

    @step
    def total(values: list) -> int:
        return sum(values)

    @step
    def largest(values: list) -> int:
        return max(values)

    @pipeline
    def stats(n: int = 4):
        values = make(n)
        total(values)
        largest(values)
"""


def test_producer_and_consumers_of_an_artifact(
    any_ws: Workspace, write_module: WriteModule
) -> None:
    stats = write_module(SOURCE).stats
    first = stats.run(any_ws)
    second = stats.run(any_ws)
    values = first.step("make").outputs["output"]

    producer = producer_of(any_ws, values)
    assert producer is not None
    assert (producer.step_run_id, producer.pipeline_run_id) == (first.step("make").id, first.id)
    assert (producer.step, producer.name, producer.pipeline) == ("make", "output", "stats")
    assert producer.status is Status.COMPLETED

    consumers = consumers_of(any_ws, values)
    assert sorted((c.pipeline_run_id, c.step, c.name) for c in consumers) == sorted(
        [
            (first.id, "total", "values"),
            (first.id, "largest", "values"),
            (second.id, "total", "values"),
            (second.id, "largest", "values"),
        ]
    )
    assert producer_of(any_ws, first.step("total").outputs["output"]).step == "total"  # type: ignore[union-attr]
    assert consumers_of(any_ws, first.step("total").outputs["output"]) == []


def test_an_unknown_artifact_has_no_lineage(ws: Workspace) -> None:
    assert producer_of(ws, "0" * 64) is None
    assert consumers_of(ws, "0" * 64) == []
