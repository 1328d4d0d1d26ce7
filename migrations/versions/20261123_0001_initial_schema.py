"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:46:42.129718

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('calendar_exceptions',
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('is_working_day', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('on', name=op.f('pk_calendar_exceptions'))
    )
    op.create_table('channel_credentials',
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('provider', name=op.f('pk_channel_credentials'))
    )
    op.create_table('job_heartbeats',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=True),
    sa.Column('run_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_heartbeats'))
    )
    op.create_table('auth_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('sign_in_failure', 'reset_by_name', 'reset_by_address', name='attempt_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_attempts'))
    )
    with op.batch_alter_table('auth_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_auth_attempts_kind_subject_attempted_at', ['kind', 'subject', 'attempted_at'], unique=False)

    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'digest', 'report_returned', 'report_accepted', 'extension_decided', 'password_reset', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('channel', sa.Enum('in_app', 'email', 'zalo', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('zalo_template_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('kind', 'channel', 'locale', name=op.f('uq_message_templates_kind_channel_locale'))
    )
    op.create_table('org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('short_name', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.Enum('country', 'ministry', 'province', 'district', 'commune', 'village', 'department', 'office', 'health_station', 'school', 'mass_organization', 'committee', 'agency', name='unit_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('is_administrative', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('path', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=False),
    sa.Column('depth', sa.SmallInteger(), nullable=False),
    sa.Column('admin_unit_id', sa.Integer(), nullable=True),
    sa.Column('is_archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['org_units.id'], name=op.f('fk_org_units_admin_unit_id_org_units')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('code', name=op.f('uq_org_units_code')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_org_units_parent_id_name'))
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index('ix_org_units_admin_unit_id', ['admin_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_units_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_org_units_path', ['path'], unique=False)

    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('zalo_user_id', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=8), server_default='vi', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('prefers_digest', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('username', name=op.f('uq_people_username'))
    )
    op.create_table('reminder_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_reminder_policies_name'))
    )
    with op.batch_alter_table('reminder_policies', schema=None) as batch_op:
        batch_op.create_index('uq_reminder_policies_one_default', ['is_default'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_api_tokens_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_person_id'), ['person_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['people.id'], name=op.f('fk_audit_events_actor_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_audit_events_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_object_type_object_id', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_unit_id_occurred_at', ['unit_id', 'occurred_at'], unique=False)

    op.create_table('plan_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('extraction', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['people.id'], name=op.f('fk_plan_documents_uploaded_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_documents'))
    )
    with op.batch_alter_table('plan_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_documents_sha256'), ['sha256'], unique=False)

    op.create_table('reminder_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('offset_days', sa.SmallInteger(), nullable=False),
    sa.Column('audience', sa.Enum('lead_officers', 'lead_head', 'report_to_focal', 'admin_chair', 'next_level_up', name='audience', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('escalation_level', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['reminder_policies.id'], name=op.f('fk_reminder_rules_policy_id_reminder_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rules')),
    sa.UniqueConstraint('policy_id', 'offset_days', 'audience', name=op.f('uq_reminder_rules_policy_id_offset_days_audience'))
    )
    op.create_table('role_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('officer', 'unit_head', 'focal', 'chair', 'viewer', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_role_assignments_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_role_assignments_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_assignments')),
    sa.UniqueConstraint('person_id', 'unit_id', 'role', name=op.f('uq_role_assignments_person_id_unit_id_role'))
    )
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_role_assignments_unit_id_role', ['unit_id', 'role'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('issuing_unit_id', sa.Integer(), nullable=False),
    sa.Column('focal_unit_id', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('year', sa.SmallInteger(), nullable=True),
    sa.Column('period_start_on', sa.Date(), nullable=True),
    sa.Column('period_end_on', sa.Date(), nullable=True),
    sa.Column('implements', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'active', 'archived', 'cancelled', name='plan_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('reminder_policy_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('period_start_on IS NULL OR period_end_on IS NULL OR period_start_on <= period_end_on', name=op.f('ck_plans_period_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['people.id'], name=op.f('fk_plans_created_by_id_people')),
    sa.ForeignKeyConstraint(['document_id'], ['plan_documents.id'], name=op.f('fk_plans_document_id_plan_documents')),
    sa.ForeignKeyConstraint(['focal_unit_id'], ['org_units.id'], name=op.f('fk_plans_focal_unit_id_org_units')),
    sa.ForeignKeyConstraint(['issuing_unit_id'], ['org_units.id'], name=op.f('fk_plans_issuing_unit_id_org_units')),
    sa.ForeignKeyConstraint(['reminder_policy_id'], ['reminder_policies.id'], name=op.f('fk_plans_reminder_policy_id_reminder_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index('ix_plans_issuing_unit_id_status', ['issuing_unit_id', 'status'], unique=False)

    op.create_table('reminder_rule_channels',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('in_app', 'email', 'zalo', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['reminder_rules.id'], name=op.f('fk_reminder_rule_channels_rule_id_reminder_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'channel', name=op.f('pk_reminder_rule_channels'))
    )
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('unit_of_measure', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.Enum('increase', 'decrease', 'maintain', name='direction', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_indicators_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('plan_id', 'name', name=op.f('uq_indicators_plan_id_name'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_sections_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_sections')),
    sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_plan_sections_plan_id_code'))
    )
    op.create_table('indicator_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('comparator', sa.Enum('at_least', 'at_most', 'equal', name='comparator', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_targets_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_indicator_targets_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_targets')),
    sa.UniqueConstraint('indicator_id', 'unit_id', 'year', name=op.f('uq_indicator_targets_indicator_id_unit_id_year'))
    )
    with op.batch_alter_table('indicator_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_targets_unit_id'), ['unit_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('lead_unit_id', sa.Integer(), nullable=True),
    sa.Column('report_to_unit_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('recurrence', sa.String(length=255), nullable=True),
    sa.Column('extra_due_dates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=True),
    sa.Column('import_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.Enum('active', 'cancelled', name='task_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reminder_policy_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_on IS NOT NULL OR recurrence IS NOT NULL', name=op.f('ck_tasks_has_schedule')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['org_units.id'], name=op.f('fk_tasks_lead_unit_id_org_units')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_tasks_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reminder_policy_id'], ['reminder_policies.id'], name=op.f('fk_tasks_reminder_policy_id_reminder_policies')),
    sa.ForeignKeyConstraint(['report_to_unit_id'], ['org_units.id'], name=op.f('fk_tasks_report_to_unit_id_org_units')),
    sa.ForeignKeyConstraint(['section_id'], ['plan_sections.id'], name=op.f('fk_tasks_section_id_plan_sections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_lead_unit_id_status', ['lead_unit_id', 'status'], unique=False)
        batch_op.create_index('ix_tasks_plan_id_lead_unit_id', ['plan_id', 'lead_unit_id'], unique=False)
        batch_op.create_index('ix_tasks_report_to_unit_id_lead_unit_id', ['report_to_unit_id', 'lead_unit_id'], unique=False)

    op.create_table('occurrences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=32), nullable=False),
    sa.Column('period_label', sa.String(length=128), nullable=True),
    sa.Column('period_start_on', sa.Date(), nullable=True),
    sa.Column('period_end_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('original_due_on', sa.Date(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('last_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(completed_at IS NULL) = (completed_on IS NULL)', name=op.f('ck_occurrences_completion_pair')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['people.id'], name=op.f('fk_occurrences_completed_by_id_people')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['org_units.id'], name=op.f('fk_occurrences_lead_unit_id_org_units')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_occurrences_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occurrences')),
    sa.UniqueConstraint('task_id', 'period_key', name=op.f('uq_occurrences_task_id_period_key'))
    )
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_occurrences_due_on_id', ['due_on', 'id'], unique=False)
        batch_op.create_index('ix_occurrences_lead_unit_id_covering', ['lead_unit_id', 'due_on', 'completed_on', 'cancelled_at', 'task_id', 'id'], unique=False)
        batch_op.create_index('ix_occurrences_open_due_on_id', ['due_on', 'id'], unique=False, sqlite_where=sa.text('completed_at IS NULL AND cancelled_at IS NULL'), postgresql_where=sa.text('completed_at IS NULL AND cancelled_at IS NULL'))
        batch_op.create_index('ix_occurrences_task_id_covering', ['task_id', 'due_on', 'completed_on', 'cancelled_at', 'lead_unit_id'], unique=False)

    op.create_table('task_coordinating_units',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_coordinating_units_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_task_coordinating_units_unit_id_org_units')),
    sa.PrimaryKeyConstraint('task_id', 'unit_id', name=op.f('pk_task_coordinating_units'))
    )
    with op.batch_alter_table('task_coordinating_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_coordinating_units_unit_id'), ['unit_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurrence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_comments_author_id_people')),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_comments_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_occurrence_id'), ['occurrence_id'], unique=False)

    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_due_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='extension_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['people.id'], name=op.f('fk_extension_requests_decided_by_id_people')),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_extension_requests_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['people.id'], name=op.f('fk_extension_requests_requested_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_requests_occurrence_id'), ['occurrence_id'], unique=False)
        batch_op.create_index('uq_extension_requests_one_pending', ['occurrence_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dedupe_key', sa.String(length=191), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'digest', 'report_returned', 'report_accepted', 'extension_decided', 'password_reset', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('channel', sa.Enum('in_app', 'email', 'zalo', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('escalation_level', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.Enum('pending', 'held', 'sending', 'sent', 'failed', 'dead', 'skipped', 'digested', name='delivery_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=255), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['notifications.id'], name=op.f('fk_notifications_digest_id_notifications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_notifications_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['people.id'], name=op.f('fk_notifications_recipient_id_people')),
    sa.ForeignKeyConstraint(['rule_id'], ['reminder_rules.id'], name=op.f('fk_notifications_rule_id_reminder_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_dispatchable', ['next_attempt_at'], unique=False, sqlite_where=sa.text("status IN ('pending', 'failed', 'sending')"), postgresql_where=sa.text("status IN ('pending', 'failed', 'sending')"))
        batch_op.create_index('ix_notifications_occurrence_id_rule_id_due_on', ['occurrence_id', 'rule_id', 'due_on'], unique=False)
        batch_op.create_index('ix_notifications_recipient_id_channel_status', ['recipient_id', 'channel', 'status'], unique=False)
        batch_op.create_index('ix_notifications_status_created_at', ['status', 'created_at'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurrence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_late', sa.Boolean(), nullable=False),
    sa.Column('review_status', sa.Enum('submitted', 'accepted', 'returned', name='review_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_reports_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['people.id'], name=op.f('fk_reports_reviewed_by_id_people')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['people.id'], name=op.f('fk_reports_submitted_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_occurrence_id'), ['occurrence_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_attachments_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_report_id'), ['report_id'], unique=False)

    op.create_table('indicator_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_indicator_values_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_indicator_values_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('report_id', 'indicator_id', name=op.f('uq_indicator_values_report_id_indicator_id'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_values_indicator_id_year', ['indicator_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_indicator_values_unit_id'), ['unit_id'], unique=False)




def downgrade():

    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_unit_id'))
        batch_op.drop_index('ix_indicator_values_indicator_id_year')

    op.drop_table('indicator_values')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_report_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_occurrence_id'))

    op.drop_table('reports')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_status_created_at')
        batch_op.drop_index('ix_notifications_recipient_id_channel_status')
        batch_op.drop_index('ix_notifications_occurrence_id_rule_id_due_on')
        batch_op.drop_index('ix_notifications_dispatchable', sqlite_where=sa.text("status IN ('pending', 'failed', 'sending')"), postgresql_where=sa.text("status IN ('pending', 'failed', 'sending')"))

    op.drop_table('notifications')
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_extension_requests_one_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_extension_requests_occurrence_id'))

    op.drop_table('extension_requests')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_occurrence_id'))

    op.drop_table('comments')
    with op.batch_alter_table('task_coordinating_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_coordinating_units_unit_id'))

    op.drop_table('task_coordinating_units')
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_occurrences_task_id_covering')
        batch_op.drop_index('ix_occurrences_open_due_on_id', sqlite_where=sa.text('completed_at IS NULL AND cancelled_at IS NULL'), postgresql_where=sa.text('completed_at IS NULL AND cancelled_at IS NULL'))
        batch_op.drop_index('ix_occurrences_lead_unit_id_covering')
        batch_op.drop_index('ix_occurrences_due_on_id')

    op.drop_table('occurrences')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_report_to_unit_id_lead_unit_id')
        batch_op.drop_index('ix_tasks_plan_id_lead_unit_id')
        batch_op.drop_index('ix_tasks_lead_unit_id_status')

    op.drop_table('tasks')
    with op.batch_alter_table('indicator_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_targets_unit_id'))

    op.drop_table('indicator_targets')
    op.drop_table('plan_sections')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_plan_id'))

    op.drop_table('indicators')
    op.drop_table('reminder_rule_channels')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plans_issuing_unit_id_status')

    op.drop_table('plans')
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_role_assignments_unit_id_role')

    op.drop_table('role_assignments')
    op.drop_table('reminder_rules')
    with op.batch_alter_table('plan_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_documents_sha256'))

    op.drop_table('plan_documents')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_unit_id_occurred_at')
        batch_op.drop_index('ix_audit_events_occurred_at')
        batch_op.drop_index('ix_audit_events_object_type_object_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_person_id'))

    op.drop_table('api_tokens')
    op.drop_table('scheduler_leases')
    with op.batch_alter_table('reminder_policies', schema=None) as batch_op:
        batch_op.drop_index('uq_reminder_policies_one_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.drop_table('reminder_policies')
    op.drop_table('people')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index('ix_org_units_path')
        batch_op.drop_index(batch_op.f('ix_org_units_parent_id'))
        batch_op.drop_index('ix_org_units_admin_unit_id')

    op.drop_table('org_units')
    op.drop_table('message_templates')
    with op.batch_alter_table('auth_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_attempts_kind_subject_attempted_at')

    op.drop_table('auth_attempts')
    op.drop_table('job_heartbeats')
    op.drop_table('channel_credentials')
    op.drop_table('calendar_exceptions')

