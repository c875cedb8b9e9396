"""Registration from several real processes at once: distinct, gap-free version numbers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from sluice.registry import list_models, list_versions
from sluice.workspace import Workspace

WORKER = textwrap.dedent(
    """
    import os, sys
    from sluice.config import Settings
    from sluice.registry import register_version
    from sluice.workspace import Workspace

    home, url, artifacts, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ws = Workspace(Settings(home=home, db_url=url, artifacts=artifacts))
    for i in range(n):
        register_version(
            ws, "shared", model_bytes=os.urandom(64), signature={}, params={"pid": os.getpid()},
            metrics={},
        )
    ws.close()
    """
)


@pytest.mark.slow
def test_processes_registering_at_once(any_ws: Workspace) -> None:
    s = any_ws.settings
    procs, per_process = 3, 5
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(s.home), s.db_url, s.artifacts, str(per_process)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(procs)
    ]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    versions = list_versions(any_ws, "shared")
    assert [v.version for v in versions] == list(range(1, procs * per_process + 1))
    assert len({v.params["pid"] for v in versions}) == procs
    (model,) = list_models(any_ws)
    assert model.aliases == {"champion": 1, "challenger": procs * per_process}
