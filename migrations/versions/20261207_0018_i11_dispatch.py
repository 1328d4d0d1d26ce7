"""i11-dispatch: per-channel circuit breaker state (channel_states)

Revision ID: 0018_i11_dispatch
Revises: 0017_i11_bundle
Create Date: 2026-12-07 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_i11_dispatch'
down_revision = '0017_i11_bundle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_states',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_states'))
    )


def downgrade():
    op.drop_table('channel_states')
