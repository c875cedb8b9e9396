"""Projects: an objective with a metric and a target, an owner, and where things stand.

A project names the model it delivers and the dataset it learns from (by default
both carry the project's name). Its stage follows from what exists, and moves on
as things happen: ``framing`` until a dataset version exists, then ``data``, then
``development`` once a model version is registered, ``deployed`` once the
production alias points somewhere, ``monitoring`` once a monitor follows the
model; ``retired`` only when someone says so. Each change of stage is recorded
(and audited) when the project is looked at or the state changes through sluice.

A project also carries the approval policy of its model's protected aliases: how
many approvals, from which roles, and whether the gates must have passed.
"""

from __future__ import annotations

import contextlib
import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from sluice.errors import AlreadyExists, ConfigError, NotFound, did_you_mean
from sluice.governance.roles import Role, parse_role
from sluice.store import audit
from sluice.store import tables as t
from sluice.workspace import Workspace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_TARGET = re.compile(
    r"^\s*([A-Za-z0-9_]+)\s*(<=|>=|<|>)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


class Stage(StrEnum):
    FRAMING = "framing"
    DATA = "data"
    DEVELOPMENT = "development"
    DEPLOYED = "deployed"
    MONITORING = "monitoring"
    RETIRED = "retired"


@dataclass(frozen=True)
class Target:
    metric: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"

    def met_by(self, observed: float) -> bool:
        return _OPS[self.op](observed, self.value)


@dataclass(frozen=True)
class ProjectPolicy:
    approvals: int = 1
    reviewer_roles: tuple[str, ...] = ("approver", "admin")
    gates_must_pass: bool = True
    webhook: str | None = None  # POSTed each request and decision
    webhook_secret_env: str | None = None  # signs the body (HMAC-SHA256) when set

    def to_dict(self) -> dict[str, Any]:
        return {
            "approvals": self.approvals,
            "reviewer_roles": list(self.reviewer_roles),
            "gates_must_pass": self.gates_must_pass,
            "webhook": self.webhook,
            "webhook_secret_env": self.webhook_secret_env,
        }


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    objective: str
    metric: str | None
    target: Target | None
    owner: str | None
    stage: Stage
    model_name: str
    dataset_name: str
    policy: ProjectPolicy
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "objective": self.objective,
            "metric": self.metric,
            "target": str(self.target) if self.target else None,
            "owner": self.owner,
            "stage": self.stage.value,
            "model": self.model_name,
            "dataset": self.dataset_name,
            "policy": self.policy.to_dict(),
            "created_at": self.created_at,
        }


@dataclass
class Standing:
    """Where a project stands, at a glance."""

    project: Project
    data_versions: list[dict[str, Any]] = field(default_factory=list)
    champion: dict[str, Any] | None = None
    production: dict[str, Any] | None = None
    open_requests: list[dict[str, Any]] = field(default_factory=list)
    monitors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.to_dict(),
            "data_versions": self.data_versions,
            "champion": self.champion,
            "production": self.production,
            "open_requests": self.open_requests,
            "monitors": self.monitors,
        }


def parse_target(text: str) -> Target:
    """``rmse <= 60`` as a Target; ConfigError showing the form otherwise."""
    found = _TARGET.match(text or "")
    if not found:
        raise ConfigError(
            f"Expected a target such as 'rmse <= 60' or 'r2 >= 0.8' (metric, one of <= >= < >, "
            f"a number); got {text!r}."
        )
    return Target(found.group(1).lower(), found.group(2), float(found.group(3)))


