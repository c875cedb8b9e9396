"""Editing code invalidates exactly the steps whose code (or helpers) changed, and those after."""

from __future__ import annotations

import time

from sluice.pipelines import Status
from sluice.pipelines.codehash import fingerprint, library_of
from sluice.workspace import Workspace
from tests.pipelines.conftest import WriteModule

HELPERS = """
    OFFSET = {offset}

    def shift(x):
        return x + OFFSET

    def scale(x):
        return x * {factor}
"""

STEPS = """
    import numpy as np

    from sluice.pipelines import pipeline, step
    import {helpers} as helpers
    from {helpers} import scale


    @step
    def source(n: int) -> list:
        return list(range(n))


    @step
    def shifted(values: list) -> list:
        return [helpers.shift(v) for v in values]


    @step
    def scaled(values: list) -> list:
        return [scale(v) for v in values]


    @step
    def total(values: list) -> float:
        return float(np.sum(values))


    @pipeline
    def numbers(n: int = 4):
        total(scaled(shifted(source(n))))
"""


def _load(write_module: WriteModule, offset: int, factor: int, helpers: str = "helpers_a"):
    name = f"{helpers}_{offset}_{factor}"
    write_module(HELPERS.format(offset=offset, factor=factor), name=name)
    return write_module(STEPS.format(helpers=name))


def _statuses(run) -> dict[str, Status]:
    return {s.name: s.status for s in run.steps}


def test_editing_a_helper_reruns_the_steps_that_use_it_and_those_after(
    ws: Workspace, write_module: WriteModule
) -> None:
    first = _load(write_module, offset=1, factor=2).numbers.run(ws)
    assert first.output("total") == 2 * (1 + 2 + 3 + 4)

    edited = _load(write_module, offset=1, factor=3).numbers.run(ws)
    assert _statuses(edited) == {
        "source": Status.CACHED,
        "shifted": Status.CACHED,
        "scaled": Status.COMPLETED,
        "total": Status.COMPLETED,
    }
    assert edited.output("total") == 3 * (1 + 2 + 3 + 4)


def test_editing_a_module_constant_a_helper_reads_invalidates_its_users(
    ws: Workspace, write_module: WriteModule
) -> None:
    _load(write_module, offset=1, factor=2).numbers.run(ws)
    edited = _load(write_module, offset=5, factor=2).numbers.run(ws)
    assert _statuses(edited) == {
        "source": Status.CACHED,
        "shifted": Status.COMPLETED,
        "scaled": Status.COMPLETED,
        "total": Status.COMPLETED,
    }


def test_same_code_in_another_module_is_the_same_cache(
    ws: Workspace, write_module: WriteModule
) -> None:
    _load(write_module, offset=1, factor=2, helpers="helpers_a").numbers.run(ws)
    again = _load(write_module, offset=1, factor=2, helpers="helpers_b").numbers.run(ws)
    assert set(_statuses(again).values()) == {Status.CACHED}


def test_declared_version_and_a_steps_own_body_count(
    ws: Workspace, write_module: WriteModule
) -> None:
    template = """
        from sluice.pipelines import pipeline, step

        @step(version="{version}")
        def a(x: int) -> int:
            return x {op} 1

        @step
        def b(y: int) -> int:
            return y * 10

        @pipeline
        def p(x: int = 1):
            b(a(x))
    """
    write_module(template.format(version="1", op="+")).p.run(ws)
    bumped = write_module(template.format(version="2", op="+")).p.run(ws)
    assert _statuses(bumped) == {"a": Status.COMPLETED, "b": Status.CACHED}
    edited = write_module(template.format(version="2", op="-")).p.run(ws)
    assert _statuses(edited) == {"a": Status.COMPLETED, "b": Status.COMPLETED}


def test_third_party_code_is_named_by_its_version_not_walked(
    write_module: WriteModule,
) -> None:
    module = _load(write_module, offset=1, factor=2)
    libs = dict(fingerprint(module.total.fn).libraries)
    assert libs["numpy"].count(".") >= 1
    assert "sluice" not in libs or libs["sluice"] == "0.1.0"
    assert library_of("pandas.core.frame") == "pandas"
    assert library_of("sklearn.linear_model") == "scikit-learn"
    assert library_of("json") == "python"
    assert library_of("sluice.pipelines.context") == "sluice"
    assert library_of(module.__name__) is None


def test_a_fingerprint_is_computed_once_per_function(write_module: WriteModule) -> None:
    module = _load(write_module, offset=1, factor=2)
    first = fingerprint(module.scaled.fn)
    start = time.perf_counter()
    for _ in range(1000):
        assert fingerprint(module.scaled.fn) is first
    assert time.perf_counter() - start < 0.05
    assert fingerprint(module.shifted.fn).digest != first.digest


def test_module_level_constants_and_json_tables_are_part_of_the_code(
    write_module: WriteModule,
) -> None:
    template = """
        LIMITS = {{"low": {low}, "high": 10}}
        NAMES = ("a", "b")
        import numpy

        def clip(x):
            return min(max(x, LIMITS["low"]), LIMITS["high"]), NAMES, numpy.pi
    """
    one = fingerprint(write_module(template.format(low=0)).clip)
    same = fingerprint(write_module(template.format(low=0)).clip)
    other = fingerprint(write_module(template.format(low=1)).clip)
    assert one.digest == same.digest != other.digest
    assert dict(one.libraries)["numpy"]


def test_code_without_a_source_file_is_fingerprinted_by_its_bytecode() -> None:
    def make(body: str):
        namespace: dict = {}
        exec(f"def f(xs):\n    return [{body} for x in xs]", namespace)
        return namespace["f"]

    first, again, other = make("x + 1"), make("x + 1"), make("x + 2")
    assert fingerprint(first).digest == fingerprint(again).digest
    assert fingerprint(first).digest != fingerprint(other).digest
