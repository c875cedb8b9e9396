"""Approvals: a protected alias (``production``) moves only when others agree.

Someone asks for a version to become ``production`` with a reason; reviewers
approve, reject or comment. The policy: the version's recorded gates must all
have passed, the requester may not review their own request (separation of
duties), only approvers and admins review (where the store has users), and one
approval is enough by default. On the deciding approval the alias moves in the
same transaction that records it, so a running ``sluice serve --poll`` of the
alias switches over on its own. A newer request for the same alias closes the
older open one as superseded; a request whose version has a failed gate is
closed at review with the gates named. Every step is on the audit trail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sluice.errors import AlreadyExists, ConfigError, Forbidden, GovernanceError, NotFound
from sluice.gates import gate_results_for
from sluice.governance.roles import Role, require
from sluice.governance.users import get_user, list_users
from sluice.registry import resolve
from sluice.registry.aliases import point_alias
from sluice.registry.uri import check_alias
from sluice.store import audit
from sluice.store import tables as t
from sluice.workspace import Workspace

PROTECTED_ALIASES = frozenset({"production"})


class Status(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    COMMENT = "comment"


@dataclass(frozen=True)
class Policy:
    approvals: int = 1
    reviewer_roles: frozenset[Role] = frozenset({Role.APPROVER, Role.ADMIN})
    gates_must_pass: bool = True
    webhook: str | None = None
    webhook_secret_env: str | None = None


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Review:
    reviewer: str
    decision: Decision
    comment: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"decision": self.decision.value}


@dataclass(frozen=True)
class ApprovalRequest:
    id: int
    model: str
    version: int
    alias: str
    reason: str
    requester: str
    status: Status
    closed_reason: str | None
    approvals_needed: int
    created_at: float
    decided_at: float | None
    reviews: tuple[Review, ...] = field(default=())

    @property
    def approvals(self) -> int:
        return sum(r.decision == Decision.APPROVE for r in self.reviews)

    @property
    def target(self) -> str:
        return f"models:/{self.model}@{self.alias}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "reason": self.reason,
            "requester": self.requester,
            "status": self.status.value,
            "closed_reason": self.closed_reason,
            "approvals": self.approvals,
            "approvals_needed": self.approvals_needed,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "reviews": [r.to_dict() for r in self.reviews],
        }


def request_alias(
    ws: Workspace,
    name: str,
    version: int,
    alias: str,
    reason: str,
    *,
    requester: str | None = None,
    policy: Policy | None = None,
) -> ApprovalRequest:
    """Ask for ``alias`` to point at ``version``; closes older open requests for the alias.

    The policy is the project's that delivers the model (`sluice project create`), else
    the default: one approval by an approver or admin, every recorded gate passed."""
    alias = check_alias(alias)
    policy = policy or _policy(ws, name)
    if not reason.strip():
        raise ConfigError("Expected a reason for the request (--reason TEXT); got none.")
    target = resolve(ws, f"models:/{name}/{version}")
    if policy.gates_must_pass:
        _check_gates(ws, target.id, f"models:/{name}/{version}")
    who = requester or audit.current_actor()
    now = time.time()
    ar = t.approval_requests
    with ws.store.write() as conn:
        model_id = _model_id(conn, target.id)
        open_ones = conn.execute(
            sa.select(ar.c.id, ar.c.version_id).where(
                ar.c.model_id == model_id, ar.c.alias == alias, ar.c.status == Status.OPEN.value
            )
        ).all()
        if any(row.version_id == target.id for row in open_ones):
            same = next(row.id for row in open_ones if row.version_id == target.id)
            raise AlreadyExists(
                f"Request {same} already asks for models:/{name}/{version} as {alias}; "
                f"review it with `sluice review {same} approve|reject`."
            )
        new_id = conn.execute(
            ar.insert()
            .values(
                model_id=model_id,
                version_id=target.id,
                alias=alias,
                reason=reason.strip(),
                requester=who,
                status=Status.OPEN.value,
                approvals_needed=policy.approvals,
                created_at=now,
            )
            .returning(ar.c.id)
        ).scalar_one()
        for old in open_ones:
            _close(conn, old.id, f"superseded by request {new_id} for version {version}", now)
            audit.append(
                conn,
                "approval.closed",
                f"models:/{name}@{alias}",
                before={"request": old.id, "status": "open"},
                after={"request": old.id, "status": "closed", "why": "superseded"},
                actor=who,
            )
        audit.append(
            conn,
            "approval.requested",
            f"models:/{name}@{alias}",
            after={"request": new_id, "version": version, "reason": reason.strip()},
            actor=who,
        )
    made = get_request(ws, int(new_id))
    _announce(ws, policy, "approval.requested", made, who)
    return made


def review(
    ws: Workspace,
    request_id: int,
    decision: str | Decision,
    comment: str = "",
    *,
    reviewer: str | None = None,
    reviewer_role: Role | str | None = None,
    policy: Policy | None = None,
) -> ApprovalRequest:
    """Approve, reject or comment on an open request; the deciding approval moves the alias."""
    choice = _decision(decision)
    who = reviewer or audit.current_actor()
    request = get_request(ws, request_id)
    policy = policy or _policy(ws, request.model)
    if request.status != Status.OPEN:
        why = f" ({request.closed_reason})" if request.closed_reason else ""
        raise GovernanceError(
            f"Request {request_id} is {request.status.value}{why}; only open requests take "
            "reviews. Ask again with `sluice models request` if it is still wanted."
        )
    if who == request.requester and choice != Decision.COMMENT:
        raise Forbidden(
            f"{who} asked for request {request_id} and may not decide it (separation of "
            "duties); another reviewer must."
        )
    role = reviewer_role if reviewer_role is not None else _local_role(ws, who)
    if role is not None and choice != Decision.COMMENT:
        require(who, role, "approvals.review")
        if Role(role) not in policy.reviewer_roles:
            allowed = ", ".join(sorted(r.value for r in policy.reviewer_roles))
            raise Forbidden(
                f"The policy of {request.model} lets only {allowed} decide its requests; "
                f"{who} is {Role(role).value}."
            )
    if choice == Decision.APPROVE and any(
        r.reviewer == who and r.decision == Decision.APPROVE for r in request.reviews
    ):
        raise GovernanceError(
            f"{who} approved request {request_id} already; it needs "
            f"{request.approvals_needed - request.approvals} more approval(s) from others."
        )
    now = time.time()
    failed = _failed_gates(ws, request) if policy.gates_must_pass else []
    with ws.store.write() as conn:
        if _status(conn, request_id) != Status.OPEN:  # decided meanwhile
            raise GovernanceError(f"Request {request_id} was decided meanwhile; see it again.")
        conn.execute(
            t.reviews.insert().values(
                request_id=request_id,
                reviewer=who,
                decision=choice.value,
                comment=comment.strip(),
                created_at=now,
            )
        )
        if failed:
            why = f"its version failed the gates {', '.join(failed)}"
            _close(conn, request_id, why, now)
            audit.append(
                conn,
                "approval.closed",
                request.target,
                after={"request": request_id, "why": why},
                actor=who,
            )
        elif choice == Decision.REJECT:
            _decide(conn, request_id, Status.REJECTED, now)
            audit.append(
                conn,
                "approval.rejected",
                request.target,
                after={"request": request_id, "comment": comment.strip()},
                actor=who,
            )
        elif choice == Decision.APPROVE and request.approvals + 1 >= request.approvals_needed:
            _decide(conn, request_id, Status.APPROVED, now)
            audit.append(
                conn,
                "approval.approved",
                request.target,
                after={
                    "request": request_id,
                    "version": request.version,
                    "comment": comment.strip(),
                },
                actor=who,
            )
            _move(conn, request, who)
        else:
            audit.append(
                conn,
                f"approval.{'approval_given' if choice == Decision.APPROVE else 'commented'}",
                request.target,
                after={"request": request_id, "comment": comment.strip()},
                actor=who,
            )
    done = get_request(ws, request_id)
    if done.status != Status.OPEN:
        _announce(ws, policy, f"approval.{done.status.value}", done, who)
    return done


def get_request(ws: Workspace, request_id: int) -> ApprovalRequest:
    found = _requests(ws, t.approval_requests.c.id == request_id)
    if not found:
        raise NotFound(
            f"Expected the id of an approval request; got {request_id}. "
            "`sluice inbox --all` lists them."
        )
    return found[0]


def list_requests(ws: Workspace, status: str | None = None) -> list[ApprovalRequest]:
    """Requests, newest first; only those in ``status`` if given."""
    where = (
        sa.true() if status is None else t.approval_requests.c.status == _status_of(status).value
    )
    return _requests(ws, where)


def inbox(ws: Workspace, reviewer: str | None = None) -> list[ApprovalRequest]:
    """Open requests this reviewer may decide: everyone's but their own."""
    who = reviewer or audit.current_actor()
    return [r for r in list_requests(ws, "open") if r.requester != who]