def create_project(
    ws: Workspace,
    name: str,
    *,
    objective: str,
    target: str | None = None,
    metric: str | None = None,
    owner: str | None = None,
    model: str | None = None,
    dataset: str | None = None,
    approvals: int = 1,
    reviewer_roles: tuple[str, ...] = ("approver", "admin"),
    gates_must_pass: bool = True,
    webhook: str | None = None,
    webhook_secret_env: str | None = None,
) -> Project:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"Expected a project name of letters, digits, '.', '_' or '-' (at most 200, starting "
            f"with a letter or digit); got {name!r}. For example: bike-demand."
        )
    if not objective.strip():
        raise ConfigError("Expected an objective (--objective TEXT): what the model is for.")
    goal = parse_target(target) if target else None
    if goal and metric and goal.metric != metric.lower():
        raise ConfigError(
            f"The target {target!r} is about {goal.metric}, but --metric says {metric!r}; "
            "make them the same metric."
        )
    if approvals < 1:
        raise ConfigError(f"Expected at least 1 approval in the policy; got {approvals}.")
    roles = tuple(parse_role(r).value for r in reviewer_roles)
    if owner is not None:
        from sluice.governance.users import get_user, list_users

        if list_users(ws):
            get_user(ws, owner)  # UserNotFound, with the names, when the store has users
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise ConfigError(f"Expected the webhook as an http:// or https:// URL; got {webhook!r}.")
    policy = ProjectPolicy(approvals, roles, gates_must_pass, webhook, webhook_secret_env)
    row = {
        "name": name,
        "objective": objective.strip(),
        "metric": (metric or (goal.metric if goal else None)),
        "target": str(goal) if goal else None,
        "owner": owner,
        "stage": Stage.FRAMING.value,
        "created_at": time.time(),
        "model_name": model or name,
        "dataset_name": dataset or name,
        "policy": policy.to_dict(),
    }
    try:
        with ws.store.write() as conn:
            conn.execute(t.projects.insert(), [row])
            audit.append(
                conn,
                "project.created",
                f"projects:/{name}",
                after={k: row[k] for k in ("objective", "target", "owner", "model_name")},
            )
    except AlreadyExists:
        raise AlreadyExists(
            f"A project named {name!r} exists already; `sluice project show {name}` tells where "
            "it stands."
        ) from None
    return refresh_stage(ws, get_project(ws, name))


def get_project(ws: Workspace, name: str) -> Project:
    with ws.store.read() as conn:
        row = conn.execute(sa.select(t.projects).where(t.projects.c.name == name)).first()
        if row is None:
            names = list(
                conn.execute(sa.select(t.projects.c.name).order_by(t.projects.c.name)).scalars()
            )
    if row is None:
        known = f"projects: {', '.join(names)}" if names else "no project exists yet"
        raise NotFound(
            f"Expected the name of a project; got {name!r} ({known}).{did_you_mean(name, names)} "
            "Create one with `sluice project create NAME --objective TEXT`."
        )
    return _project(row)


def list_projects(ws: Workspace) -> list[Project]:
    with ws.store.read() as conn:
        rows = conn.execute(sa.select(t.projects).order_by(t.projects.c.name)).all()
    return [refresh_stage(ws, _project(r)) for r in rows]


def project_for_model(ws: Workspace, model_name: str) -> Project | None:
    """The project delivering ``model_name``, as stored (its stage is not refreshed), or
    None when no project does."""
    with ws.store.read() as conn:
        row = conn.execute(
            sa.select(t.projects)
            .where(t.projects.c.model_name == model_name)
            .order_by(t.projects.c.id)
            .limit(1)
        ).first()
    return _project(row) if row else None


def policy_for_model(ws: Workspace, model_name: str) -> ProjectPolicy | None:
    """The policy of the project delivering ``model_name``, or None when none does."""
    project = project_for_model(ws, model_name)
    return project.policy if project else None


def retire_project(ws: Workspace, name: str) -> Project:
    project = get_project(ws, name)
    if project.stage != Stage.RETIRED:
        _set_stage(ws, project, Stage.RETIRED)
    return get_project(ws, name)


def refresh_stage(ws: Workspace, project: Project) -> Project:
    """Move the project to the stage its facts say, recording the change."""
    if project.stage == Stage.RETIRED:
        return project
    stage = _observed_stage(ws, project)
    if stage != project.stage:
        _set_stage(ws, project, stage)
        return get_project(ws, project.name)
    return project


