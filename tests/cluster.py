"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` as processes on loopback.

Each worker runs under a nanny, so a worker process that dies is restarted, as on
a real cluster. The workers start in the project's root with it on their
``PYTHONPATH``, so steps and functions defined in the test modules import there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")


class DaskCluster:
    def __init__(self, folder: Path, workers: int = 2, threads: int = 1) -> None:
        self.folder = folder
        self.workers = workers
        self.threads = threads
        self.scheduler_file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return str(json.loads(self.scheduler_file.read_text())["address"])

    def start(self) -> DaskCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "OMP_NUM_THREADS": "1",
        }
        self._spawn(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(self.scheduler_file),
            ],
            env,
        )
        deadline = time.monotonic() + 60
        while not self.scheduler_file.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start; see {self.folder}")
            time.sleep(0.1)
        for n in range(self.workers):
            self._spawn(
                f"worker-{n}",
                [
                    "worker",
                    "--scheduler-file",
                    str(self.scheduler_file),
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    str(self.threads),
                    "--no-dashboard",
                    "--name",
                    f"worker-{n}",
                    "--local-directory",
                    str(self.folder / f"worker-{n}"),
                ],
                env,
            )
        self.wait_for_workers(self.workers)
        return self

    def client(self):  # type: ignore[no-untyped-def]
        from distributed import Client

        return Client(self.address, timeout="30s")

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        with self.client() as client:
            client.wait_for_workers(n, timeout=timeout)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with open(self.folder / f"{name}.log", "wb") as log:  # the child keeps its own copy
            self.procs.append(
                subprocess.Popen([str(DASK), *args], cwd=ROOT, env=env, stdout=log, stderr=log)
            )

    def _check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                logs = "\n".join(p.read_text()[-2000:] for p in self.folder.glob("*.log"))
                raise RuntimeError(f"a dask process exited with {proc.returncode}:\n{logs}")
