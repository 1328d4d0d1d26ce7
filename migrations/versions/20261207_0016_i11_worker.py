"""worker: the import-job queue and worker heartbeats (tracker worker)

Revision ID: 0016_i11_worker
Revises: 0015_i10_links
Create Date: 2026-12-07 01:51:20.469767

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_i11_worker'
down_revision = '0015_i10_links'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('worker_heartbeats',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('host', sa.String(length=128), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('queues', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('current_job_id', sa.BigInteger(), nullable=True),
    sa.Column('imports_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('notifications_sent', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_dispatch_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_heartbeats'))
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_last_beat_at'), ['last_beat_at'], unique=False)

    op.create_table('import_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='import_job_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('issuing_unit_id', sa.Integer(), nullable=False),
    sa.Column('is_update', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('phase', sa.String(length=16), nullable=True),
    sa.Column('pages_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('pages_total', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('tasks_created', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_reason', sa.String(length=16), nullable=True),
    sa.CheckConstraint('pages_done >= 0 AND attempts >= 0', name=op.f('ck_import_jobs_counts_not_negative')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['plans.id'], name=op.f('fk_import_jobs_duplicate_of_id_plans')),
    sa.ForeignKeyConstraint(['issuing_unit_id'], ['org_units.id'], name=op.f('fk_import_jobs_issuing_unit_id_org_units')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_import_jobs_plan_id_plans')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['people.id'], name=op.f('fk_import_jobs_requested_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('ix_import_jobs_status_lease_expires_at', ['status', 'lease_expires_at'], unique=False)




def downgrade():
    
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_status_lease_expires_at')
        batch_op.drop_index(batch_op.f('ix_import_jobs_requested_by_id'))

    op.drop_table('import_jobs')
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeats_last_beat_at'))

    op.drop_table('worker_heartbeats')

