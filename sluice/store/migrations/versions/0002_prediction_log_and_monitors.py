"""prediction log segments, monitors, monitor results and alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('log_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=True),
    sa.Column('artifact_hash', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Float(), nullable=False),
    sa.Column('end_time', sa.Float(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['artifact_hash'], ['artifacts.hash'], name=op.f('fk_log_segments_artifact_hash_artifacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_segments'))
    )
    with op.batch_alter_table('log_segments', schema=None) as batch_op:
        batch_op.create_index('ix_log_segments_lookup', ['kind', 'model_name', 'end_time'], unique=False)

    op.create_table('monitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.Column('window', sa.String(length=50), nullable=False),
    sa.Column('reference_version_id', sa.Integer(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('cursor', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['reference_version_id'], ['dataset_versions.id'], name=op.f('fk_monitors_reference_version_id_dataset_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitors')),
    sa.UniqueConstraint('name', name=op.f('uq_monitors_name'))
    )
    op.create_table('monitor_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=True),
    sa.Column('window_start', sa.Float(), nullable=False),
    sa.Column('window_end', sa.Float(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('report_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'], name=op.f('fk_monitor_results_monitor_id_monitors')),
    sa.ForeignKeyConstraint(['report_hash'], ['artifacts.hash'], name=op.f('fk_monitor_results_report_hash_artifacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_results'))
    )
    with op.batch_alter_table('monitor_results', schema=None) as batch_op:
        batch_op.create_index('ix_monitor_results_monitor', ['monitor_id', 'window_end'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'], name=op.f('fk_alerts_monitor_id_monitors')),
    sa.ForeignKeyConstraint(['result_id'], ['monitor_results.id'], name=op.f('fk_alerts_result_id_monitor_results')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_monitor', ['monitor_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_monitor')
    op.drop_table('alerts')
    with op.batch_alter_table('monitor_results', schema=None) as batch_op:
        batch_op.drop_index('ix_monitor_results_monitor')
    op.drop_table('monitor_results')
    op.drop_table('monitors')
    with op.batch_alter_table('log_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_log_segments_lookup')
    op.drop_table('log_segments')
