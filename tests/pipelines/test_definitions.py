"""Definitions are checked when they are written or called, with messages that say what to do."""

from __future__ import annotations

import pickle

import pytest

from sluice.errors import PipelineError
from sluice.pipelines import Graph, Node, Output, Pipeline, pipeline, step
from sluice.workspace import Workspace


@step
def load(path: str, sep: str = ",") -> list:
    return [path, sep]


@step(outputs=("train", "test"))
def split(rows: list, test_size: float = 0.2) -> tuple[list, list]:
    return rows[:1], rows[1:]


@step
def fit(train: list, alpha: float = 1.0) -> int:
    return len(train)


@pipeline
def train(path: str, test_size: float = 0.2):
    tr, te = split(load(path), test_size=test_size)
    return {"model": fit(tr), "test": te}


def _message(excinfo: pytest.ExceptionInfo[PipelineError]) -> str:
    return str(excinfo.value)


def test_a_step_outside_a_pipeline_is_its_plain_function() -> None:
    assert load("x.csv") == ["x.csv", ","]
    assert split(["a", "b", "c"]) == (["a"], ["b", "c"])
    assert load.__name__ == "load" and load.__wrapped__.__name__ == "load"


def test_tracing_builds_the_dag_in_call_order() -> None:
    graph = train.trace(path="x.csv")
    assert graph.names == ["load", "split", "fit"]
    assert graph.node("split").inputs == {"rows": Output("load", "output")}
    assert graph.node("split").params == {"test_size": 0.2}
    assert graph.node("fit").inputs == {"train": Output("split", "train")}


def test_a_step_called_twice_gets_numbered_names() -> None:
    @pipeline
    def twice(path: str):
        fit(load(path))
        fit(load(path, sep=";"), alpha=2.0)

    assert twice.trace(path="p").names == ["load", "fit", "load-2", "fit-2"]


def test_an_unknown_step_argument_is_named_with_a_suggestion() -> None:
    @pipeline
    def typo(path: str):
        split(load(path), tst_size=0.3)

    with pytest.raises(PipelineError) as caught:
        typo.trace(path="p")
    assert _message(caught) == (
        "Step 'split' has no parameter 'tst_size' (in pipeline 'typo'); it takes rows, "
        "test_size. Did you mean 'test_size'?"
    )


def test_wrong_arguments_to_a_step_are_reported_with_its_signature() -> None:
    @pipeline
    def missing(path: str):
        fit()

    with pytest.raises(PipelineError) as caught:
        missing.trace(path="p")
    assert _message(caught) == (
        "Step 'fit' was called with wrong arguments in pipeline 'missing': missing a required "
        "argument: 'train'. Expected fit(train, alpha=1.0)."
    )


def test_an_unknown_pipeline_parameter_is_refused_before_anything_runs(ws: Workspace) -> None:
    with pytest.raises(PipelineError) as caught:
        train.run(ws, pth="x.csv")
    assert _message(caught) == (
        "Pipeline 'train' has no parameter 'pth'; it takes path, test_size. Did you mean 'path'?"
    )
    from sluice.pipelines import list_runs

    assert list_runs(ws) == []


def test_a_missing_pipeline_parameter_is_refused() -> None:
    with pytest.raises(PipelineError, match=r"missing a required argument: 'path'\. Expected"):
        train.trace()


def test_a_cycle_is_refused_with_the_steps_that_form_it() -> None:
    nodes = [
        Node("a", fit, inputs={"train": Output("c", "output")}),
        Node("b", fit, inputs={"train": Output("a", "output")}),
        Node("c", fit, inputs={"train": Output("b", "output")}),
    ]
    with pytest.raises(PipelineError) as caught:
        Graph.from_nodes(nodes)
    message = _message(caught)
    assert message.startswith("Expected the steps to form a DAG; got a cycle: ")
    cycle = message.split("cycle: ")[1].split(".")[0].split(" -> ")
    assert len(cycle) == 4 and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}


