"""The reminder sweep: queue every reminder and escalation that has come due, in one INSERT ... SELECT.

For each rule offset k, `WorkCalendar.latest_due_date_fired(today, k)` is the greatest due date whose
rule has fired by today, so "rule r is due for occurrence o" is `o.due_on <= threshold(r)`. The rules
and their thresholds travel into SQL as a small UNION ALL table; the statement joins the open
occurrences to their effective policy (task's, else plan's, else the default), keeps per occurrence
only the due rules with the greatest offset (a rule missed while the scheduler was down is superseded by
a later one, never sent late), resolves the audience to people through role assignments, and inserts
one outbox row per (occurrence, rule, due date, recipient, channel) with ON CONFLICT (dedupe_key) DO
NOTHING; the due date is in the key so that an approved extension starts the rules again. An occurrence
acknowledged for its current due date (someone acted from a reminder's link) gets no escalation rule
(escalation level > 0), as an acknowledged incident stops escalating.
Running it twice, or twice at once, queues nothing new. Nothing loops over occurrences in Python.

The statement starts from the open occurrences due where some rule can fire, (min after, max threshold]:
about the catch-up horizon plus the largest offset, a few percent of the open occurrences, read through the
partial index ix_occurrences_open_due_on_id; task, plan, policy and rules are joined for those only. Its rows
are inserted in dedupe-key order (concurrent sweeps never deadlock, and the dispatcher, which claims by id,
sends them in that order); at the country's size that sort of the first sweep's rows spills to disk.

Catch-up has a horizon (SWEEP_CATCH_UP_WORKING_DAYS): a rule that fired before it, `o.due_on <=
too_old(r)`, is not sent at all, so the first sweep of a new installation, or of a plan imported late,
does not escalate a year of backlog; the overdue items still show on every page.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker.extensions import db
from tracker.jobs.bundle import BUNDLE_COLUMNS, BundleSettings, bundle_groups, eligible, run_bundle
from tracker.models import (
    Audience,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Occurrence,
    OrgUnit,
    Person,
    Plan,
    PlanStatus,
    ReminderPolicy,
    ReminderRule,
    Role,
    RoleAssignment,
    Task,
    TaskStatus,
    reminder_rule_channels,
)
from tracker.operations.reminders import enabled_channels, ensure_default_policy, work_calendar
from tracker.sqlutil import dialect_name, insert_ignoring_conflicts
from tracker.workcalendar import WorkCalendar

log = logging.getLogger("tracker.jobs")

#: Which role at which unit an audience means (the unit is chosen in `_target_unit`).
AUDIENCE_ROLES: tuple[tuple[Audience, Role], ...] = (
    (Audience.LEAD_OFFICERS, Role.OFFICER),
    (Audience.LEAD_HEAD, Role.UNIT_HEAD),
    (Audience.REPORT_TO_FOCAL, Role.FOCAL),
    (Audience.ADMIN_CHAIR, Role.CHAIR),
    (Audience.NEXT_LEVEL_UP, Role.FOCAL),
    (Audience.NEXT_LEVEL_UP, Role.CHAIR),
)


_ONE_DAY = timedelta(days=1)
_NO_LIMIT = date(1900, 1, 1)  # before any due date the domain accepts (1990-2100)

@dataclass(frozen=True, slots=True)
class DueRule:
    rule_id: int
    policy_id: int
    offset_days: int
    escalation_level: int
    audience: str
    threshold: date
    #: Due dates up to this one had the rule fire before the catch-up horizon: too old to send (None: no limit).
    too_old: date | None = None
    #: Due dates up to this one have a later rule of the same policy due: it supersedes this one (None: none).
    superseded_to: date | None = None

    @property
    def after(self) -> date:
        """The rule is the one to send for due dates after this one, up to its threshold."""
        return max(self.too_old or _NO_LIMIT, self.superseded_to or _NO_LIMIT)

    @property
    def label(self) -> str:
        return f"{self.offset_days:+d}:{self.audience}" if self.offset_days else f"0:{self.audience}"


@dataclass
class SweepResult:
    now: datetime
    today: date
    dry_run: bool = False
    inserted: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    held: int = 0
    occurrences: int = 0
    #: Bundle messages queued, and the queued rows they carry (see tracker/jobs/bundle.py).
    bundles: int = 0
    bundled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "inserted": self.inserted,
            "by_rule": dict(sorted(self.by_rule.items(), key=lambda kv: _label_order(kv[0]))),
            "by_channel": dict(sorted(self.by_channel.items())),
            "held_for_digest": self.held,
            "occurrences": self.occurrences,
            "bundles": self.bundles,
            "bundled_items": self.bundled,
        }


def _label_order(label: str) -> tuple[int, str]:
    offset, _, audience = label.partition(":")
    return int(offset), audience


def due_rules(calendar: WorkCalendar, today: date, catch_up_working_days: int = 0) -> list[DueRule]:
    """Every rule of a live policy with the greatest due date it has fired for by `today`, and, with a
    catch-up horizon of N working days, the greatest due date it had already fired for before then.

    The horizon is what catch-up means: a rule missed while the scheduler was down for a few days still
    goes out, but a plan imported in its second year does not escalate every item of its first.
    """
    horizon = calendar.add_working_days(today, -catch_up_working_days) if catch_up_working_days > 0 else None
    rows = db.session.execute(
        sa.select(ReminderRule.id, ReminderRule.policy_id, ReminderRule.offset_days, ReminderRule.escalation_level,
                  ReminderRule.audience)
        .join(ReminderPolicy, ReminderPolicy.id == ReminderRule.policy_id)
        .where(ReminderPolicy.is_archived.is_(False))
        .order_by(ReminderRule.policy_id, ReminderRule.offset_days, ReminderRule.id)
    ).all()
    thresholds: dict[int, tuple[date, date | None]] = {}
    rules = []
    for row in rows:
        if row.offset_days not in thresholds:
            too_old = (calendar.latest_due_date_fired(horizon - _ONE_DAY, row.offset_days)
                       if horizon is not None else None)
            thresholds[row.offset_days] = (calendar.latest_due_date_fired(today, row.offset_days), too_old)
        threshold, too_old = thresholds[row.offset_days]
        rules.append(DueRule(row.id, row.policy_id, row.offset_days, row.escalation_level or 0,
                             str(row.audience), threshold, too_old))
    # Supersession, decided here rather than per occurrence in SQL: a due date for which a rule with a greater
    # offset of the same policy has also fired gets that one only (a missed reminder is never sent late).
    return [
        replace(rule, superseded_to=max((r.threshold for r in rules if r.policy_id == rule.policy_id
                                         and r.offset_days > rule.offset_days), default=None))
        for rule in rules
    ]


def _typed(value: Any, type_: sa.types.TypeEngine[Any], postgres: bool) -> sa.ColumnElement[Any]:
    # PostgreSQL needs the types of a VALUES-like UNION spelled out; SQLite would turn CAST(.. AS DATE)
    # into a number, and compares its ISO date strings correctly without it.
    literal = sa.literal(value, type_)
    return sa.cast(literal, type_) if postgres else literal


def _rules_table(rules: list[DueRule], postgres: bool) -> sa.CTE:
    selects = [
        sa.select(
            _typed(r.rule_id, sa.Integer(), postgres).label("rule_id"),
            _typed(r.policy_id, sa.Integer(), postgres).label("policy_id"),
            _typed(r.offset_days, sa.Integer(), postgres).label("offset_days"),
            _typed(r.escalation_level, sa.Integer(), postgres).label("escalation_level"),
            _typed(r.audience, sa.String(32), postgres).label("audience"),
            _typed(r.threshold, sa.Date(), postgres).label("threshold"),
            _typed(r.after, sa.Date(), postgres).label("after"),
        )
        for r in rules
    ]
    return sa.union_all(*selects).cte("due_rules") if len(selects) > 1 else selects[0].cte("due_rules")


def _audience_roles(postgres: bool) -> sa.CTE:
    """(audience, role, shadowed_by): an audience naming two roles at one unit reaches a person holding both
    through the first only (`shadowed_by` is the earlier role), so no recipient is listed twice."""
    selects = []
    for i, (audience, role) in enumerate(AUDIENCE_ROLES):
        earlier = next((r for a, r in AUDIENCE_ROLES[:i] if a == audience), None)
        selects.append(sa.select(_typed(audience.value, sa.String(32), postgres).label("audience"),
                                 _typed(role.value, sa.String(16), postgres).label("role"),
                                 _typed(earlier.value if earlier else None, sa.String(16), postgres)
                                 .label("shadowed_by")))
    return sa.union_all(*selects).cte("audience_roles")


def build_insert(
    rules: list[DueRule],
    *,
    default_policy_id: int,
    now: datetime,
    next_window: datetime,
    channels: tuple[Channel, ...],
    postgres: bool,
) -> sa.Select[Any]:
    """The SELECT producing every outbox row now due (see the module docstring).

    It starts from the open occurrences whose due date lies where some rule can fire (the partial index
    ix_occurrences_open_due_on_id), fenced off on PostgreSQL (MATERIALIZED) so that the planner cannot
    join every task to every rule first, then joins task, plan, policy and rules for those only. It does not
    de-duplicate the outbox rows: a person reached through two roles of one audience is listed once
    (`_audience_roles`).
    """
    o, t, p = Occurrence.__table__, Task.__table__, Plan.__table__
    n = Notification.__table__
    task_policy = ReminderPolicy.__table__.alias("task_policy")
    plan_policy = ReminderPolicy.__table__.alias("plan_policy")
    rr = _rules_table(rules, postgres)

    open_occurrences = (
        sa.select(
            o.c.id.label("occurrence_id"),
            o.c.due_on,
            o.c.lead_unit_id,
            o.c.acknowledged_due_on,
            sa.func.coalesce(t.c.report_to_unit_id, p.c.issuing_unit_id).label("report_to_unit_id"),
            sa.func.coalesce(task_policy.c.id, plan_policy.c.id, sa.literal(default_policy_id)).label("policy_id"),
        )
        .select_from(
            o.join(t, t.c.id == o.c.task_id)
            .join(p, p.c.id == t.c.plan_id)
            .outerjoin(task_policy, sa.and_(task_policy.c.id == t.c.reminder_policy_id,
                                            task_policy.c.is_archived.is_(sa.false())))
            .outerjoin(plan_policy, sa.and_(plan_policy.c.id == p.c.reminder_policy_id,
                                            plan_policy.c.is_archived.is_(sa.false())))
        )
        .where(
            # The predicate of the partial index ix_occurrences_open_due_on_id, and its range:
            o.c.completed_at.is_(None),
            o.c.cancelled_at.is_(None),
            # nothing due after the latest threshold has any rule due, nor anything due before every rule's
            # range (the catch-up horizon of the latest-firing rules).
            o.c.due_on <= max(r.threshold for r in rules),
            o.c.due_on > min(r.after for r in rules),
            t.c.status == TaskStatus.ACTIVE.value,
            p.c.status == PlanStatus.ACTIVE.value,
        )
        .cte("open_occurrences")
    )
    if postgres:
        # A fence: the rules join on the policy, which the planner could otherwise take from every task first.
        open_occurrences = open_occurrences.prefix_with("MATERIALIZED")
    eo = open_occurrences
    due = (
        sa.select(eo.c.occurrence_id, eo.c.due_on, eo.c.lead_unit_id, eo.c.report_to_unit_id, rr.c.rule_id,
                  rr.c.audience, rr.c.escalation_level)
        # The rules of the occurrence's policy to send for its due date: fired, within the horizon, and not
        # superseded by a later rule (DueRule.after).
        .select_from(eo.join(rr, sa.and_(rr.c.policy_id == eo.c.policy_id, eo.c.due_on <= rr.c.threshold,
                                         eo.c.due_on > rr.c.after)))
        .where(
            # Acknowledged (someone acted from a reminder): no escalation for this due date. Reminders to the
            # lead unit go on while it is open; a new due date starts the ladder again.
            sa.or_(rr.c.escalation_level == 0, eo.c.acknowledged_due_on.is_(None),
                   eo.c.acknowledged_due_on != eo.c.due_on),
            # Already queued for this occurrence and due date: skip the recipient expansion (the unique key
            # would too). A new due date (an approved extension) starts the rules again.
            ~sa.exists().where(n.c.occurrence_id == eo.c.occurrence_id, n.c.rule_id == rr.c.rule_id,
                               n.c.due_on == eo.c.due_on),
        )
        .cte("due")
    )
    if postgres:
        # Probe the outbox once per (occurrence, rule), before the audience multiplies the rows.
        due = due.prefix_with("MATERIALIZED")
    lead = OrgUnit.__table__.alias("lead_unit")
    admin = OrgUnit.__table__.alias("admin_unit")
    above = OrgUnit.__table__.alias("unit_above")
    ar = _audience_roles(postgres)
    target_unit = sa.case(
        (due.c.audience.in_([Audience.LEAD_OFFICERS.value, Audience.LEAD_HEAD.value]), due.c.lead_unit_id),
        (due.c.audience == Audience.REPORT_TO_FOCAL.value, due.c.report_to_unit_id),
        (due.c.audience == Audience.ADMIN_CHAIR.value, lead.c.admin_unit_id),
        (due.c.audience == Audience.NEXT_LEVEL_UP.value, above.c.admin_unit_id),
        else_=sa.null(),
    )
    targets = (
        sa.select(due.c.occurrence_id, due.c.due_on, due.c.rule_id, due.c.escalation_level, ar.c.role,
                  ar.c.shadowed_by, target_unit.label("unit_id"))
        .select_from(
            due.join(ar, ar.c.audience == due.c.audience)
            .join(lead, lead.c.id == due.c.lead_unit_id)
            .outerjoin(admin, admin.c.id == lead.c.admin_unit_id)
            .outerjoin(above, above.c.id == admin.c.parent_id)
        )
        .cte("targets")
    )
    ra, pe, rc = RoleAssignment.__table__, Person.__table__, reminder_rule_channels
    both = ra.alias("both_roles")
    as_text = sa.String()
    dedupe_key = (
        sa.literal("reminder:") + sa.cast(targets.c.occurrence_id, as_text)
        + sa.literal(":") + sa.cast(targets.c.rule_id, as_text)
        + sa.literal(":") + sa.cast(targets.c.due_on, as_text)
        + sa.literal(":") + sa.cast(ra.c.person_id, as_text)
        + sa.literal(":") + sa.cast(rc.c.channel, as_text)
    )
    held = sa.and_(pe.c.prefers_digest.is_(sa.true()), rc.c.channel != Channel.IN_APP.value)
    key = dedupe_key.label("dedupe_key")
    return (
        sa.select(
            key,
            sa.case((targets.c.escalation_level > 0, NotificationKind.ESCALATION.value),
                    else_=NotificationKind.REMINDER.value).label("kind"),
            rc.c.channel.label("channel"),
            ra.c.person_id.label("recipient_id"),
            targets.c.occurrence_id.label("occurrence_id"),
            targets.c.rule_id.label("rule_id"),
            targets.c.due_on.label("due_on"),
            targets.c.escalation_level.label("escalation_level"),
            sa.case((held, DeliveryStatus.HELD.value), else_=DeliveryStatus.PENDING.value).label("status"),
            sa.literal(0).label("attempts"),
            # E-mail and Zalo wait for the working window; the dispatcher checks it again anyway.
            sa.case((rc.c.channel == Channel.IN_APP.value, sa.literal(now, Notification.next_attempt_at.type)),
                    else_=sa.literal(next_window, Notification.next_attempt_at.type)).label("next_attempt_at"),
            sa.literal(now, Notification.created_at.type).label("created_at"),
        )
        .select_from(
            targets.join(ra, sa.and_(ra.c.unit_id == targets.c.unit_id, ra.c.role == targets.c.role))
            .join(pe, pe.c.id == ra.c.person_id)
            .join(rc, rc.c.rule_id == targets.c.rule_id)
        )
        # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT; this one is also real.
        .where(
            pe.c.is_active.is_(sa.true()),
            rc.c.channel.in_([c.value for c in channels]),
            # Reached through the audience's earlier role already (role assignments are unique per person,
            # unit and role, rule channels per rule and channel: no other row can repeat).
            sa.or_(targets.c.shadowed_by.is_(None),
                   ~sa.exists().where(both.c.person_id == ra.c.person_id, both.c.unit_id == ra.c.unit_id,
                                      both.c.role == targets.c.shadowed_by)),
        )
        # One insertion order for every sweep, so two concurrent sweeps wait on each other, never deadlock.
        .order_by(key)
    )


_COLUMNS = ("dedupe_key", "kind", "channel", "recipient_id", "occurrence_id", "rule_id", "due_on",
            "escalation_level", "status", "attempts", "next_attempt_at", "created_at")


def run_sweep(now: datetime, *, dry_run: bool = False, calendar: WorkCalendar | None = None) -> SweepResult:
    """Queue every reminder due at `now`, in the caller's transaction (the caller commits or, dry, rolls back)."""
    serialise_writers()
    calendar = calendar or work_calendar()
    today = calendar.local_today(now)
    result = SweepResult(now=now, today=today, dry_run=dry_run)
    default = ensure_default_policy()
    rules = due_rules(calendar, today, int(current_app.config.get("SWEEP_CATCH_UP_WORKING_DAYS", 0)))
    if not rules:
        return result
    channels = enabled_channels(current_app.config)
    postgres = dialect_name(db.session) == "postgresql"
    select = build_insert(rules, default_policy_id=default.id, now=now, next_window=calendar.next_sending_time(now),
                          channels=channels, postgres=postgres)
    table = Notification.__table__
    insert = insert_ignoring_conflicts(db.session, table, ["dedupe_key"]).from_select(_COLUMNS, select)  # type: ignore[arg-type]
    returning = insert.returning(table.c.rule_id, table.c.channel, table.c.status, table.c.occurrence_id,
                                 table.c.escalation_level)
    labels = {r.rule_id: r.label for r in rules}
    bundling = BundleSettings.from_config(current_app.config)
    bundled_at_insert = postgres and bundling.enabled and bool(bundling.channels)
    if bundled_at_insert:
        # One statement inserts the bundles and the rows already attached to them: no second write per row.
        tally, touched, result.bundles, result.bundled = _insert_bundled_postgres(select, now, bundling)
    elif postgres:
        tally, touched = _insert_and_record_postgres(returning, now)
    else:
        rows = db.session.execute(returning).all()
        tally = [(k[0], k[1], k[2], c) for k, c in Counter((r[0], r[1], r[2]) for r in rows).items()]
        touched = len({r[3] for r in rows})
        if rows:
            _record_on_occurrences(now)
    for rule_id, channel, status, count in tally:
        result.inserted += count
        label = labels.get(rule_id, str(rule_id))
        result.by_rule[label] = result.by_rule.get(label, 0) + count
        result.by_channel[str(channel)] = result.by_channel.get(str(channel), 0) + count
        if str(status) == DeliveryStatus.HELD.value:
            result.held += count
    result.occurrences = touched
    if result.inserted and not bundled_at_insert:
        # Same transaction as the INSERT: the rows are bundled before any dispatcher can see them.
        bundled = run_bundle(now, bundling)
        result.bundles, result.bundled = bundled.bundles, bundled.items
    log.info("sweep %s (%s): %d queued %s, %d in %d bundles", now.isoformat(), "dry run" if dry_run else "live",
             result.inserted, result.by_rule, result.bundled, result.bundles)
    return result


