"""Cache keys: one key per (code, parameters, inputs, version), whatever the spelling."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluice.errors import PipelineError, StepFailed
from sluice.pipelines import Node, Status, current_step, get_run, list_runs, pipeline, step
from sluice.pipelines.cache import cache_key
from sluice.pipelines.task import StoredArtifact
from sluice.workspace import Workspace


@step(version="3")
def combine(values: list, left: int = 0, right: str = "", options: dict | None = None) -> list:
    return values


@step(outputs=("fine", "bad"))
def two(n: int) -> tuple[list, object]:
    return list(range(n)), {1, 2}


@pipeline
def half_bad(n: int = 3):
    two(n)


INPUT = {"values": StoredArtifact("a" * 64, "json", "application/json", 10)}
params = st.fixed_dictionaries(
    {
        "left": st.integers(),
        "right": st.text(),
        "options": st.dictionaries(st.text(max_size=5), st.integers(), max_size=4),
    }
)


@given(params)
def test_the_key_does_not_depend_on_parameter_order(values: dict) -> None:
    forward = Node("combine", combine, params=dict(values))
    backward = Node("combine", combine, params=dict(reversed(list(values.items()))))
    options = values["options"]
    shuffled = {**values, "options": dict(reversed(list(options.items())))}
    key = cache_key(forward, INPUT)
    assert key == cache_key(backward, INPUT)
    assert key == cache_key(Node("other-name", combine, params=shuffled), INPUT)
    assert len(key) == 64 and int(key, 16) >= 0


@given(params, params)
def test_different_parameters_give_different_keys(a: dict, b: dict) -> None:
    same = a == b
    assert (
        cache_key(Node("c", combine, params=a), INPUT)
        == cache_key(Node("c", combine, params=b), INPUT)
    ) is same


def test_different_inputs_give_different_keys() -> None:
    other = {"values": StoredArtifact("b" * 64, "json", "application/json", 10)}
    node = Node("combine", combine, params={"left": 1})
    assert cache_key(node, INPUT) != cache_key(node, other)


def test_an_unsupported_output_fails_the_step_and_stores_none_of_its_outputs(
    ws: Workspace,
) -> None:
    with pytest.raises(StepFailed) as caught:
        half_bad.run(ws)
    message = str(caught.value)
    assert "PipelineError: Expected output 'bad' of step 'two' to be a pandas DataFrame" in message
    assert "got a builtins.set" in message and "use sorted(x)" in message
    run = get_run(ws, caught.value.run_id or "")
    assert run.step("two").status is Status.FAILED and run.step("two").outputs == {}
    root = Path(ws.settings.artifacts)
    assert [p for p in root.rglob("*") if p.is_file() and p.name != "FORMAT"] == []


def test_current_step_outside_a_step_says_where_to_call_it(ws: Workspace) -> None:
    with pytest.raises(PipelineError) as caught:
        current_step()
    assert str(caught.value) == (
        "Expected current_step() to be called inside a running step; got a call outside any "
        "step. Call it from a function decorated with @step while a pipeline runs."
    )
    assert list_runs(ws) == []