# -- internals ------------------------------------------------------------------------


def _check_gates(ws: Workspace, version_id: int, uri: str) -> None:
    failed = [g.gate for g in gate_results_for(ws, model_version_id=version_id) if not g.passed]
    if failed:
        raise GovernanceError(
            f"{uri} failed the gates {', '.join(failed)}: it cannot be requested for a protected "
            "alias. Fix the model and register a new version."
        )


def _failed_gates(ws: Workspace, request: ApprovalRequest) -> list[str]:
    version = resolve(ws, f"models:/{request.model}/{request.version}")
    return [g.gate for g in gate_results_for(ws, model_version_id=version.id) if not g.passed]


def _announce(
    ws: Workspace, policy: Policy, event: str, request: ApprovalRequest, who: str
) -> None:
    """POST the event to the policy's webhook (after the change committed); the delivery
    outcome goes on the audit trail, and a failed delivery never undoes the decision."""
    if not policy.webhook:
        return
    from sluice.monitoring.alerts import post_webhook

    payload = {"event": event, "actor": who, "request": request.to_dict(), "timestamp": time.time()}
    action = {"url": policy.webhook, "secret_env": policy.webhook_secret_env}
    outcome = post_webhook(action, payload)
    with ws.store.write() as conn:
        audit.append(
            conn,
            "approval.announced",
            request.target,
            after={"event": event, "request": request.id} | outcome,
            actor=who,
        )


