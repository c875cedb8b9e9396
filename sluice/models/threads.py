"""How many OpenMP threads histogram boosting may use while we fit and score.

scikit-learn's histogram gradient boosting starts one OpenMP thread per core for
every fit and predict. When other processes share the CPUs, those threads spin
waiting for each other: on a loaded 2-core machine the bike selection took 125 s
with two threads and 31 s with one, the evaluation 106 s against 20 s. With idle
CPUs one thread costs little (selection 19 s with two threads). So sluice uses one
by default; pass more when the machine is yours alone.
"""

from __future__ import annotations

from typing import Any

DEFAULT_OPENMP_THREADS = 1


def openmp_threads(n: int) -> Any:
    """A context manager limiting OpenMP threads to ``n`` inside it."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime, so there is one to limit)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="openmp")
