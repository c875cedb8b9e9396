"""Property: whatever the checks accept, the store gives back exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sluice.tracking as tr
from sluice.workspace import Workspace

# Text the checks accept: no NUL, no unpaired surrogates (category Cs), not blank.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
KEYS = TEXT.filter(lambda k: k.strip() != "").map(lambda k: k[:250])
NUMBERS = st.floats(allow_nan=False) | st.integers(-(2**53), 2**53)
STEPS = st.integers(-(2**63), 2**63 - 1)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(points=st.lists(st.tuples(NUMBERS, STEPS), min_size=1, max_size=30), key=KEYS)
def test_metric_values_and_steps_round_trip(any_ws: Workspace, points, key) -> None:  # type: ignore[no-untyped-def]
    with tr.start_run(workspace=any_ws) as run:
        for value, step in points:
            run.log_metric(key, value, step=step)
    history = tr.metric_history(any_ws, run.id, key)
    expected = sorted(((s, float(v)) for v, s in points), key=lambda p: p[0])
    assert [(p.step, p.value) for p in history] == expected


@SETTINGS
@given(params=st.dictionaries(KEYS, TEXT, max_size=8), tags=st.dictionaries(KEYS, TEXT, max_size=8))
def test_params_and_tags_round_trip(any_ws: Workspace, params, tags) -> None:  # type: ignore[no-untyped-def]
    with tr.start_run(workspace=any_ws, params=params, tags=tags) as run:
        pass
    record = tr.get_run(any_ws, run.id)
    assert record.params == params and record.tags == tags
