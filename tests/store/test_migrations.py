"""The migrations build exactly the schema that tables.py declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sluice.store import tables
from sluice.workspace import Workspace


def test_migrated_schema_matches_the_declared_tables(any_ws: Workspace) -> None:
    with any_ws.store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert diff == []


def test_store_is_at_the_newest_revision(any_ws: Workspace) -> None:
    assert any_ws.store.current_revision() == any_ws.store.head_revision()


def test_migrate_twice_is_a_no_op(any_ws: Workspace) -> None:
    before = any_ws.store.current_revision()
    any_ws.store.migrate()
    assert any_ws.store.current_revision() == before
