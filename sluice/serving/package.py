"""``sluice package``: a model version as a self-contained folder that serves it.

The bundle holds the model file (checked by SHA-256 when served), its signature
and lineage, requirements pinned to the versions the model was trained with, a
small FastAPI entry point, sluice's own transformers when the model uses them,
and a Dockerfile. It needs neither sluice nor its store to run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sluice.errors import ConfigError
from sluice.models import persistence
from sluice.registry import resolve
from sluice.workspace import Workspace

BUNDLE = Path(__file__).parent / "bundle"
MODEL_PACKAGES = ("scikit-learn", "numpy", "scipy", "pandas", "skops", "joblib", "threadpoolctl")
SERVER_PACKAGES = ("fastapi", "uvicorn")
TRANSFORMERS = "sluice.models.transformers."


@dataclass(frozen=True)
class Bundle:
    folder: Path
    uri: str
    files: list[str]
    requirements: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "uri": self.uri,
            "files": self.files,
            "requirements": self.requirements,
        }


def package_model(ws: Workspace, uri: str, out: Path, *, overwrite: bool = False) -> Bundle:
    """Write the bundle of ``uri`` into ``out`` (refused when it exists, unless overwrite)."""
    version = resolve(ws, uri)
    out = check_out(out, overwrite=overwrite)
    data = ws.get(version.artifact_hash)  # hash-checked
    foreign = persistence.untrusted_types(data)
    if foreign:
        raise ConfigError(
            f"{version.uri} holds types outside sluice's allow-list ({', '.join(foreign)}); "
            "a bundle trusts only what sluice trusts. Retrain with supported estimators."
        )
    import skops.io as sio

    trusted = sorted(sio.get_untrusted_types(data=data))  # every one on sluice's allow-list
    requirements = _requirements(version.environment)
    staging = _staging(out)
    (staging / "model.skops").write_bytes(data)
    meta = {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "sha256": hashlib.sha256(data).hexdigest(),
        "artifact_hash": version.artifact_hash,
        "flavor": version.flavor,
        "task": (version.signature.get("output") or {}).get("task") or _task(version.signature),
        "classes": (version.signature.get("output") or {}).get("classes"),
        "signature": dict(version.signature),
        "metrics": dict(version.metrics),
        "lineage": {
            "dataset_version_id": version.dataset_version_id,
            "pipeline_run_id": version.pipeline_run_id,
            "git_commit": version.git_commit,
        },
        "trained_with": version.environment.get("packages", {}),
        "python": version.environment.get("python"),
        "trusted_types": trusted,
    }
    (staging / "model.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (staging / "requirements.txt").write_text("\n".join(requirements) + "\n")
    shutil.copyfile(BUNDLE / "serve.py", staging / "serve.py")
    if any(name.startswith(TRANSFORMERS) for name in trusted):
        _vendor_transformers(staging / "vendor")
    (staging / "Dockerfile").write_text(_dockerfile(meta["python"]))
    (staging / "README.md").write_text(_readme(meta))
    _publish(staging, out)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return Bundle(out, version.uri, files, requirements)


def _requirements(environment: Mapping[str, Any]) -> list[str]:
    """The model's libraries at the versions it was trained with; the server's at ours."""
    trained = environment.get("packages", {})
    pins = []
    for name in MODEL_PACKAGES:
        version = trained.get(name) or _installed(name)
        if version:
            pins.append(f"{name}=={version}")
    for name in SERVER_PACKAGES:
        version = _installed(name)
        if version:
            pins.append(f"{name}=={version}")
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _vendor_transformers(folder: Path) -> None:
    """sluice's transformers module, alone, at the import path the model file names."""
    from sluice.models import transformers

    target = folder / "sluice" / "models"
    target.mkdir(parents=True)
    (folder / "sluice" / "__init__.py").write_text('"""Only what the bundled model needs."""\n')
    (target / "__init__.py").write_text("")
    shutil.copyfile(str(transformers.__file__), target / "transformers.py")


def _task(signature: Mapping[str, Any]) -> str:
    return "classification" if (signature.get("output") or {}).get("classes") else "regression"


def _dockerfile(python: str | None) -> str:
    minor = ".".join((python or "3.11").split(".")[:2])
    return (
        f"FROM python:{minor}-slim\n"
        "WORKDIR /srv\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n"
        "EXPOSE 8000\n"
        'CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "8000"]\n'
    )


def _readme(meta: dict[str, Any]) -> str:
    return (
        f"# {meta['name']} v{meta['version']}\n\n"
        f"Made by `sluice package {meta['uri']}`. Serve it with:\n\n"
        "    pip install -r requirements.txt && python serve.py --port 8000\n\n"
        'or build the Dockerfile. `POST /predict` takes `{"records": [...]}` with the\n'
        "columns in model.json's signature; `GET /metadata` tells the version and lineage.\n"
        "model.skops is checked against model.json's sha256 before it is loaded.\n"
    )


def check_out(out: Path | str, *, overwrite: bool = False) -> Path:
    """The bundle's folder, once known to be new, empty, or allowed to be replaced."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(
            f"Expected an empty or new folder for the bundle; {str(out)!r} holds files. "
            "Pick another --out, or pass --overwrite to replace it."
        )
    return out


def archive(bundle: Bundle) -> bytes:
    """The bundle's folder as a zip file's bytes (how the team server sends it)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(bundle.folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(bundle.folder).as_posix())
    return buffer.getvalue()


def unpack(data: bytes, out: Path | str, *, overwrite: bool = False) -> list[str]:
    """Write a bundle received as a zip into ``out``, all or nothing; a member named with
    ``..``, an absolute path or a drive is refused before anything is written (zipfile
    itself cuts a name at a NUL)."""
    import io
    import zipfile

    out = check_out(out, overwrite=overwrite)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        for name in names:
            parts = Path(name).parts
            if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
                raise ConfigError(
                    f"Expected a bundle with plain relative file names; got {name!r}. "
                    "The archive was not written."
                )
        staging = _staging(out)
        zf.extractall(staging)
    _publish(staging, out)
    return sorted(n for n in names if not n.endswith("/"))


def _staging(out: Path) -> Path:
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _publish(staging: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
