"""Governance: who did what, who may do what, and the controls around it.

The audit trail, users with roles and their API tokens, and the permission
matrix; projects and approvals build on them.
"""

from sluice.governance.approvals import (
    PROTECTED_ALIASES,
    ApprovalRequest,
    Decision,
    Policy,
    get_request,
    history,
    inbox,
    list_requests,
    request_alias,
    review,
)
from sluice.governance.audit import audit_log, parse_age, parse_since, verify_audit
from sluice.governance.card import model_card_inputs
from sluice.governance.projects import (
    Project,
    Stage,
    create_project,
    get_project,
    list_projects,
    retire_project,
    standing,
)
from sluice.governance.roles import PERMISSIONS, Role, allowed, parse_role, require
from sluice.governance.users import (
    Token,
    User,
    add_user,
    authenticate,
    create_token,
    disable_user,
    get_user,
    list_tokens,
    list_users,
    revoke_token,
    set_role,
)

__all__ = [
    "PERMISSIONS",
    "PROTECTED_ALIASES",
    "ApprovalRequest",
    "Decision",
    "Policy",
    "Project",
    "Role",
    "Stage",
    "Token",
    "User",
    "add_user",
    "allowed",
    "audit_log",
    "authenticate",
    "create_project",
    "create_token",
    "disable_user",
    "get_project",
    "get_request",
    "get_user",
    "history",
    "inbox",
    "list_projects",
    "list_requests",
    "list_tokens",
    "list_users",
    "model_card_inputs",
    "parse_age",
    "parse_role",
    "parse_since",
    "request_alias",
    "require",
    "retire_project",
    "review",
    "revoke_token",
    "set_role",
    "standing",
    "verify_audit",
]
