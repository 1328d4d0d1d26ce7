"""i11-bundle: a BUNDLE notification kind and an index on the carrier column (digest_id)

A bundle is one message carrying every reminder and escalation a sweep queued for one person on one
channel; its items point at it through `digest_id` (status "digested"), as a daily digest's do.

Revision ID: 0017_i11_bundle
Revises: 0016_i11_worker
Create Date: 2026-12-07 02:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_i11_bundle'
down_revision = '0016_i11_worker'
branch_labels = None
depends_on = None

_OLD_KINDS = ('reminder', 'escalation', 'digest', 'report_returned', 'report_accepted', 'extension_decided',
              'password_reset')
_NEW_KINDS = _OLD_KINDS + ('bundle',)


def _kind_check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _set_kinds(kinds):
    # The enum is stored as VARCHAR with a named CHECK (native_enum=False): replace the CHECK on both tables.
    for table in ('notifications', 'message_templates'):
        name = f'ck_{table}_notification_kind'
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')
            batch_op.create_check_constraint(op.f(name), _kind_check(kinds))


def upgrade():
    _set_kinds(_NEW_KINDS)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_digest_id', ['digest_id'], unique=False)


def downgrade():
    op.execute("DELETE FROM message_templates WHERE kind = 'bundle'")
    # Items of a bundle go back to waiting as single messages; the bundle rows go.
    op.execute("UPDATE notifications SET status = 'pending', digest_id = NULL "
               "WHERE digest_id IN (SELECT id FROM notifications WHERE kind = 'bundle')")
    op.execute("DELETE FROM notifications WHERE kind = 'bundle'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_digest_id')
    _set_kinds(_OLD_KINDS)
