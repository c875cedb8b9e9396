"""The steps of the main job. Each is small and cached; the heavy lifting is in the domain modules.

Step parameters are plain JSON values (so they enter the cache key exactly) and
step outputs are frames, fitted estimators or plain JSON (so materializers can
store them). The data file's content hash is a parameter of the first step:
edit the file and everything downstream runs again; leave it and nothing does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sluice.errors import ValidationFailed
from sluice.pipelines import current_step, step
from sluice.templates.tabular import modelling
from sluice.templates.tabular.plain import plain
from sluice.templates.tabular.prepare import clean_frame, split_frame

if TYPE_CHECKING:
    import pandas as pd


@step
def version_data(path: str, name: str, content_hash: str) -> dict[str, Any]:
    """Record the file as a dataset version (identical bytes give the same version)."""
    from sluice.data import add_version

    ws = current_step().workspace
    version = add_version(ws, path, name)
    current_step().log(f"dataset {name}@{version.version} ({content_hash[:12]})")
    return plain(
        {
            "id": version.id,
            "name": name,
            "version": version.version,
            "content_hash": version.content_hash,
            "n_rows": version.n_rows,
            "n_cols": version.n_cols,
            "source": path,
        }
    )


@step
def load_data(dataset: dict[str, Any]) -> pd.DataFrame:
    """The dataset version's rows, read back from the store (the file may change later)."""
    from sluice.data import get_version, load_frame

    ws = current_step().workspace
    return load_frame(ws, get_version(ws, f"{dataset['name']}@{dataset['version']}"))


@step
def validate_data(
    frame: pd.DataFrame,
    target: str,
    time_column: str | None,
    task: str,
    drop: list[str],
    reference: str | None = None,
) -> dict[str, Any]:
    """Check the rows against their own schema and, when the dataset has an earlier
    version (``reference``, 'name@N'), against that version's schema and statistics:
    missing or new columns, type changes, unseen categories, shifted missing shares.
    Errors stop the run with the report.

    Columns the configuration drops are left out: warnings about them would be noise.
    """
    from sluice.data import infer_schema, validate

    frame = frame.drop(columns=drop)
    schema = infer_schema(frame, target=target, time_column=time_column, task=task)
    anomalies = [plain(a) for a in validate(frame, schema).anomalies]
    if reference is not None:
        anomalies += _against_reference(frame, reference, drop, anomalies)
    errors = [a for a in anomalies if a.get("severity") == "error"]
    for a in errors:  # the details, for `sluice runs logs RUN validate_data`
        current_step().log(f"{a.get('kind')} in {a.get('column')!r}: {a.get('message')}")
    if errors:
        listing = "; ".join(f"{a.get('column') or '(table)'}: {a.get('kind')}" for a in errors)
        against = f" (against {reference})" if reference else ""
        raise ValidationFailed(
            f"Expected data free of validation errors{against}; got {len(errors)}: {listing}. "
            "Fix the data, or drop the columns in data.drop of sluice.yaml.",
            report=anomalies,
        )
    return {"schema": plain(schema.to_dict()), "anomalies": anomalies}


def _against_reference(
    frame: pd.DataFrame, reference: str, drop: list[str], found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Anomalies of ``frame`` against an earlier dataset version, less those already found."""
    import dataclasses

    from sluice.data import get_version, validate

    earlier = get_version(current_step().workspace, reference)
    kept = tuple(c for c in earlier.schema.columns if c.name not in drop)
    expected = dataclasses.replace(earlier.schema, columns=kept)
    seen = {(a.get("column"), a.get("kind")) for a in found}
    drift = [plain(a) for a in validate(frame, expected, reference=earlier.profile).anomalies]
    return [a for a in drift if (a.get("column"), a.get("kind")) not in seen]


@step(outputs=("frame", "cleaning"))
def clean(
    frame: pd.DataFrame,
    validation: dict[str, Any],
    target: str,
    drop: list[str],
    sample: int | None,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop configured, id and constant columns, duplicates and rows without a target."""
    return clean_frame(
        frame, target=target, drop=drop, schema=validation["schema"], sample=sample, seed=seed
    )


@step(outputs=("train", "holdout", "split"))
def split(
    frame: pd.DataFrame,
    target: str,
    holdout: float,
    time_column: str | None,
    task: str,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """A time-ordered holdout when a time column is set, else a (stratified) random one."""
    return split_frame(
        frame,
        target=target,
        holdout=holdout,
        time_column=time_column,
        stratify=task == "classification",
        seed=seed,
    )


@step(outputs=("model", "baseline", "selection"))
def select_model(
    train: pd.DataFrame, validation: dict[str, Any], settings: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """Cross-validate every candidate, each as a tracked run; keep the winner and the baseline."""
    ctx = current_step()
    return modelling.select(ctx.workspace, train, validation["schema"], settings, ctx)


@step
def evaluate(
    model: Any,
    baseline: Any,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    selection: dict[str, Any],
    validation: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Holdout metrics beside the baseline, flags, slices, importance, learning curve."""
    return modelling.evaluate(
        model, baseline, train, holdout, selection, validation["schema"], settings
    )


@step
def compare_champion(
    holdout: pd.DataFrame, model_name: str, settings: dict[str, Any], champion_ref: str | None
) -> dict[str, Any] | None:
    """The current champion scored on the same holdout, or None when there is none yet.

    ``champion_ref`` (version and artifact hash) is here for the cache key: when the
    alias moves, the comparison runs again.
    """
    return modelling.champion_on_holdout(current_step().workspace, model_name, holdout, settings)


@step
def check_gates(
    gates: list[dict[str, Any]],
    validation: dict[str, Any],
    selection: dict[str, Any],
    evaluation: dict[str, Any],
    champion: dict[str, Any] | None,
) -> dict[str, Any]:
    """Every gate's verdict, stored with observed value, threshold and reason."""
    ctx = current_step()
    return modelling.run_gates(
        ctx.workspace, ctx.pipeline_run_id, gates, validation, selection, evaluation, champion
    )


@step
def register(
    model: Any,
    verdicts: dict[str, Any],
    dataset: dict[str, Any],
    validation: dict[str, Any],
    selection: dict[str, Any],
    evaluation: dict[str, Any],
    train: pd.DataFrame,
    settings: dict[str, Any],
) -> dict[str, Any] | None:
    """The next version of the model with its card, only when every gate passed.

    Cached like every step: a re-run with the same inputs reuses this output
    instead of registering the same model a second time.
    """
    if not verdicts["passed"]:
        current_step().log("a gate failed: nothing registered")
        return None
    ctx = current_step()
    return modelling.register(
        ctx.workspace,
        ctx.pipeline_run_id,
        model,
        dataset,
        validation,
        selection,
        evaluation,
        train,
        settings,
    )
