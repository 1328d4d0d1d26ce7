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


def _fixed_status(state: OccurrenceState) -> str | None:
    """The status of a closed occurrence (it does not depend on the clock); None for an open one."""
    if state.cancelled:
        return OccurrenceStatus.CANCELLED.value
    if state.completed_on is not None:
        late = state.completed_on > state.due_on
        return (OccurrenceStatus.DONE_LATE if late else OccurrenceStatus.DONE_ON_TIME).value
    return None


def _delta_select(k: int, postgres: bool) -> str:
    """One signed count as a row, its status derived from the stored clock unless fixed (params suffixed k).
    PostgreSQL is told the parameters' types; SQLite compares the ISO dates as text (CAST AS DATE would make
    them numbers there)."""
    def typed(name: str, sql_type: str) -> str:
        return f"CAST(:{name}_{k} AS {sql_type})" if postgres else f":{name}_{k}"

    fixed, due = typed("fixed", "VARCHAR"), typed("due", "DATE")
    return (f"SELECT {typed('unit', 'BIGINT')} AS unit_id, {typed('year', 'INTEGER')} AS year, "
            f"CASE WHEN {fixed} IS NOT NULL THEN {fixed} "
            f"WHEN {due} < clock.overdue_before THEN '{OccurrenceStatus.OVERDUE.value}' "
            f"WHEN {due} <= clock.soon_until THEN '{OccurrenceStatus.DUE_SOON.value}' "
            f"ELSE '{OccurrenceStatus.NOT_DUE.value}' END AS status, {typed('n', 'INTEGER')} AS n "
            "FROM summary_clocks AS clock")


def _move_statement(parts: int, postgres: bool) -> sa.TextClause:
    """The upsert of `move` for one or two signed counts, as text: SQLAlchemy does not cache the statements of
    the dialects' INSERT ... ON CONFLICT, and compiling this one took longer than the rest of "mark done"."""
    deltas = " UNION ALL ".join(_delta_select(k, postgres) for k in range(parts))
    sums = ", ".join(f"SUM(CASE WHEN status = '{name}' THEN n ELSE 0 END)" for name in STATUS_COLUMNS)
    updates = ", ".join(f"{name} = unit_status_counts.{name} + excluded.{name}" for name in STATUS_COLUMNS)
    sql = (f"INSERT INTO unit_status_counts (unit_id, year, {', '.join(STATUS_COLUMNS)}) "
           f"SELECT unit_id, year, {sums} FROM ({deltas}) AS deltas "
           # SQLite: an upsert's SELECT needs a WHERE. Not when the status stays the same (an extension within
           # the same status): nothing to add.
           "WHERE unit_id IS NOT NULL GROUP BY unit_id, year "
           "HAVING MIN(status) <> MAX(status) OR SUM(n) <> 0 "
           f"ON CONFLICT (unit_id, year) DO UPDATE SET {updates}")
    binds = [sa.bindparam(f"{name}_{k}", type_=kind) for k in range(parts)
             for name, kind in (("unit", sa.Integer), ("year", sa.Integer), ("fixed", sa.String),
                                ("due", sa.Date), ("n", sa.Integer))]
    return sa.text(sql).bindparams(*binds)


_MOVE_STATEMENTS = {(parts, postgres): _move_statement(parts, postgres)
                    for parts in (1, 2) for postgres in (False, True)}


def move(before: OccurrenceState | None, after: OccurrenceState | None) -> None:
    """Count one occurrence in its new state instead of its old one (None: not counted): ONE statement.

    The open statuses are derived in the statement from the stored clock, never the request's. Nothing
    happens while the summary has no clock (never built): the pages then read the live query.
    """
    states = [(state, delta) for state, delta in ((before, -1), (after, 1)) if state is not None]
    if not states:
        return
    params: dict[str, Any] = {}
    for k, (state, delta) in enumerate(states):
        params.update({f"unit_{k}": state.unit_id, f"year_{k}": state.due_on.year, f"fixed_{k}": _fixed_status(state),
                       f"due_{k}": state.due_on, f"n_{k}": delta})
    postgres = dialect_name(db.session) == "postgresql"
    db.session.execute(_MOVE_STATEMENTS[len(states), postgres], params)


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