def test_an_input_from_an_unknown_step_or_output_is_refused() -> None:
    with pytest.raises(PipelineError) as caught:
        Graph.from_nodes(
            [Node("load", load), Node("fit", fit, inputs={"train": Output("lod", "output")})]
        )
    assert (
        "reads argument 'train' from step 'lod', which is not in this pipeline. "
        "Did you mean 'load'?" in _message(caught)
    )
    with pytest.raises(PipelineError) as caught:
        Graph.from_nodes(
            [Node("split", split), Node("fit", fit, inputs={"train": Output("split", "trian")})]
        )
    assert _message(caught) == (
        "Step 'fit' reads output 'trian' of step 'split', which has outputs train, test. "
        "Did you mean 'train'?"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"outputs": ("a", "a")},
            "Expected outputs of step 'f' to be distinct identifiers; got ('a', 'a')",
        ),
        ({"outputs": ()}, "Expected outputs of step 'f' to be distinct identifiers; got ()"),
        ({"outputs": ("not valid",)}, "to be distinct identifiers; got ('not valid',)"),
        ({"retries": -1}, "Expected retries of step 'f' to be a whole number >= 0; got -1."),
        ({"version": 1.5}, "Expected version of step 'f' to be a string; got 1.5."),
    ],
)
def test_step_options_are_checked_when_defined(options: dict, expected: str) -> None:
    def f(x: int) -> int:
        return x

    with pytest.raises(PipelineError) as caught:
        step(**options)(f)
    assert expected in _message(caught)


def test_steps_must_take_named_parameters() -> None:
    def f(*values: int, **more: int) -> int:
        return 0

    with pytest.raises(PipelineError) as caught:
        step(f)
    assert _message(caught) == (
        "Expected step 'f' to take named parameters only; got values, more (positional-only, "
        "*args or **kwargs). Name each input: the cache key and the lineage record them by name."
    )


def test_pipelines_may_not_shadow_run_options() -> None:
    def p(executor: str) -> None:
        return None

    with pytest.raises(PipelineError, match="other than executor, on_event; got executor"):
        pipeline(p)


def test_using_a_handle_as_a_value_explains_handles() -> None:
    @pipeline
    def peeks(path: str):
        rows = load(path)
        if rows:
            fit(rows)

    with pytest.raises(PipelineError) as caught:
        peeks.trace(path="p")
    assert "got a handle on output 'output' of step 'load'" in _message(caught)

    @pipeline
    def attr(path: str):
        load(path).head()

    with pytest.raises(PipelineError, match="do this work inside a step"):
        attr.trace(path="p")

    @pipeline
    def unpack(path: str):
        _first, _second = load(path)

    with pytest.raises(PipelineError, match=r"step 'load' has one output \('output'\)"):
        unpack.trace(path="p")


def test_handles_inside_containers_are_refused() -> None:
    @pipeline
    def nested(path: str):
        fit([load(path)])

    with pytest.raises(PipelineError, match="got handles inside a container for argument 'train'"):
        nested.trace(path="p")


def test_an_argument_no_materializer_can_store_is_refused_at_definition() -> None:
    @pipeline
    def odd(path: str):
        fit({1, 2, 3})

    with pytest.raises(PipelineError) as caught:
        odd.trace(path="p")
    assert "Expected argument 'train' of step 'fit' to be a pandas DataFrame" in _message(caught)
    assert "got a builtins.set" in _message(caught) and "use sorted(x)" in _message(caught)


def test_a_pipeline_that_calls_no_step_is_refused() -> None:
    @pipeline
    def empty(path: str):
        return None

    with pytest.raises(PipelineError, match="Expected pipeline 'empty' to call at least one step"):
        empty.trace(path="p")


def test_pipelines_and_steps_are_immutable_values_that_pickle_by_reference() -> None:
    renamed = train.with_name("training")
    assert isinstance(renamed, Pipeline) and renamed.name == "training" and train.name == "train"
    with pytest.raises(AttributeError):
        train.name = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(split)) is split
    assert pickle.loads(pickle.dumps(train)) is train
    assert train.import_path == f"{__name__}:train"
