"""`sluice package`: the bundle installs into a fresh virtual environment without sluice
and serves the same predictions; a changed model file is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sluice.errors import ConfigError
from sluice.registry import load_model
from sluice.serving.package import package_model, unpack
from sluice.workspace import Workspace
from tests.serving.conftest import Models, free_port, records

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("package")]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment, made by the interpreter sluice was installed from."""
    folder = tmp_path_factory.mktemp("bundle-venv") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(folder)], check=True, timeout=300)
    return folder


def _bundle(models: Models, out: Path) -> Path:
    ws = Workspace.at(models.home)
    try:
        package_model(ws, "models:/bike-demand/1", out)
    finally:
        ws.close()
    return out


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "PYTHON"))}


def test_the_bundle_serves_without_sluice(models: Models, venv: Path, tmp_path: Path) -> None:
    bundle = _bundle(models, tmp_path / "bundle")
    files = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file())
    assert files == [
        "Dockerfile",
        "README.md",
        "model.json",
        "model.skops",
        "requirements.txt",
        "serve.py",
        "vendor/sluice/__init__.py",
        "vendor/sluice/models/__init__.py",
        "vendor/sluice/models/transformers.py",
    ]
    meta = json.loads((bundle / "model.json").read_text())
    assert (meta["name"], meta["version"], meta["task"]) == ("bike-demand", 1, "regression")
    pins = (bundle / "requirements.txt").read_text().split()
    assert all("==" in pin for pin in pins) and any(p.startswith("scikit-learn==") for p in pins)
    assert "FROM python:3" in (bundle / "Dockerfile").read_text()

    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
         str(bundle / "requirements.txt")],
        capture_output=True, text=True, timeout=900, env=_env(),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    no_sluice = subprocess.run(
        [str(python), "-c", "import sluice.workspace"], capture_output=True, text=True, env=_env()
    )
    assert no_sluice.returncode != 0, "the environment has no sluice"

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(python), "serve.py", "--port", str(port)],
            cwd=bundle,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the bundle's server did not start"
            time.sleep(0.2)
        X = models.X[:20]
        answer = client.post("/predict", json={"records": records(X)})
        assert answer.status_code == 200, answer.text
        ws = Workspace.at(models.home)
        try:
            expected = load_model("models:/bike-demand/1", workspace=ws).predict(X)
        finally:
            ws.close()
        assert answer.json()["predictions"] == pytest.approx(list(expected), rel=1e-9)
        bad = client.post("/predict", json={"records": [{"hr": "noon"}]})
        assert bad.status_code == 422 and bad.json()["problems"][0]["message"].startswith(
            "Record 0"
        )
        assert client.get("/metadata").json()["uri"] == "models:/bike-demand/1"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)

    data = bytearray((bundle / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / "model.skops").write_bytes(bytes(data))
    refused = subprocess.run(
        [str(python), "serve.py"], cwd=bundle, env=_env(), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "the bundle was changed after it was made; refusing to load" in refused.stderr


def test_an_existing_folder_is_not_overwritten(models: Models, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds files\. Pick another --out, or pass --overwrite"):
        _bundle(models, out)
    assert (out / "keep.txt").read_text() == "mine"


def test_a_received_bundle_with_unsafe_names_is_refused_whole(tmp_path: Path) -> None:
    import io
    import zipfile

    for bad in ("../escape.txt", "/etc/passwd-copy", "a/../../b", "C:/windows.txt"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("model.json", "{}")
            zf.writestr(bad, "x")
        out = tmp_path / "bundle"
        with pytest.raises(ConfigError, match=r"Expected a bundle with plain relative file"):
            unpack(buffer.getvalue(), out)
        assert not out.exists() and not (tmp_path / "escape.txt").exists(), bad


def test_a_bundle_sent_as_an_archive_unpacks_to_the_same_files(
    models: Models, tmp_path: Path
) -> None:
    made = _bundle(models, tmp_path / "here")
    ws = Workspace.at(models.home)
    try:
        from sluice.client import LocalClient

        data, about = LocalClient(ws).bundle_archive("bike-demand", 1)
    finally:
        ws.close()
    files = unpack(data, tmp_path / "there")
    assert files == about["files"]
    for name in files:
        assert (tmp_path / "there" / name).read_bytes() == (made / name).read_bytes(), name
