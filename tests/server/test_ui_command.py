"""``sluice ui``: the dashboard on a local store, with a sign-in token that expires."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.server.test_team_server import SLUICE
from tests.serving.conftest import free_port

pytestmark = pytest.mark.slow


def test_sluice_ui_prints_the_address_and_a_token_that_signs_in(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env["SLUICE_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [SLUICE, "ui", "--port", str(port), "--hours", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"Dashboard: http://127.0.0.1:{port}/ui/ — sign in as admin"), first
        assert "(valid 1 h)" in first
        token = proc.stdout.readline().strip()
        assert token.startswith("slc_")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            anonymous = client.get("/ui/", follow_redirects=False)
            assert anonymous.status_code == 303 and "/ui/login" in anonymous.headers["location"]
            signed = client.post("/ui/login", data={"token": token, "next": "/ui/runs"})
            assert (signed.status_code, signed.headers["location"]) == (303, "/ui/runs")
            runs = client.get("/ui/runs")  # the cookie set at sign-in goes along
            assert "No runs yet — run <code>sluice run</code>." in runs.text
            me = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
            [made] = [t for t in me.json() if t["label"] == "sluice ui"]
            assert made["expires_at"] - made["created_at"] == pytest.approx(3600, abs=5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
