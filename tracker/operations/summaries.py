"""Keep the summaries the pages read (see `tracker.models.summaries`) in step with the occurrences.

- A change to one occurrence (completed, reopened, extended, cancelled) is ONE statement, `move`: an upsert that
  takes one from the column of the status before and adds one to the status after (one row, or two when the
  due date moves to another year), both derived with the clock stored in `summary_clocks` (read by the
  statement itself), not the request's.
- A bulk change (occurrences generated, a task or plan cancelled, a plan's status) recomputes the counts of
  the units it touched, `refresh_units`: DELETE + INSERT ... SELECT ... GROUP BY for those units.
- `rebuild` recomputes the whole table for a new day (the counts of overdue, due soon and not due change at
  midnight without any write); pages whose clock differs from the stored one read the live query meanwhile.

Concurrency on PostgreSQL (READ COMMITTED): `refresh_units` and `rebuild` first take the table lock SHARE ROW
EXCLUSIVE, which conflicts with the ROW EXCLUSIVE lock every INSERT/UPDATE/DELETE takes on the table, and with
itself. A `move` that started before waits until the rebuild commits, then runs with a snapshot taken after
its lock was granted: it reads the new clock and adds its delta to the rebuilt rows, which were counted from a
snapshot without the mover's uncommitted change. A `move` that already ran holds its lock until its commit, so
the rebuild waits and then counts the change. Two rebuilds run one after the other and each replaces the
whole table. SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    IndicatorLatest,
    IndicatorValue,
    Occurrence,
    OccurrenceStatus,
    StatusClock,
    SummaryClock,
    UnitStatusCount,
)
from tracker.models.summaries import STATUS_COLUMNS
from tracker.queries.scope import not_in_draft
from tracker.sqlutil import dialect_name

COUNTS = UnitStatusCount.__table__
CLOCKS = SummaryClock.__table__
LATEST = IndicatorLatest.__table__


@dataclass(frozen=True)
class OccurrenceState:
    """What an occurrence's counted status depends on (its lead unit, due date, completion, cancellation)."""

    unit_id: int
    due_on: date
    completed_on: date | None
    cancelled: bool

    @classmethod
    def of(cls, occurrence: Occurrence) -> OccurrenceState:
        return cls(occurrence.lead_unit_id, occurrence.due_on, occurrence.completed_on,
                   occurrence.cancelled_at is not None)


def _insert(table: sa.Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE."""
    return postgresql.insert(table) if dialect_name(db.session) == "postgresql" else sqlite.insert(table)


def _status_of(state: OccurrenceState, clock: Any) -> sa.ColumnElement[str]:
    """SQL: the status of an occurrence in `state` as of `clock` (the stored one, as columns)."""
    if state.cancelled:
        return sa.literal(OccurrenceStatus.CANCELLED.value)
    if state.completed_on is not None:
        late = state.completed_on > state.due_on
        return sa.literal((OccurrenceStatus.DONE_LATE if late else OccurrenceStatus.DONE_ON_TIME).value)
    due = sa.literal(state.due_on, sa.Date)
    return sa.case((due < clock.overdue_before, OccurrenceStatus.OVERDUE.value),
                   (due <= clock.soon_until, OccurrenceStatus.DUE_SOON.value),
                   else_=OccurrenceStatus.NOT_DUE.value)


def move(before: OccurrenceState | None, after: OccurrenceState | None) -> None:
    """Count one occurrence in its new state instead of its old one (None: not counted): ONE statement.

    Nothing happens while the summary has no clock (never built): the pages then read the live query.
    """
    clock = CLOCKS.alias("clock")
    parts = []
    for state, delta in ((before, -1), (after, 1)):
        if state is not None:
            parts.append(sa.select(sa.literal(state.unit_id).label("unit_id"),
                                   sa.literal(state.due_on.year).label("year"),
                                   _status_of(state, clock.c).label("status"), sa.literal(delta).label("n"))
                         .select_from(clock))
    if not parts:
        return
    deltas = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery("deltas")
    sums = [sa.func.sum(sa.case((deltas.c.status == name, deltas.c.n), else_=0)).label(name)
            for name in STATUS_COLUMNS]
    rows = (sa.select(deltas.c.unit_id, deltas.c.year, *sums)
            .where(deltas.c.unit_id.is_not(None))  # SQLite: an upsert's SELECT needs a WHERE
            .group_by(deltas.c.unit_id, deltas.c.year)
            # Not when the status stays the same (an extension within the same status): nothing to add.
            .having(sa.or_(sa.func.min(deltas.c.status) != sa.func.max(deltas.c.status),
                           sa.func.sum(deltas.c.n) != 0)))
    statement = _insert(COUNTS).from_select(["unit_id", "year", *STATUS_COLUMNS], rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["unit_id", "year"],
        set_={name: COUNTS.c[name] + statement.excluded[name] for name in STATUS_COLUMNS}))


def _counts_select(clock: Any, where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The counts by lead unit and year of the due date, a column per status, of the occurrences matching
    `where`, with `clock` (columns of the stored clock, or a StatusClock) deciding the open ones' status."""
    year = sa.cast(sa.extract("year", Occurrence.due_on), sa.Integer)
    counts = [sa.func.count().filter(Occurrence.status_in(clock, [name])) for name in STATUS_COLUMNS]
    return (sa.select(Occurrence.lead_unit_id, year, *counts)
            .where(where, not_in_draft(Occurrence))
            .group_by(Occurrence.lead_unit_id, year))


def _lock() -> None:
    if dialect_name(db.session) == "postgresql":
        db.session.execute(sa.text("LOCK TABLE unit_status_counts IN SHARE ROW EXCLUSIVE MODE"))


def refresh_units(unit_ids: sa.Select[Any] | Iterable[int]) -> None:
    """Recompute the counts of some lead units (ids, or a select of them) with the stored clock: after a bulk
    change to their occurrences, in the same transaction."""
    if not isinstance(unit_ids, sa.Select):
        unit_ids = sorted({u for u in unit_ids if u is not None})
        if not unit_ids:
            return
    db.session.flush()
    _lock()
    db.session.execute(sa.delete(COUNTS).where(COUNTS.c.unit_id.in_(unit_ids)))
    stored = sa.select(CLOCKS).subquery("clock")
    clock = StatusClock(stored.c.as_of, stored.c.soon_until, stored.c.overdue_before)  # type: ignore[arg-type]
    rows = _counts_select(clock, Occurrence.lead_unit_id.in_(unit_ids)).join(stored, sa.true())
    db.session.execute(sa.insert(COUNTS).from_select(["unit_id", "year", *STATUS_COLUMNS], rows))


def rebuild(clock: StatusClock) -> int:
    """Recompute every count as of `clock` and record it as the summary's clock (one INSERT ... SELECT).
    Returns the number of rows written. The caller commits."""
    db.session.flush()
    _lock()
    db.session.execute(sa.delete(COUNTS))
    statement = _insert(CLOCKS).values(id=1, as_of=clock.today, soon_until=clock.soon_until,
                                       overdue_before=clock.overdue_before, rebuilt_at=utcnow())
    ex = statement.excluded
    db.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
        "as_of": ex.as_of, "soon_until": ex.soon_until, "overdue_before": ex.overdue_before,
        "rebuilt_at": ex.rebuilt_at}))
    db.session.execute(sa.insert(COUNTS).from_select(["unit_id", "year", *STATUS_COLUMNS],
                                                     _counts_select(clock, sa.true())))
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(COUNTS)) or 0)


