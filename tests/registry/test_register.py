"""Registration: numbering, aliases, everything stored, concurrency (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sluice.errors import (
    AliasNotFound,
    InvalidAlias,
    InvalidModelName,
    ModelNotFound,
    NotFound,
    VersionNotFound,
)
from sluice.registry import (
    Alias,
    champion,
    list_models,
    list_versions,
    register_version,
    resolve,
    set_alias,
    set_card,
)
from sluice.store import tables as t
from sluice.workspace import Workspace

SIGNATURE = {"inputs": [{"name": "hr", "dtype": "int64"}], "output": {"name": "cnt"}}


def register(ws: Workspace, name: str = "bike-demand", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "model_bytes": kw.pop("model_bytes", uuid.uuid4().bytes),
        "signature": SIGNATURE,
        "params": {"alpha": 1.0},
        "metrics": {"rmse": 80.5},
    }
    return register_version(ws, name, **(args | kw))


def test_first_version_is_champion_and_challenger_then_challenger_moves(any_ws: Workspace) -> None:
    v1 = register(any_ws)
    assert (v1.name, v1.version, v1.aliases) == ("bike-demand", 1, ("challenger", "champion"))
    v2 = register(any_ws)
    assert (v2.version, v2.aliases) == (2, ("challenger",))
    assert resolve(any_ws, "models:/bike-demand@champion").version == 1
    assert resolve(any_ws, "models:/bike-demand@challenger").version == 2
    assert resolve(any_ws, "models:/bike-demand").version == 2
    assert resolve(any_ws, "models:/bike-demand/1").aliases == ("champion",)
    other = register(any_ws, "churn")
    assert other.version == 1, "numbering is per model"


def test_everything_is_stored(any_ws: Workspace) -> None:
    run_id = uuid.uuid4().hex
    with any_ws.store.write() as conn:
        conn.execute(
            t.pipeline_runs.insert().values(
                id=run_id, pipeline="tabular", status="succeeded", params={}, executor="local",
                created_at=time.time(),
            )
        )  # fmt: skip
    mv = register(
        any_ws,
        model_bytes=b"model bytes",
        pipeline_run_id=run_id,
        params={"alpha": np.float64(0.5), "depth": np.int64(3), "tags": {"b", "a"}},
        metrics={"rmse": np.float32(80.25), "mape": math.nan},
        seed=42,
        duration=1.5,
        extra={"objective": "Plan bike redistribution"},
    )
    again = resolve(any_ws, mv.uri)
    assert again == mv
    assert any_ws.get(mv.artifact_hash) == b"model bytes"
    assert mv.flavor == "sklearn" and mv.signature == SIGNATURE
    assert mv.params == {"alpha": 0.5, "depth": 3, "tags": ["a", "b"]}
    assert mv.metrics == {"rmse": 80.25, "mape": None}, (
        "NaN is stored as null (PostgreSQL JSON refuses NaN)"
    )
    assert (mv.pipeline_run_id, mv.seed, mv.duration) == (run_id, 42, 1.5)
    assert mv.extra == {"objective": "Plan bike redistribution"}
    env = mv.environment
    assert env["python"].count(".") == 2 and env["cpu_count"] >= 1
    assert {"scikit-learn", "numpy", "pandas", "skops"} <= set(env["packages"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode == 0:  # the sluice checkout; a source tarball has no repository
        assert mv.git_commit == head.stdout.strip()
        assert isinstance(mv.git_dirty, bool)
    else:
        assert (mv.git_commit, mv.git_dirty) == (None, None)
    assert mv.to_dict()["uri"] == "models:/bike-demand/1"


def test_a_missing_lineage_link_is_named(any_ws: Workspace) -> None:
    with pytest.raises(NotFound) as info:
        register(any_ws, pipeline_run_id="f" * 32)
    assert str(info.value) == (
        f"Expected pipeline_run_id to name an existing pipeline run; got '{'f' * 32}', "
        "which is not in the store. Run `sluice runs list` to see the ones there are."
    )
    with pytest.raises(
        NotFound, match="Expected dataset_version_id to name an existing dataset version"
    ):
        register(any_ws, dataset_version_id=999)
    assert list_models(any_ws) == [], "nothing half-written"
    with any_ws.store.read() as conn:
        assert conn.execute(t.artifacts.select()).all() == [], "no orphan model bytes either"


def test_a_bad_name_is_refused(any_ws: Workspace) -> None:
    with pytest.raises(InvalidModelName):
        register(any_ws, "bike demand")


def test_concurrent_registrations_get_distinct_numbers(any_ws: Workspace) -> None:
    n_threads, per_thread = 6, 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                register(any_ws, "racy")
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    numbers = [v.version for v in list_versions(any_ws, "racy")]
    assert numbers == list(range(1, n_threads * per_thread + 1))
    (model,) = list_models(any_ws)
    assert model.aliases["champion"] == 1
    assert model.n_versions == model.latest_version == n_threads * per_thread


def test_set_alias_moves_it(any_ws: Workspace) -> None:
    for _ in range(3):
        register(any_ws)
    moved = set_alias(any_ws, "bike-demand", 3, Alias.CHAMPION)
    assert moved.aliases == ("challenger", "champion")
    assert resolve(any_ws, "models:/bike-demand/1").aliases == ()
    set_alias(any_ws, "bike-demand", 2, "eu-prod")
    set_alias(any_ws, "bike-demand", 1, "eu-prod")
    (model,) = list_models(any_ws)
    assert model.aliases == {"challenger": 3, "champion": 3, "eu-prod": 1}
    with pytest.raises(InvalidAlias):
        set_alias(any_ws, "bike-demand", 1, "EU prod")
    with pytest.raises(VersionNotFound):
        set_alias(any_ws, "bike-demand", 9, "staging")


def test_champion_is_none_until_there_is_one(any_ws: Workspace) -> None:
    assert champion(any_ws, "bike-demand") is None
    register(any_ws)
    register(any_ws)
    first = champion(any_ws, "bike-demand")
    assert first is not None and first.version == 1
    set_alias(any_ws, "bike-demand", 2, "champion")
    second = champion(any_ws, "bike-demand")
    assert second is not None and second.version == 2


def test_resolve_errors_say_what_exists(any_ws: Workspace) -> None:
    with pytest.raises(ModelNotFound) as info:
        resolve(any_ws, "models:/bike-demand")
    assert str(info.value) == (
        "Expected the name of a registered model; got 'bike-demand' (no model is registered yet). "
        "Run `sluice models list` to see them, or `sluice run` to train and register one."
    )
    register(any_ws)
    register(any_ws)
    register(any_ws, "churn")
    with pytest.raises(ModelNotFound) as info:
        resolve(any_ws, "models:/bike-demnd@champion")
    assert str(info.value) == (
        "Expected the name of a registered model; got 'bike-demnd' "
        "(registered models: bike-demand, churn). Did you mean 'bike-demand'? "
        "Run `sluice models list` to see them, or `sluice run` to train and register one."
    )
    with pytest.raises(VersionNotFound) as vinfo:
        resolve(any_ws, "models:/bike-demand/7")
    assert str(vinfo.value) == (
        "Model 'bike-demand' has no version 7; its versions are 1 to 2. Run `sluice models show "
        "bike-demand` to see them, or use models:/bike-demand@champion."
    )
    with pytest.raises(AliasNotFound) as ainfo:
        resolve(any_ws, "models:/bike-demand@champoin")
    assert str(ainfo.value) == (
        "Model 'bike-demand' has no alias 'champoin'; its aliases are challenger, champion. "
        "Did you mean 'champion'? Set it with `sluice models promote bike-demand VERSION --alias "
        "champoin`, or use models:/bike-demand/VERSION."
    )
    with pytest.raises(ModelNotFound, match="Did you mean 'churn'"):
        list_versions(any_ws, "chrun")


def test_set_card_needs_a_stored_artifact(any_ws: Workspace) -> None:
    mv = register(any_ws)
    card = any_ws.put(b"# card", media_type="text/markdown", materializer="text")
    set_card(any_ws, mv, card)
    assert resolve(any_ws, mv.uri).card_hash == card
    with pytest.raises(NotFound, match=r"no artifact 0+ is indexed"):
        set_card(any_ws, mv, "0" * 64)


def test_git_state_outside_and_inside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sluice.registry import git_state

    assert git_state(tmp_path) is None
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("one")
    subprocess.run([*git, "-C", str(tmp_path), "add", "a.txt"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "one"], check=True)
    clean = git_state(tmp_path)
    assert clean is not None and len(clean.commit) == 40 and clean.dirty is False
    (tmp_path / "untracked.txt").write_text("x")
    assert git_state(tmp_path) == clean, "untracked files (like .sluice/) do not make it dirty"
    (tmp_path / "a.txt").write_text("two")
    assert git_state(tmp_path) == type(clean)(clean.commit, True)
    (tmp_path / ".git" / "index").write_bytes(b"damaged")  # `git status` fails, HEAD still reads
    assert git_state(tmp_path) == type(clean)(clean.commit, None), "unknown, not clean"
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert git_state(tmp_path) is None, "no git installed: quietly absent"
