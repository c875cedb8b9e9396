"""The public surface is small, deliberate and lazily imported."""

from __future__ import annotations

import subprocess
import sys

import sluice

INTENDED = {
    "SluiceError",
    "Workspace",
    "connect",
    "load_model",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "pipeline",
    "set_tag",
    "start_run",
    "step",
}


def test_exported_names_are_exactly_the_intended_ones() -> None:
    assert set(sluice.__all__) == INTENDED
    for name in sluice.__all__:
        assert getattr(sluice, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        sluice.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


HEAVY = ("pandas", "numpy", "sklearn", "scipy", "matplotlib", "sqlalchemy", "pyarrow", "skops")


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}; import sys; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_sluice_loads_no_heavy_library() -> None:
    loaded = _modules_after("import sluice")
    assert not loaded & set(HEAVY)


def test_cli_start_up_loads_no_heavy_library() -> None:
    """`sluice --help` must answer fast: the CLI imports its heavy libraries inside commands."""
    loaded = _modules_after("import sluice.cli.main")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