def stored_clock() -> StatusClock | None:
    """The clock the counts were computed with (None: never built). One small statement."""
    row = db.session.execute(sa.select(CLOCKS.c.as_of, CLOCKS.c.soon_until, CLOCKS.c.overdue_before)
                             .where(CLOCKS.c.id == 1)).first()
    return StatusClock(row.as_of, row.soon_until, row.overdue_before) if row is not None else None


def rebuild_if_stale(clock: StatusClock) -> bool:
    """Rebuild when the stored clock is not `clock` (the first run after local midnight, or after the due-soon
    or grace settings changed). Returns whether it rebuilt."""
    if stored_clock() == clock:
        return False
    rebuild(clock)
    return True


# --- Latest indicator values ---------------------------------------------------------------------------------

def record_values(values: Iterable[IndicatorValue]) -> None:
    """Make `values` (flushed rows) the latest of their (indicator, unit, year) unless a later one is there:
    ONE statement, in the transaction that stores them."""
    rows = [{"indicator_id": v.indicator_id, "unit_id": v.unit_id, "year": v.year, "value": v.value,
             "reported_at": v.reported_at, "value_id": v.id, "report_id": v.report_id} for v in values]
    if not rows:
        return
    statement = _insert(LATEST).values(rows)
    ex = statement.excluded
    later = sa.or_(ex.reported_at > LATEST.c.reported_at,
                   sa.and_(ex.reported_at == LATEST.c.reported_at, ex.value_id > LATEST.c.value_id))
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["indicator_id", "unit_id", "year"],
        set_={"value": ex.value, "reported_at": ex.reported_at, "value_id": ex.value_id, "report_id": ex.report_id},
        where=later))


def rebuild_latest(where: sa.ColumnElement[bool] | None = None) -> None:
    """Recompute the latest values (of the (indicator, unit, year) keys matching `where` on IndicatorValue, or
    all): after values are removed or loaded in bulk."""
    v = IndicatorValue
    condition = where if where is not None else sa.true()
    keys = sa.select(v.indicator_id, v.unit_id, v.year).where(condition)
    if where is None:
        db.session.execute(sa.delete(LATEST))
    else:
        db.session.execute(sa.delete(LATEST).where(sa.tuple_(LATEST.c.indicator_id, LATEST.c.unit_id,
                                                             LATEST.c.year).in_(keys)))
    ranked = (sa.select(v.indicator_id, v.unit_id, v.year, v.value, v.reported_at, v.id, v.report_id,
                        sa.func.row_number().over(partition_by=(v.indicator_id, v.unit_id, v.year),
                                                  order_by=(v.reported_at.desc(), v.id.desc())).label("rank"))
              .where(condition).subquery())
    db.session.execute(sa.insert(LATEST).from_select(
        ["indicator_id", "unit_id", "year", "value", "reported_at", "value_id", "report_id"],
        sa.select(ranked.c.indicator_id, ranked.c.unit_id, ranked.c.year, ranked.c.value, ranked.c.reported_at,
                  ranked.c.id, ranked.c.report_id).where(ranked.c.rank == 1)))