def standing(ws: Workspace, name: str) -> Standing:
    """Data versions, the champion against the target, production, open requests, monitors."""
    from sluice.data import list_versions
    from sluice.governance.approvals import list_requests
    from sluice.monitoring import alerts_of, latest_results, list_monitors
    from sluice.registry import champion

    project = refresh_stage(ws, get_project(ws, name))
    out = Standing(project)
    with contextlib.suppress(NotFound):
        out.data_versions = [
            {"ref": v.ref, "rows": v.n_rows, "hash": v.content_hash[:12]}
            for v in list_versions(ws, project.dataset_name)
        ]
    best = champion(ws, project.model_name)
    if best is not None:
        out.champion = _version_line(best, project)
    production = _alias(ws, project.model_name, "production")
    if production is not None:
        out.production = _version_line(production, project)
    out.open_requests = [
        {"id": r.id, "version": r.version, "alias": r.alias, "requester": r.requester}
        for r in list_requests(ws, "open")
        if r.model == project.model_name
    ]
    for monitor in list_monitors(ws):
        if monitor.model_name != project.model_name:
            continue
        results = latest_results(ws, monitor, limit=1)
        last = results[0] if results else None
        recent = [a for a in alerts_of(ws, monitor, limit=50) if last and a.result_id == last.id]
        out.monitors.append(
            {
                "name": monitor.name,
                "follows": monitor.model_uri,
                "status": last.status.value if last else "not run yet",
                "alerts_in_latest_window": [a.kind for a in recent],
            }
        )
    return out


# -- internals ------------------------------------------------------------------------


def _observed_stage(ws: Workspace, project: Project) -> Stage:
    from sluice.errors import ModelNotFound
    from sluice.monitoring import list_monitors
    from sluice.registry import list_versions as model_versions

    if any(m.model_name == project.model_name for m in list_monitors(ws)):
        return Stage.MONITORING
    if _alias(ws, project.model_name, "production") is not None:
        return Stage.DEPLOYED
    try:
        if model_versions(ws, project.model_name):
            return Stage.DEVELOPMENT
    except ModelNotFound:
        pass
    with ws.store.read() as conn:
        has_data = conn.execute(
            sa.select(t.dataset_versions.c.id)
            .join(t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id)
            .where(t.datasets.c.name == project.dataset_name)
            .limit(1)
        ).first()
    return Stage.DATA if has_data else Stage.FRAMING


def _alias(ws: Workspace, model: str, alias: str) -> Any:
    from sluice.errors import AliasNotFound, ModelNotFound
    from sluice.registry import resolve

    try:
        return resolve(ws, f"models:/{model}@{alias}")
    except (AliasNotFound, ModelNotFound):
        return None


def _version_line(mv: Any, project: Project) -> dict[str, Any]:
    line: dict[str, Any] = {"uri": mv.uri, "version": mv.version}
    metric = project.target.metric if project.target else project.metric
    value = mv.metrics.get(metric) if metric else None
    if metric and isinstance(value, int | float):
        line["metric"] = {"name": metric, "value": value}
        if project.target:
            line["meets_target"] = project.target.met_by(float(value))
    return line


def _set_stage(ws: Workspace, project: Project, stage: Stage) -> None:
    with ws.store.write() as conn:
        conn.execute(
            t.projects.update().where(t.projects.c.id == project.id).values(stage=stage.value)
        )
        audit.append(
            conn,
            "project.stage_changed",
            f"projects:/{project.name}",
            before={"stage": project.stage.value},
            after={"stage": stage.value},
        )


def _project(r: Any) -> Project:
    policy = dict(r.policy or {})
    return Project(
        id=int(r.id),
        name=r.name,
        objective=r.objective or "",
        metric=r.metric,
        target=parse_target(r.target) if r.target else None,
        owner=r.owner,
        stage=Stage(r.stage),
        model_name=r.model_name or r.name,
        dataset_name=r.dataset_name or r.name,
        policy=ProjectPolicy(
            int(policy.get("approvals", 1)),
            tuple(policy.get("reviewer_roles", ("approver", "admin"))),
            bool(policy.get("gates_must_pass", True)),
            policy.get("webhook"),
            policy.get("webhook_secret_env"),
        ),
        created_at=float(r.created_at),
    )


def as_approval_policy(policy: ProjectPolicy) -> Any:
    """The approvals module's Policy for this project policy."""
    from sluice.governance.approvals import Policy

    return Policy(
        approvals=policy.approvals,
        reviewer_roles=frozenset(Role(r) for r in policy.reviewer_roles),
        gates_must_pass=policy.gates_must_pass,
        webhook=policy.webhook,
        webhook_secret_env=policy.webhook_secret_env,
    )
