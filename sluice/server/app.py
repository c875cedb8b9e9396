"""The team server's FastAPI app: read what the store holds, change it as allowed.

Errors are JSON ``{"error": KIND, "message": ...}``: 401 without a valid token,
403 for a role that may not, 404 for an unknown name, 409 for a name taken, 422
for bad input, 429 after repeated bad tokens. Nothing a client sends gives a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from sluice.errors import (
    AliasNotFound,
    AlreadyExists,
    ArtifactNotFound,
    ConfigError,
    DataError,
    Forbidden,
    GovernanceError,
    InvalidAlias,
    InvalidModelName,
    InvalidModelURI,
    ModelNotFound,
    MonitorNotFound,
    NotFound,
    RunNotFound,
    SluiceError,
    TokenNotFound,
    Unauthorized,
    UserNotFound,
    VersionNotFound,
)
from sluice.governance import User
from sluice.server.auth import FailureLimiter, TooManyFailures, identify
from sluice.store.audit import acting_as
from sluice.workspace import Workspace

API = "/api/v1"
PRODUCTION = "production"
Name = Annotated[str, Path(max_length=200, description="A name, as the CLI shows it.")]

NOT_FOUND = (
    NotFound,
    ArtifactNotFound,
    ModelNotFound,
    VersionNotFound,
    AliasNotFound,
    RunNotFound,
    MonitorNotFound,
    UserNotFound,
    TokenNotFound,
)
STATUS: list[tuple[type[Exception] | tuple[type[Exception], ...], int]] = [
    (TooManyFailures, 429),  # most specific first
    (Unauthorized, 401),
    (Forbidden, 403),
    (AlreadyExists, 409),
    (NOT_FOUND, 404),
    ((ConfigError, DataError, InvalidAlias, InvalidModelName, InvalidModelURI), 422),
    (GovernanceError, 409),  # e.g. reviewing a request that is closed
]


class AliasMove(BaseModel):
    version: int = Field(ge=1, description="The version the alias should point at.")


class NewRequest(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    alias: str = Field("production", min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=5000, description="Why, for the reviewers.")


class NewReview(BaseModel):
    decision: str = Field(description="approve, reject or comment.")
    comment: str = Field("", max_length=5000)


class NewProject(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    objective: str = Field(min_length=1, max_length=5000)
    target: str | None = Field(None, max_length=200, description="e.g. rmse <= 60")
    metric: str | None = Field(None, max_length=100)
    owner: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=200)
    dataset: str | None = Field(None, max_length=200)
    approvals: int = Field(1, ge=1, le=10)
    reviewer_roles: list[str] = Field(default_factory=lambda: ["approver", "admin"], max_length=5)
    gates_must_pass: bool = True
    webhook: str | None = Field(None, max_length=2000)
    webhook_secret_env: str | None = Field(None, max_length=200)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(description="viewer, scientist, engineer, approver or admin.")


class RoleChange(BaseModel):
    role: str = Field(description="viewer, scientist, engineer, approver or admin.")


class NewToken(BaseModel):
    user: str | None = Field(None, max_length=100, description="Default: the caller.")
    label: str = Field("", max_length=100)
    expires_in: float | None = Field(None, gt=0, le=10 * 365 * 86400, description="Seconds.")


def create_app(ws: Workspace, *, limiter: FailureLimiter | None = None) -> FastAPI:
    """The API over ``ws``, one app per process (the store is shared between its threads)."""
    app = FastAPI(
        title="sluice team server",
        summary="Datasets, runs, models and aliases, monitors, users and the audit trail.",
        version="1",
    )
    app.state.ws = ws
    app.state.limiter = limiter or FailureLimiter()

    @app.exception_handler(SluiceError)
    async def sluice_error(request: Request, exc: SluiceError) -> JSONResponse:
        status = next((code for kind, code in STATUS if isinstance(exc, kind)), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyFailures) else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        body = {"error": type(exc).__name__, "message": str(exc)}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.get("/health", tags=["server"])
    def health() -> dict[str, str]:
        """The server is up (no token needed)."""
        return {"status": "ok"}

    _read_routes(app, ws)
    _write_routes(app, ws)
    _approval_routes(app, ws)
    _project_routes(app, ws)
    _people_routes(app, ws)
    return app


def permit(permission: str) -> Callable[..., User]:
    """A dependency: the calling user, allowed ``permission``."""

    def dependency(request: Request) -> User:
        client = request.client.host if request.client else "unknown"
        state = request.app.state
        return identify(
            state.ws, state.limiter, client, request.headers.get("authorization"), permission
        )

    return dependency


Reader = Annotated[User, Depends(permit("read"))]
AliasMover = Annotated[User, Depends(permit("models.alias"))]
Requester = Annotated[User, Depends(permit("approvals.request"))]
ProjectWriter = Annotated[User, Depends(permit("projects.write"))]
Reviewer = Annotated[User, Depends(permit("approvals.review"))]
Admin = Annotated[User, Depends(permit("users.admin"))]
Own = Annotated[User, Depends(permit("tokens.own"))]


def _read_routes(app: FastAPI, ws: Workspace) -> None:
    @app.get(f"{API}/whoami", tags=["people"])
    def whoami(user: Reader) -> dict[str, Any]:
        """The token's user and role."""
        return user.to_dict()

    @app.get(f"{API}/datasets", tags=["data"])
    def datasets(user: Reader) -> list[dict[str, Any]]:
        """Every dataset with its latest version."""
        from sluice.data import list_datasets

        return [d.to_dict() for d in list_datasets(ws)]

    @app.get(f"{API}/datasets/{{name}}", tags=["data"])
    def dataset_versions(name: Name, user: Reader) -> list[dict[str, Any]]:
        """A dataset's versions, newest last (without profiles; the CLI shows those)."""
        from sluice.data import list_versions

        return [v.to_dict(profile=False) for v in list_versions(ws, name)]

    @app.get(f"{API}/runs", tags=["runs"])
    def runs(
        user: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> list[dict[str, Any]]:
        """Pipeline runs, newest first."""
        from sluice.pipelines import list_runs

        return [r.to_dict() for r in list_runs(ws, limit=limit)]

    @app.get(f"{API}/models", tags=["models"])
    def models(user: Reader) -> list[dict[str, Any]]:
        """Registered models with their aliases."""
        from sluice.registry import list_models

        return [m.to_dict() for m in list_models(ws)]

    @app.get(f"{API}/models/{{name}}", tags=["models"])
    def model_versions(name: Name, user: Reader) -> list[dict[str, Any]]:
        """A model's versions."""
        from sluice.registry import list_versions

        return [v.to_dict() for v in list_versions(ws, name)]

    @app.get(f"{API}/models/{{name}}/versions/{{version}}/card", tags=["models"])
    def card(
        name: Name,
        version: Annotated[int, Path(ge=1, le=2**31)],
        user: Reader,
        format: Annotated[str, Query(max_length=10, description="md, html or json")] = "md",
    ) -> Response:
        """The model card: data, metrics, gates, who registered and approved it, monitoring."""
        from sluice.governance import model_card_inputs
        from sluice.registry import resolve
        from sluice.reports.model_card import MEDIA_TYPES, render_model_card

        mv = resolve(ws, f"models:/{name}/{version}")
        text = render_model_card(mv, model_card_inputs(ws, mv), fmt=format)
        return Response(text, media_type=MEDIA_TYPES[format])

    @app.get(f"{API}/monitors", tags=["monitors"])
    def monitors(user: Reader) -> list[dict[str, Any]]:
        """Monitors with the alias they follow."""
        from sluice.monitoring import list_monitors

        return [m.to_dict() for m in list_monitors(ws)]

    @app.get(f"{API}/audit", tags=["audit"])
    def audit_events(
        user: Reader,
        target: Annotated[str | None, Query(max_length=500)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[str | None, Query(max_length=50, description="2026-12-01 or 7d")] = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 50,
    ) -> list[dict[str, Any]]:
        """Audit events, newest first, filtered like `sluice audit log`."""
        from sluice.governance import audit_log, parse_since

        start = parse_since(since) if since is not None else None
        found = audit_log(ws, target=target, actor=actor, action=action, since=start, limit=limit)
        return [e.to_dict() for e in found]

    @app.get(f"{API}/audit/verify", tags=["audit"])
    def audit_verify(user: Reader) -> dict[str, Any]:
        """Walk the whole chain; ``ok`` false names the first broken link."""
        from sluice.governance import verify_audit

        return verify_audit(ws).to_dict()


def _write_routes(app: FastAPI, ws: Workspace) -> None:
    @app.put(f"{API}/models/{{name}}/aliases/{{alias}}", tags=["models"])
    def move_alias(
        name: Name,
        alias: Annotated[str, Path(max_length=100)],
        move: AliasMove,
        user: AliasMover,
    ) -> dict[str, Any]:
        """Point an alias other than production at a version."""
        from sluice.registry import set_alias

        if alias.strip().lower() == PRODUCTION:
            raise Forbidden(
                f"The {PRODUCTION} alias moves only through an approved request, not directly; "
                f"ask for it with `sluice models request {name} {move.version} --alias "
                f"{PRODUCTION} --reason TEXT`."
            )
        with acting_as(user.name):
            return set_alias(ws, name, move.version, alias).to_dict()


def _project_routes(app: FastAPI, ws: Workspace) -> None:
    @app.post(f"{API}/projects", tags=["projects"], status_code=201)
    def create(new: NewProject, user: ProjectWriter) -> dict[str, Any]:
        """Create a project (objective, target, owner, approval policy)."""
        from sluice.governance import create_project

        with acting_as(user.name):
            made = create_project(
                ws,
                new.name,
                objective=new.objective,
                target=new.target,
                metric=new.metric,
                owner=new.owner,
                model=new.model,
                dataset=new.dataset,
                approvals=new.approvals,
                reviewer_roles=tuple(new.reviewer_roles),
                gates_must_pass=new.gates_must_pass,
                webhook=new.webhook,
                webhook_secret_env=new.webhook_secret_env,
            )
        return made.to_dict()

    @app.get(f"{API}/projects", tags=["projects"])
    def projects(user: Reader) -> list[dict[str, Any]]:
        """Projects with their stage."""
        from sluice.governance import list_projects

        with acting_as(user.name):
            return [p.to_dict() for p in list_projects(ws)]

    @app.get(f"{API}/projects/{{name}}", tags=["projects"])
    def project(name: Name, user: Reader) -> dict[str, Any]:
        """Where a project stands: data, champion vs target, production, requests, monitors."""
        from sluice.governance import standing

        with acting_as(user.name):
            return standing(ws, name).to_dict()


def _approval_routes(app: FastAPI, ws: Workspace) -> None:
    @app.post(f"{API}/requests", tags=["approvals"], status_code=201)
    def request(new: NewRequest, user: Requester) -> dict[str, Any]:
        """Ask for a protected alias to move to a version; someone else must approve."""
        from sluice.governance import request_alias

        with acting_as(user.name):
            made = request_alias(
                ws, new.model, new.version, new.alias, new.reason, requester=user.name
            )
        return made.to_dict()

    @app.get(f"{API}/requests", tags=["approvals"])
    def requests(
        user: Reader,
        status: Annotated[
            str | None, Query(max_length=20, description="open, approved, ...")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Approval requests, newest first."""
        from sluice.governance import list_requests

        return [r.to_dict() for r in list_requests(ws, status)]

    @app.get(f"{API}/requests/{{request_id}}", tags=["approvals"])
    def one_request(
        request_id: Annotated[int, Path(ge=1, le=2**62)], user: Reader
    ) -> dict[str, Any]:
        """One request with its reviews."""
        from sluice.governance import get_request

        return get_request(ws, request_id).to_dict()

    @app.get(f"{API}/inbox", tags=["approvals"])
    def inbox(user: Reviewer) -> list[dict[str, Any]]:
        """Open requests the caller may decide (everyone's but their own)."""
        from sluice.governance import inbox as awaiting

        return [r.to_dict() for r in awaiting(ws, user.name)]

    @app.post(f"{API}/requests/{{request_id}}/reviews", tags=["approvals"])
    def add_review(
        request_id: Annotated[int, Path(ge=1, le=2**62)], new: NewReview, user: Reader
    ) -> dict[str, Any]:
        """Approve, reject (approvers and admins, never one's own request) or comment."""
        from sluice.governance import review

        with acting_as(user.name):
            done = review(
                ws,
                request_id,
                new.decision,
                new.comment,
                reviewer=user.name,
                reviewer_role=user.role,
            )
        return done.to_dict()


def _people_routes(app: FastAPI, ws: Workspace) -> None:
    @app.get(f"{API}/users", tags=["people"])
    def users(user: Admin) -> list[dict[str, Any]]:
        """Every user with role and state."""
        from sluice.governance import list_users

        return [u.to_dict() for u in list_users(ws)]

    @app.post(f"{API}/users", tags=["people"], status_code=201)
    def add(new: NewUser, user: Admin) -> dict[str, Any]:
        """Add a user."""
        from sluice.governance import add_user

        with acting_as(user.name):
            return add_user(ws, new.name, new.role).to_dict()

    @app.put(f"{API}/users/{{name}}/role", tags=["people"])
    def role(name: Name, change: RoleChange, user: Admin) -> dict[str, Any]:
        """Change a user's role."""
        from sluice.governance import set_role

        with acting_as(user.name):
            return set_role(ws, name, change.role).to_dict()

    @app.post(f"{API}/users/{{name}}/disable", tags=["people"])
    def disable(name: Name, user: Admin) -> dict[str, Any]:
        """Disable a user: every token of theirs stops working."""
        from sluice.governance import disable_user

        if name == user.name:
            raise ConfigError("You cannot disable yourself; ask another admin.")
        with acting_as(user.name):
            return disable_user(ws, name).to_dict()

    @app.get(f"{API}/tokens", tags=["people"])
    def tokens(user: Own) -> list[dict[str, Any]]:
        """The caller's tokens (an admin sees everyone's); never the secrets."""
        from sluice.governance import allowed, list_tokens

        everyone = allowed(user.role, "users.admin")
        return [t.to_dict() for t in list_tokens(ws, None if everyone else user.name)]

    @app.post(f"{API}/tokens", tags=["people"], status_code=201)
    def create(new: NewToken, user: Own) -> dict[str, Any]:
        """Create a token (for another user: admins only); the secret is in this answer only."""
        from sluice.governance import create_token, require

        owner = new.user or user.name
        if owner != user.name:
            require(user.name, user.role, "users.admin")
        with acting_as(user.name):
            token, secret = create_token(ws, owner, label=new.label, expires_in=new.expires_in)
        return token.to_dict() | {"token": secret}

    @app.delete(f"{API}/tokens/{{token_id}}", tags=["people"])
    def revoke(token_id: Annotated[int, Path(ge=1, le=2**62)], user: Own) -> dict[str, Any]:
        """Revoke a token (another user's: admins only)."""
        from sluice.governance import list_tokens, require, revoke_token

        mine = {t.id for t in list_tokens(ws, user.name)}
        if token_id not in mine:
            require(user.name, user.role, "users.admin")
        with acting_as(user.name):
            return revoke_token(ws, token_id).to_dict()
