"""The metadata store: SQLAlchemy tables, Alembic migrations, repositories."""

from sluice.store.db import Store

__all__ = ["Store"]
