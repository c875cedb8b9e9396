"""sluice.models exports exactly its public names, lazily."""

from __future__ import annotations

import subprocess
import sys

import sluice.models


def test_exported_names_resolve() -> None:
    for name in sluice.models.__all__:
        assert getattr(sluice.models, name) is not None


def test_importing_the_package_does_not_load_scikit_learn() -> None:
    code = "import sys, sluice.models; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
