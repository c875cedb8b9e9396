"""index pipeline runs by creation time, for the newest-first pages of runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:20:00
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_pipeline_runs_created_at', 'pipeline_runs', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_pipeline_runs_created_at', table_name='pipeline_runs')
