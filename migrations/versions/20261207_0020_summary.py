"""summary: per-unit status counts, their clock, latest indicator values (issue 12)

Revision ID: 0020_summary
Revises: 0019_markdone
Create Date: 2026-12-07 05:00:00

The status counts start empty with no clock: pages read the live query until the first rebuild (the worker's
daily job or `tracker summaries rebuild`). The latest indicator values do not depend on the day: filled here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_summary'
down_revision = '0019_markdone'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table('unit_status_counts',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('not_due', sa.Integer(), server_default='0', nullable=False),
    sa.Column('due_soon', sa.Integer(), server_default='0', nullable=False),
    sa.Column('overdue', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_on_time', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_late', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_unit_status_counts_unit_id_org_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', name=op.f('pk_unit_status_counts'))
    )
    op.create_table('summary_clocks',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('soon_until', sa.Date(), nullable=False),
    sa.Column('overdue_before', sa.Date(), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_summary_clocks_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_clocks'))
    )
    op.create_table('indicator_latest',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value_id', BIG_ID, nullable=False),
    sa.Column('report_id', BIG_ID, nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'],
                            name=op.f('fk_indicator_latest_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_indicator_latest_unit_id_org_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('indicator_id', 'unit_id', 'year', name=op.f('pk_indicator_latest'))
    )
    op.execute("""
        INSERT INTO indicator_latest (indicator_id, unit_id, year, value, reported_at, value_id, report_id)
        SELECT indicator_id, unit_id, year, value, reported_at, id, report_id FROM (
            SELECT v.*, row_number() OVER (PARTITION BY indicator_id, unit_id, year
                                           ORDER BY reported_at DESC, id DESC) AS rank
            FROM indicator_values v) ranked
        WHERE rank = 1""")


def downgrade():
    op.drop_table('indicator_latest')
    op.drop_table('summary_clocks')
    op.drop_table('unit_status_counts')
