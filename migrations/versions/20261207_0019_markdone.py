"""markdone: a partial index of the audit events the sequencer has not linked yet

Revision ID: 0019_markdone
Revises: 0018_i11_dispatch
Create Date: 2026-12-07 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_markdone'
down_revision = '0018_i11_dispatch'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_unlinked', ['id'], unique=False, sqlite_where=sa.text('hash IS NULL'),
                              postgresql_where=sa.text('hash IS NULL'))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_unlinked', sqlite_where=sa.text('hash IS NULL'),
                            postgresql_where=sa.text('hash IS NULL'))
