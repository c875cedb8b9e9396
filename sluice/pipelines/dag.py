"""The graph of one pipeline run: nodes (step calls) and the artifacts between them.

Tracing a pipeline function yields nodes in call order; :meth:`Graph.from_nodes`
checks that every input names a step and an output that exist (with a suggestion
when not) and that the steps form no cycle, using :mod:`graphlib`.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sluice.errors import PipelineError, did_you_mean

if TYPE_CHECKING:
    from sluice.pipelines.definition import Step


@dataclass(frozen=True)
class Output:
    """A handle on one output of a step call in a pipeline; the value exists only at run time."""

    node: str
    name: str

    def __iter__(self) -> Any:
        raise PipelineError(
            f"Expected a step with several outputs to unpack; step '{self.node}' has one "
            f"output ('{self.name}'). Declare them with @step(outputs=('a', 'b')) and "
            "return a tuple."
        )

    def __bool__(self) -> bool:
        raise PipelineError(
            f"Expected a value; got a handle on output '{self.name}' of step '{self.node}', "
            "which exists only when the pipeline runs. Decide inside a step instead."
        )

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise PipelineError(
            f"Expected a value with attribute '{attr}'; got a handle on output "
            f"'{self.name}' of step '{self.node}'. Inside a pipeline, step calls return "
            "handles; do this work inside a step and pass the handle to it."
        )


@dataclass(frozen=True)
class Node:
    """One call of a step: its JSON parameters, its upstream inputs, its other values."""

    name: str
    step: Step
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Output] = field(default_factory=dict)
    literals: Mapping[str, Any] = field(default_factory=dict)

    @property
    def upstream(self) -> set[str]:
        return {handle.node for handle in self.inputs.values()}


@dataclass(frozen=True)
class Graph:
    """Nodes in an order where every node comes after those it reads from."""

    nodes: tuple[Node, ...]

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node]) -> Graph:
        items = list(nodes)
        by_name: dict[str, Node] = {}
        for node in items:
            if node.name in by_name:
                raise PipelineError(
                    f"Expected unique step names in a pipeline; got '{node.name}' twice. "
                    "Rename one of the steps."
                )
            by_name[node.name] = node
        for node in items:
            _check_inputs(node, by_name)
        return cls(tuple(by_name[name] for name in _order(items)))

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise PipelineError(
            f"Expected a step of this pipeline; got '{name}'. "
            f"Steps: {', '.join(self.names)}.{did_you_mean(name, self.names)}"
        )

    @property
    def names(self) -> list[str]:
        return [node.name for node in self.nodes]


def _check_inputs(node: Node, by_name: Mapping[str, Node]) -> None:
    for arg, handle in node.inputs.items():
        source = by_name.get(handle.node)
        if source is None:
            raise PipelineError(
                f"Step '{node.name}' reads argument '{arg}' from step '{handle.node}', "
                f"which is not in this pipeline.{did_you_mean(handle.node, by_name)} "
                "Pass a handle returned by a step called in the same pipeline."
            )
        if handle.name not in source.step.outputs:
            raise PipelineError(
                f"Step '{node.name}' reads output '{handle.name}' of step '{source.name}', "
                f"which has outputs {', '.join(source.step.outputs)}."
                f"{did_you_mean(handle.name, source.step.outputs)}"
            )


def _order(nodes: list[Node]) -> list[str]:
    """A topological order that keeps the call order wherever it can."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in nodes:
        sorter.add(node.name, *node.upstream)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PipelineError(
            f"Expected the steps to form a DAG; got a cycle: {cycle}. "
            "A step cannot read, directly or not, what it produces; break the cycle."
        ) from exc
    order: list[str] = []
    done: set[str] = set()
    waiting = list(nodes)
    while waiting:  # acyclic, so some node is always ready; traced nodes are ready in turn
        index = next(i for i, n in enumerate(waiting) if n.upstream <= done)
        node = waiting.pop(index)
        order.append(node.name)
        done.add(node.name)
    return order