def _policy(ws: Workspace, model: str) -> Policy:
    from sluice.governance.projects import as_approval_policy, policy_for_model

    found = policy_for_model(ws, model)
    return as_approval_policy(found) if found is not None else DEFAULT_POLICY


def _local_role(ws: Workspace, who: str) -> Role | None:
    """The reviewer's role where the store has users; None in a store without any."""
    if not list_users(ws):
        return None
    return get_user(ws, who).role


def _move(conn: Connection, request: ApprovalRequest, who: str) -> None:
    mv = t.model_versions
    row = conn.execute(
        sa.select(mv.c.id, mv.c.model_id).where(
            mv.c.model_id
            == sa.select(t.registered_models.c.id)
            .where(t.registered_models.c.name == request.model)
            .scalar_subquery(),
            mv.c.version == request.version,
        )
    ).one()
    with audit.acting_as(who):
        point_alias(conn, request.model, row.model_id, request.alias, row.id, request.version)


def _model_id(conn: Connection, version_id: int) -> int:
    mv = t.model_versions
    return int(conn.execute(sa.select(mv.c.model_id).where(mv.c.id == version_id)).scalar_one())


def _status(conn: Connection, request_id: int) -> Status:
    ar = t.approval_requests
    return Status(conn.execute(sa.select(ar.c.status).where(ar.c.id == request_id)).scalar_one())


def _close(conn: Connection, request_id: int, why: str, now: float) -> None:
    ar = t.approval_requests
    conn.execute(
        ar.update()
        .where(ar.c.id == request_id)
        .values(status=Status.CLOSED.value, closed_reason=why, decided_at=now)
    )


def _decide(conn: Connection, request_id: int, status: Status, now: float) -> None:
    ar = t.approval_requests
    conn.execute(
        ar.update().where(ar.c.id == request_id).values(status=status.value, decided_at=now)
    )


def _decision(value: str | Decision) -> Decision:
    try:
        return Decision(str(value).strip().lower())
    except ValueError:
        raise ConfigError(
            f"Expected a decision: approve, reject or comment; got {value!r}."
        ) from None


def _status_of(value: str) -> Status:
    try:
        return Status(value.strip().lower())
    except ValueError:
        raise ConfigError(
            f"Expected a status: open, approved, rejected or closed; got {value!r}."
        ) from None


def _requests(ws: Workspace, where: Any) -> list[ApprovalRequest]:
    ar, mv, rm, rv = t.approval_requests, t.model_versions, t.registered_models, t.reviews
    query = (
        sa.select(ar, rm.c.name.label("model_name"), mv.c.version.label("version_number"))
        .select_from(ar.join(mv, mv.c.id == ar.c.version_id).join(rm, rm.c.id == ar.c.model_id))
        .where(where)
        .order_by(ar.c.id.desc())
    )
    with ws.store.read() as conn:
        rows = conn.execute(query).all()
        ids = [r.id for r in rows]
        by_request: dict[int, list[Review]] = {i: [] for i in ids}
        if ids:
            for r in conn.execute(sa.select(rv).where(rv.c.request_id.in_(ids)).order_by(rv.c.id)):
                by_request[r.request_id].append(
                    Review(r.reviewer, Decision(r.decision), r.comment, r.created_at)
                )
    return [
        ApprovalRequest(
            id=int(r.id),
            model=r.model_name,
            version=int(r.version_number),
            alias=r.alias,
            reason=r.reason,
            requester=r.requester,
            status=Status(r.status),
            closed_reason=r.closed_reason,
            approvals_needed=int(r.approvals_needed),
            created_at=r.created_at,
            decided_at=r.decided_at,
            reviews=tuple(by_request[r.id]),
        )
        for r in rows
    ]


def history(ws: Workspace, model: str, version: int) -> list[dict[str, Any]]:
    """Every request for this version, oldest first, with reviews (for the model card)."""
    found = [r for r in list_requests(ws) if r.model == model and r.version == version]
    out = []
    for request in reversed(found):
        data = request.to_dict()
        data["reviews"] = [r.to_dict() | {"when": _when(r.created_at)} for r in request.reviews]
        out.append(data)
    return out


def _when(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
