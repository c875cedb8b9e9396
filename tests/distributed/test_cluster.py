"""The test cluster itself: a real scheduler with two worker processes that run our code."""

from __future__ import annotations

import os

from tests.cluster import DaskCluster


def _pid() -> int:
    return os.getpid()


def test_two_worker_processes_run_tasks(dask_cluster: DaskCluster) -> None:
    with dask_cluster.client() as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        pids = client.run(_pid)
        assert len(set(pids.values())) == 2
        assert os.getpid() not in pids.values()
