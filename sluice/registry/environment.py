"""The conditions a model was trained in: interpreter, libraries, platform, hardware, code version.

Recorded at registration so that a version can be rebuilt (or its odd behaviour
explained) long after the machine that made it is gone.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

# Libraries whose versions change what a model computes or how it loads.
PACKAGES = (
    "sluice",
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "skops",
    "joblib",
    "threadpoolctl",
    "lightgbm",
    "xgboost",
    "catboost",
)


@dataclass(frozen=True)
class GitState:
    commit: str
    dirty: bool | None  # None: git could not tell (a damaged index, say); never claimed clean


def capture_environment() -> dict[str, Any]:
    """Python and package versions (installed ones only), platform and hardware."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "packages": packages,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def git_state(cwd: str | os.PathLike[str] | None = None) -> GitState | None:
    """Commit and dirty flag of the repository around ``cwd``; None outside one or without git.

    Untracked files do not count as dirty: the workspace folder itself usually is one.
    """
    folder = Path(cwd or os.getcwd())
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None or len(commit) != 40:
        return None
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return GitState(commit=commit, dirty=None if status is None else bool(status))


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
