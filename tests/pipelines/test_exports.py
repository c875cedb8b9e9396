"""The pipeline package's public names are exactly the intended ones."""

from __future__ import annotations

import subprocess
import sys

import sluice.pipelines as package

INTENDED = {
    # defining
    "step", "pipeline", "Step", "Pipeline", "current_step", "StepContext",
    "Graph", "Node", "Output",
    # running and reading back
    "resume", "get_run", "list_runs", "find_run_id", "step_logs",
    "PipelineRun", "RunSummary", "StepRunInfo", "Status", "StepEvent", "EventKind",
    # lineage
    "producer_of", "consumers_of", "StepRef",
    # extension contracts
    "Executor", "InProcessExecutor", "DaskExecutor", "open_executor", "check_executor",
    "StepTask", "StepOutcome",
    "StoredArtifact", "Materializer",
}  # fmt: skip


def test_the_exported_names_are_exactly_the_intended_ones() -> None:
    assert set(package.__all__) == INTENDED
    assert all(hasattr(package, name) for name in INTENDED)


def test_sluice_pipeline_is_the_decorator_even_after_importing_the_package() -> None:
    script = (
        "import sluice, sluice.pipelines\n"
        "@sluice.step\n"
        "def one(x: int) -> int:\n"
        "    return x\n"
        "@sluice.pipeline\n"
        "def p(x: int = 1):\n"
        "    one(x)\n"
        "print(type(p).__name__, p.trace().names, sluice.pipelines.resume.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Pipeline ['one'] resume"
