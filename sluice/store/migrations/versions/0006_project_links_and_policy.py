"""projects name their model and dataset, and carry an approval policy

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('dataset_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('policy', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('policy')
        batch_op.drop_column('dataset_name')
        batch_op.drop_column('model_name')
