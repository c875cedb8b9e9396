"""Governance: who did what, and the controls around it (the audit trail for now;
users, roles, projects and approvals build on it)."""

from sluice.governance.audit import audit_log, parse_since, verify_audit

__all__ = ["audit_log", "parse_since", "verify_audit"]