def serialise_writers() -> None:
    """SQLite: take the write lock first (BEGIN IMMEDIATE), so a concurrent writer waits its turn.

    A deferred SQLite transaction that reads and then writes fails at once ("database is locked") when
    another writer committed in between; starting with the write lock makes the second sweep wait for
    the first and then see its rows. PostgreSQL needs nothing: the unique key and row locks serialise.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _insert_bundled_postgres(select: sa.Select[Any], now: datetime, bundling: BundleSettings
                             ) -> tuple[list[tuple[Any, Any, Any, int]], int, int, int]:
    """PostgreSQL with bundling: insert the bundles and the rows already carried by them, in one statement.

    The sweep's rows are computed once (a MATERIALIZED CTE); the bundles are chosen from them and inserted
    first (a data-modifying CTE returning their ids), then the rows, each eligible row of a bundled group
    with status "digested" and digest_id = its bundle. Rewriting the rows afterwards (run_bundle, as on
    SQLite) would write each row twice and run its foreign-key checks again. A row skipped by ON CONFLICT
    (a concurrent sweep queued it first) may leave a bundle carrying nothing: such bundles are deleted
    at once. Returns the tally, the occurrences touched, the bundles carrying rows and the rows carried.
    """
    table = Notification.__table__
    swept = select.cte("swept").prefix_with("MATERIALIZED")
    groups = bundle_groups(swept, eligible(swept, bundling), now, bundling)
    bundles = (
        insert_ignoring_conflicts(db.session, table, ["dedupe_key"]).from_select(BUNDLE_COLUMNS, groups)
        .returning(table.c.id, table.c.recipient_id, table.c.channel).cte("bundles")
    )
    # Each row's bundle, looked up in one map {"recipient:channel": bundle id} built once (an InitPlan): a join
    # of the rows to the bundles was planned as a nested loop (the planner cannot know how many rows the sweep
    # makes), 136 bundles scanned for each of the 95,640 rows of the country's first sweep: 5 s.
    def group_key(source: Any) -> sa.ColumnElement[str]:
        return sa.cast(source.c.recipient_id, sa.String()) + sa.literal(":") + sa.cast(source.c.channel, sa.String())

    bundle_ids = sa.select(sa.func.jsonb_object_agg(group_key(bundles), bundles.c.id)).scalar_subquery()
    bundle_id = sa.cast(bundle_ids.op("->>")(group_key(swept).self_group()), sa.BigInteger())
    carried = sa.and_(bundle_id.is_not(None), *eligible(swept, bundling))
    columns = [c for c in _COLUMNS if c != "status"]
    rows = (
        sa.select(*[swept.c[c] for c in columns],
                  sa.case((carried, DeliveryStatus.DIGESTED.value), else_=swept.c.status).label("status"),
                  sa.case((carried, bundle_id), else_=sa.null()).label("digest_id"))
        .select_from(swept)
        # One insertion order for every sweep, so two concurrent sweeps wait on each other, never deadlock.
        .order_by(swept.c.dedupe_key)
    )
    insert = insert_ignoring_conflicts(db.session, table, ["dedupe_key"]).from_select(  # type: ignore[arg-type]
        [*columns, "status", "digest_id"], rows)
    returning = insert.returning(table.c.rule_id, table.c.channel, table.c.status, table.c.occurrence_id,
                                 table.c.escalation_level, table.c.digest_id)
    tally, touched, carriers, carried_rows = _insert_and_record_postgres(returning, now, carriers=True)
    item = table.alias("item")
    # Bundles whose every row lost to a concurrent sweep's: nothing to send.
    db.session.execute(sa.delete(table).where(
        table.c.status == DeliveryStatus.PENDING.value, table.c.created_at == sa.literal(now, table.c.created_at.type),
        table.c.kind == NotificationKind.BUNDLE.value, table.c.attempts == 0,
        ~sa.exists().where(item.c.digest_id == table.c.id)))
    return tally, touched, carriers, carried_rows


def _insert_and_record_postgres(returning: Any, now: datetime, *, carriers: bool = False) -> Any:
    """One statement: insert, raise the occurrences' escalation level, count by rule and channel.

    Data-modifying CTEs: the occurrences are updated from the RETURNING rows of the insert itself, so
    nothing depends on statistics of a table the insert has just grown, and no row travels to Python.
    """
    o = Occurrence.__table__
    inserted = returning.cte("inserted")
    levels = (
        sa.select(inserted.c.occurrence_id, sa.func.max(inserted.c.escalation_level).label("level"))
        .group_by(inserted.c.occurrence_id)
        .cte("levels")
    )
    touched = (
        sa.update(o)
        .where(o.c.id == levels.c.occurrence_id)
        .values(last_reminded_at=now, escalation_level=sa.func.greatest(o.c.escalation_level, levels.c.level))
        .returning(o.c.id)
        .cte("touched")
    )
    touched_count = sa.select(sa.func.count()).select_from(touched).scalar_subquery()
    extra = []
    if carriers:
        extra = [sa.select(sa.func.count(sa.distinct(inserted.c.digest_id))).scalar_subquery(),
                 sa.select(sa.func.count(inserted.c.digest_id)).scalar_subquery()]
    counts = db.session.execute(
        sa.select(inserted.c.rule_id, inserted.c.channel, inserted.c.status, sa.func.count(), touched_count, *extra)
        .group_by(inserted.c.rule_id, inserted.c.channel, inserted.c.status)
    ).all()
    tally = [(r[0], r[1], r[2], int(r[3])) for r in counts]
    touched_total = int(counts[0][4]) if counts else 0
    if carriers:
        return tally, touched_total, int(counts[0][5]) if counts else 0, int(counts[0][6]) if counts else 0
    return tally, touched_total


def _record_on_occurrences(now: datetime) -> None:
    """SQLite: set last_reminded_at and raise escalation_level on the occurrences reminded now, set-based."""
    o, n = Occurrence.__table__, Notification.__table__
    # Rows this sweep queued: created at its `now` and not yet dispatched (same transaction).
    fresh = sa.and_(n.c.created_at == now, n.c.rule_id.is_not(None),
                    n.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]))
    levels = (
        sa.select(n.c.occurrence_id, sa.func.max(n.c.escalation_level).label("level"))
        .where(fresh).group_by(n.c.occurrence_id).subquery("levels")
    )
    db.session.execute(
        sa.update(o)
        .where(o.c.id == levels.c.occurrence_id)
        .values(
            last_reminded_at=now,
            escalation_level=sa.case((levels.c.level > o.c.escalation_level, levels.c.level),
                                     else_=o.c.escalation_level),
        )
    )
