"""sweepq: an index on action_links.expires_at for the purge of expired links

Revision ID: 0021_sweepq
Revises: 0020_summary
Create Date: 2026-12-07 05:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_sweepq'
down_revision = '0020_summary'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action_links', schema=None) as batch_op:
        batch_op.create_index('ix_action_links_expires_at', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('action_links', schema=None) as batch_op:
        batch_op.drop_index('ix_action_links_expires_at')
