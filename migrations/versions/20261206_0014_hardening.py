"""hardening: sign-in sessions (revocable remember-me), the audit log's hash chains

Revision ID: 0014_hardening
Revises: 0001
Create Date: 2026-12-06 22:53:59.241096

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_hardening'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_chain_heads',
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain_heads'))
    )
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('selector', sa.String(length=32), nullable=False),
    sa.Column('verifier_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_restored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sign_in_sessions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('selector', name=op.f('uq_sign_in_sessions_selector'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_sessions_person_id_revoked_at', ['person_id', 'revoked_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_chain_chain_seq'), ['chain', 'chain_seq'])



def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_chain_chain_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('chain')

    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_sessions_person_id_revoked_at')

    op.drop_table('sign_in_sessions')
    op.drop_table('audit_chain_heads')
