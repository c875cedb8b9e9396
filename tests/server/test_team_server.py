"""`sluice server` as a subprocess on loopback, on SQLite and on PostgreSQL: the first
start's admin, users of every role, the whole endpoint x role matrix (every denial
included), the audit trail's actors, and harmless injection attempts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from sluice.config import Settings
from sluice.governance import Role, allowed
from sluice.models.persistence import dumps
from sluice.models.signature import infer_signature
from sluice.registry import register_version
from sluice.workspace import Workspace
from tests.serving.conftest import SLUICE, free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("team-server")]
ROLES = [r.value for r in Role]


@dataclass
class Team:
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[str]
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> token
    output: str = ""

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def as_(self, user: str) -> httpx.Client:
        return self.client(self.tokens[user])


def _settings(home: Path, url: str | None) -> Settings:
    if url is None:
        return Settings.at(home)
    return Settings(home=home, db_url=url, artifacts=str(home / "artifacts"))


def _register(settings: Settings) -> None:
    ws = Workspace(settings)
    try:
        frame = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) * 3})
        model = LinearRegression().fit(frame[["x"]], frame["y"])
        for _ in range(2):
            register_version(
                ws,
                "demand",
                model_bytes=dumps(model),
                signature=infer_signature(frame[["x"]], model, task="regression"),
                params={},
                metrics={"r2": 1.0},
            )
    finally:
        ws.close()


def start_server(home: Path, url: str | None, *args: str) -> Team:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env["SLUICE_HOME"] = str(home)
    if url is not None:
        env["SLUICE_DB_URL"] = url
    port = free_port()
    proc = subprocess.Popen(
        [SLUICE, "server", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    team = Team(f"http://127.0.0.1:{port}", env, proc)
    deadline = time.monotonic() + 60
    with team.client() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"server exited early:\n{proc.stdout.read() if proc.stdout else ''}"
                )
            try:
                if client.get("/health").status_code == 200:
                    return team
            except httpx.TransportError:
                time.sleep(0.1)
    stop_server(team)
    raise AssertionError(f"server not ready:\n{team.output}")


def stop_server(team: Team) -> str:
    if team.proc.poll() is None:
        team.proc.send_signal(signal.SIGTERM)
    out, _ = team.proc.communicate(timeout=30)
    team.output += out or ""
    return team.output


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def team(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Team]:
    home = tmp_path_factory.mktemp("team") / "home"
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server if isinstance(server, str) else server.create_database("team_server")
    _register(_settings(home, url))
    running = start_server(home, url)
    try:
        # The first start printed the admin's token; read it from the output so far.
        first = running.proc.stdout.readline() if running.proc.stdout else ""
        token = running.proc.stdout.readline().strip() if running.proc.stdout else ""
        assert first.startswith("First start: created the user admin."), first
        running.tokens["admin"] = token
        with running.as_("admin") as admin:
            for role in ROLES[:-1]:
                made = admin.post("/api/v1/users", json={"name": f"{role}-1", "role": role})
                assert made.status_code == 201, made.text
            for role in ROLES[:-1]:
                token = admin.post("/api/v1/tokens", json={"user": f"{role}-1", "label": "test"})
                assert token.status_code == 201, token.text
                running.tokens[f"{role}-1"] = token.json()["token"]
        running.tokens = {
            role: running.tokens[f"{role}-1" if role != "admin" else "admin"] for role in ROLES
        }
        yield running
    finally:
        stop_server(running)


# Every endpoint, the permission it needs, and a request that succeeds when allowed.
# Bodies use names unique per role so each allowed call really changes something.
def _calls(role: str) -> list[tuple[str, str, dict[str, Any] | None, str, int]]:
    return [
        ("GET", "/api/v1/whoami", None, "read", 200),
        ("GET", "/api/v1/datasets", None, "read", 200),
        ("GET", "/api/v1/runs", None, "read", 200),
        ("GET", "/api/v1/models", None, "read", 200),
        ("GET", "/api/v1/models/demand", None, "read", 200),
        ("GET", "/api/v1/models/demand/resolve?alias=champion", None, "read", 200),
        ("GET", "/api/v1/models/demand/versions/1/card", None, "read", 200),
        ("GET", "/api/v1/monitors", None, "read", 200),
        # Reads and writes of things this store lacks: allowed roles get past the role
        # check to a 404 or 422 that names what is missing, the others a 403.
        ("GET", "/api/v1/runs/abcd", None, "read", 404),
        ("GET", "/api/v1/runs/abcd/report", None, "read", 404),
        ("GET", "/api/v1/models/demand/versions/1/artifact", None, "read", 200),
        ("GET", "/api/v1/models/demand/versions/1/bundle", None, "read", 200),
        (
            "POST",
            "/api/v1/jobs",
            {"config": {}, "dataset": "bikes@1", "filename": "day.csv"},
            "runs.write",
            422,
        ),
        ("GET", "/api/v1/runs/abcd/logs", None, "read", 404),
        ("GET", "/api/v1/datasets/bikes/versions/latest", None, "read", 404),
        ("GET", "/api/v1/datasets/bikes/versions/1/validation", None, "read", 404),
        ("GET", "/api/v1/dataset-diff?a=bikes@1&b=bikes@2", None, "read", 404),
        ("GET", "/api/v1/monitors/watch", None, "read", 404),
        ("GET", "/api/v1/monitors/watch/results/1/report", None, "read", 404),
        ("POST", "/api/v1/datasets/bikes/versions?filename=day.csv", None, "data.add", 422),
        (
            "POST",
            "/api/v1/monitors",
            {"name": "m", "model": "demand@champion"},
            "monitors.write",
            422,
        ),
        ("POST", "/api/v1/monitors/watch/run", None, "monitors.write", 404),
        ("GET", "/api/v1/audit", None, "read", 200),
        ("GET", "/api/v1/audit/verify", None, "read", 200),
        (
            "PUT",
            f"/api/v1/models/demand/aliases/staging-{role}",
            {"version": 2},
            "models.alias",
            200,
        ),
        ("GET", "/api/v1/users", None, "users.admin", 200),
        ("POST", "/api/v1/users", {"name": f"new-{role}", "role": "viewer"}, "users.admin", 201),
        ("PUT", "/api/v1/users/viewer-1/role", {"role": "viewer"}, "users.admin", 200),
        ("GET", "/api/v1/requests", None, "read", 200),
        (
            "POST",
            "/api/v1/requests",
            {"model": "demand", "version": 1, "alias": f"release-{role}", "reason": "matrix"},
            "approvals.request",
            201,
        ),
        ("GET", "/api/v1/inbox", None, "approvals.review", 200),
        ("GET", "/api/v1/projects", None, "read", 200),
        (
            "POST",
            "/api/v1/projects",
            {"name": f"p-{role}", "objective": "matrix", "target": "rmse <= 60"},
            "projects.write",
            201,
        ),
        ("POST", f"/api/v1/projects/p-{role}/retire", None, "projects.write", 200),
        ("GET", "/api/v1/tokens", None, "tokens.own", 200),
        ("POST", "/api/v1/tokens", {"label": f"own-{role}"}, "tokens.own", 201),
    ]


def test_the_endpoint_role_matrix(team: Team) -> None:
    seen = []
    for role in ROLES:
        with team.as_(role) as client:
            for method, path, body, permission, ok in _calls(role):
                response = client.request(method, path, json=body)
                expected = ok if allowed(role, permission) else 403
                assert response.status_code == expected, (role, method, path, response.text)
                if expected == 403:
                    message = response.json()["message"]
                    assert f"has the role {role}, which may not" in message, message
                    assert f"({permission})" in message
                seen.append((role, path, response.status_code))
    assert len(seen) == len(ROLES) * len(_calls("x"))
    assert {s for _, _, s in seen} >= {200, 201, 403}


def test_no_token_or_a_bad_one_is_401(team: Team) -> None:
    for method, path, body, _, _ in _calls("anon"):
        with team.client() as anonymous:
            none = anonymous.request(method, path, json=body)
        assert none.status_code == 401, (path, none.text)
        assert none.headers["www-authenticate"] == "Bearer"
    with team.client("slc_" + "A" * 43) as forged:
        bad = forged.get("/api/v1/whoami")
    assert bad.status_code == 401
    assert bad.json()["message"].startswith("The API token is not valid")
    with httpx.Client(base_url=team.url, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}) as c:
        basic = c.get("/api/v1/whoami")
    assert basic.status_code == 401 and "another scheme" in basic.json()["message"]


def test_changes_are_audited_with_the_token_user_as_actor(team: Team) -> None:
    with team.as_("scientist") as scientist:
        moved = scientist.put("/api/v1/models/demand/aliases/canary", json={"version": 1})
        assert moved.status_code == 200, moved.text
        assert moved.json()["aliases"] and "canary" in moved.json()["aliases"]
    with team.as_("viewer") as viewer:
        events = viewer.get(
            "/api/v1/audit", params={"target": "models:/demand@canary", "limit": 5}
        ).json()
        verified = viewer.get("/api/v1/audit/verify").json()
    assert [(e["actor"], e["action"], e["after"]) for e in events] == [
        ("scientist-1", "model.alias_moved", {"version": 1})
    ]
    assert verified["ok"] is True and verified["events"] >= 10


def test_production_moves_only_through_an_approval(team: Team) -> None:
    for role in ("scientist", "engineer", "admin"):
        with team.as_(role) as client:
            refused = client.put("/api/v1/models/demand/aliases/production", json={"version": 2})
        assert refused.status_code == 403
        assert "moves only through an approved request" in refused.json()["message"]


def test_unknown_names_and_injection_attempts_are_harmless(team: Team) -> None:
    with team.as_("admin") as admin:
        assert admin.get("/api/v1/models/nope").status_code == 404
        assert admin.get("/api/v1/models/x'; DROP TABLE users; --").status_code in (404, 422)
        hostile = admin.get("/api/v1/audit", params={"actor": "x' OR '1'='1", "target": "%' --"})
        assert hostile.status_code == 200 and hostile.json() == []
        dotted = admin.put("/api/v1/models/demand/aliases/../../etc", json={"version": 1})
        assert dotted.status_code in (404, 405, 422), "the client resolves .. to another route"
        assert (
            admin.put("/api/v1/models/demand/aliases/bad alias!", json={"version": 1}).status_code
            == 422
        )
        assert admin.post("/api/v1/users", json={"name": "ok", "role": "wizard"}).status_code == 422
        assert admin.delete("/api/v1/tokens/999999").status_code == 404
        assert len(admin.get("/api/v1/users").json()) >= len(ROLES), "users table intact"


def test_a_disabled_users_tokens_stop_at_once(team: Team) -> None:
    with team.as_("admin") as admin:
        assert (
            admin.post("/api/v1/users", json={"name": "temp", "role": "viewer"}).status_code == 201
        )
        token = admin.post("/api/v1/tokens", json={"user": "temp"}).json()["token"]
        with team.client(token) as temp:
            assert temp.get("/api/v1/whoami").json()["name"] == "temp"
            assert admin.post("/api/v1/users/temp/disable").status_code == 200
            assert temp.get("/api/v1/whoami").status_code == 401
        assert admin.post("/api/v1/users/admin/disable").status_code == 422, "not oneself"


def test_repeated_bad_tokens_are_slowed_down(tmp_path: Path) -> None:
    """Its own server: the limit applies to every request from this client afterwards."""
    home = tmp_path / "home"
    team = start_server(home, None)
    try:
        with team.client("slc_" + "B" * 43) as guesser:
            codes = [guesser.get("/api/v1/whoami").status_code for _ in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        with team.client("slc_" + "C" * 43) as again:
            limited = again.get("/api/v1/whoami")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "Too many requests with a bad token" in limited.json()["message"]
    finally:
        stop_server(team)


def test_a_model_walks_to_production_through_review(team: Team, tmp_path: Path) -> None:
    """Rejected, then approved by someone else; the alias, the audit trail and a running
    `sluice serve --poll` of the alias all follow."""
    with team.as_("scientist") as ada, team.as_("approver") as bob, team.as_("admin") as root:
        first = ada.post(
            "/api/v1/requests",
            json={"model": "demand", "version": 1, "reason": "first release"},
        )
        assert first.status_code == 201, first.text
        approved = bob.post(
            f"/api/v1/requests/{first.json()['id']}/reviews", json={"decision": "approve"}
        )
        assert approved.json()["status"] == "approved"
        with Server(team, "models:/demand@production") as served:
            assert served.version() == 1
            asked = ada.post(
                "/api/v1/requests",
                json={"model": "demand", "version": 2, "reason": "retrained on newer rows"},
            ).json()
            waiting = bob.get("/api/v1/inbox").json()
            assert asked["id"] in [r["id"] for r in waiting]
            assert all(r["status"] == "open" and r["requester"] != "approver-1" for r in waiting)
            own = ada.post(f"/api/v1/requests/{asked['id']}/reviews", json={"decision": "approve"})
            assert own.status_code == 403, "scientists do not approve"
            no = bob.post(
                f"/api/v1/requests/{asked['id']}/reviews",
                json={"decision": "reject", "comment": "show me the drift report"},
            ).json()
            assert no["status"] == "rejected" and served.version() == 1
            again = bob.post(
                f"/api/v1/requests/{asked['id']}/reviews", json={"decision": "approve"}
            )
            assert again.status_code == 409 and "only open requests" in again.json()["message"]

            mine = root.post(
                "/api/v1/requests",
                json={"model": "demand", "version": 2, "reason": "drift report attached"},
            ).json()
            self_ok = root.post(
                f"/api/v1/requests/{mine['id']}/reviews", json={"decision": "approve"}
            )
            assert (
                self_ok.status_code == 403 and "separation of duties" in self_ok.json()["message"]
            )
            yes = bob.post(
                f"/api/v1/requests/{mine['id']}/reviews",
                json={"decision": "approve", "comment": "ok"},
            ).json()
            assert yes["status"] == "approved" and yes["reviews"][-1]["reviewer"] == "approver-1"
            assert served.wait_for_version(2), "the running server followed the alias"
        trail = root.get("/api/v1/audit", params={"target": "models:/demand@production"}).json()
        card = ada.get("/api/v1/models/demand/versions/2/card").text
        assert "Registered by" in card
        assert f"- Request {asked['id']} for **production**, asked by scientist-1" in card
        assert '  - approver-1: reject, "show me the drift report"' in card
        assert f"- Request {mine['id']} for **production**, asked by admin" in card
        assert '  - approver-1: approve, "ok"' in card
        as_json = ada.get("/api/v1/models/demand/versions/2/card", params={"format": "json"})
        assert as_json.headers["content-type"].startswith("application/json")
        assert [a["status"] for a in as_json.json()["approvals"]] == ["rejected", "approved"]
        assert (
            ada.get("/api/v1/models/demand/versions/2/card", params={"format": "pdf"}).status_code
            == 422
        )
    assert [(e["action"], e["actor"]) for e in reversed(trail)] == [
        ("approval.requested", "scientist-1"),
        ("approval.approved", "approver-1"),
        ("model.alias_moved", "approver-1"),
        ("approval.requested", "scientist-1"),
        ("approval.rejected", "approver-1"),
        ("approval.requested", "admin"),
        ("approval.approved", "approver-1"),
        ("model.alias_moved", "approver-1"),
    ]


class Server:
    """`sluice serve ALIAS --poll 0.5` on the team's store."""

    def __init__(self, team: Team, uri: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [SLUICE, "serve", uri, "--port", str(self.port), "--poll", "0.5", "--no-log"],
            env=team.env | {"OMP_NUM_THREADS": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "sluice serve exited"
            try:
                if self.client.get("/ready").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("sluice serve not ready")

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def version(self) -> int:
        return int(self.client.get("/ready").json()["model"]["version"])

    def wait_for_version(self, version: int, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.version() == version:
                return True
            time.sleep(0.1)
        return False
