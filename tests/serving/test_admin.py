"""``POST /admin/reload`` is authenticated once the store has users, and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.config import Settings
from sluice.errors import Forbidden
from sluice.governance import add_user, audit_log, create_token
from sluice.registry import set_alias
from sluice.serving.admin import authorize_reload
from sluice.workspace import Workspace
from tests.server.test_team_server import _register
from tests.serving.conftest import Server

pytestmark = pytest.mark.slow


def test_reload_needs_a_serving_admin_token_once_the_store_has_users(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _register(Settings.at(home))
    ws = Workspace.at(home)
    try:
        set_alias(ws, "demand", 1, "live")
        add_user(ws, "eve", "engineer")
        add_user(ws, "val", "viewer")
        engineer = create_token(ws, "eve")[1]
        viewer = create_token(ws, "val")[1]
        with Server(home, "models:/demand@live") as server:
            anonymous = server.client.post("/admin/reload")
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"] == "Bearer"
            assert "needs a token: send 'Authorization: Bearer <token>'" in anonymous.text
            wrong = server.client.post("/admin/reload", headers={"Authorization": "Bearer x"})
            assert wrong.status_code == 401
            refused = server.client.post(
                "/admin/reload", headers={"Authorization": f"Bearer {viewer}"}
            )
            assert refused.status_code == 403 and "(serving.admin)" in refused.json()["message"]
            set_alias(ws, "demand", 2, "live")
            done = server.client.post(
                "/admin/reload", headers={"Authorization": f"Bearer {engineer}"}
            )
            assert done.json() == {"previous": 1, "current": 2, "changed": True}
            assert server.client.get("/ready").json()["model"]["version"] == 2
            assert server.stop(), server.output
        [event] = audit_log(ws, action="serving.reloaded")
        assert (event.actor, event.target) == ("eve", "models:/demand@live")
        assert (event.before, event.after) == ({"version": 1}, {"version": 2})
    finally:
        ws.close()


def test_without_users_only_this_machine_may_reload(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "home")
    try:
        assert authorize_reload(ws, "127.0.0.1", None)
        assert authorize_reload(ws, "::1", None)
        with pytest.raises(Forbidden, match=r"from 10\.1\.2\.3: this store has no users, so"):
            authorize_reload(ws, "10.1.2.3", None)
        with pytest.raises(Forbidden, match="answers only this machine"):
            authorize_reload(ws, None, "Bearer slc_x")
    finally:
        ws.close()
