"""reminder action links: stored link tokens, acknowledgement of an occurrence's escalation

Revision ID: 0015_i10_links
Revises: 0014_hardening
Create Date: 2026-12-07 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_i10_links'
down_revision = '0014_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('action_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('occurrence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_for', sa.String(length=16), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_action_links_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['people.id'], name=op.f('fk_action_links_recipient_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_action_links_token_hash'))
    )
    with op.batch_alter_table('action_links', schema=None) as batch_op:
        batch_op.create_index('ix_action_links_occurrence_id', ['occurrence_id'], unique=False)
        batch_op.create_index('ix_action_links_recipient_id_expires_at', ['recipient_id', 'expires_at'], unique=False)

    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_due_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_occurrences_acknowledged_by_id_people'), 'people', ['acknowledged_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_occurrences_acknowledged_by_id_people'), type_='foreignkey')
        batch_op.drop_column('acknowledged_due_on')
        batch_op.drop_column('acknowledged_by_id')
        batch_op.drop_column('acknowledged_at')

    with op.batch_alter_table('action_links', schema=None) as batch_op:
        batch_op.drop_index('ix_action_links_recipient_id_expires_at')
        batch_op.drop_index('ix_action_links_occurrence_id')

    op.drop_table('action_links')
