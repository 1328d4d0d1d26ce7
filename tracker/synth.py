"""A synthetic country for benchmarks and load tests: deterministic, set-based, into any database.

`synthesize()` seeds the org tree of the first N provinces (vietnam-provinces, in the order of their official
codes), then gives each commune with a plan (all of them, or the first M) one yearly plan with four tasks per
office (monthly, two quarterly, annual: 21 occurrences an office), an officer and a head per office, a chair and
a focal officer per commune and per province, and a history as of `as_of`: about 70% of what was due done (a
fifth of it late), a report for a tenth of the completed occurrences (the recent ones waiting for review) with an
indicator value each, pending requests for more time, one indicator per plan with a yearly target.

Everything is a handful of INSERT ... SELECT statements, so the whole country (1.25 million occurrences) loads in
about a minute on PostgreSQL. The same (provinces, communes, seed, year) on an empty database gives the same rows:
which occurrences are done, late or reported follows the row's id mixed with the seed, never a random generator.
The accounts have no password: they exist to be counted, reminded and escalated to, not to sign in.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.extensions import db
from tracker.models.base import UTCDateTime
from tracker.operations.errors import ValidationFailed

# A multiplier coprime with 10 and 5 spreads the seed over the ids' residues without clustering neighbours.
_MIX = 7919


@dataclass(frozen=True)
class SynthSpec:
    provinces: int | None = None  # the first N provinces by official code; None: all 34
    communes: int | None = None  # communes (in id order) that get a plan and people; None: every seeded commune
    seed: int = 0
    year: int = 2025
    as_of: date | None = None  # the history's "today"; default 20 November of `year`

    @property
    def today(self) -> date:
        return self.as_of or date(self.year, 11, 20)


@dataclass
class SynthResult:
    provinces: int = 0
    communes: int = 0
    internal_units: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def province_names(count: int | None) -> list[str] | None:
    """The names of the first `count` provinces by official code (None: all of them)."""
    if count is None:
        return None
    from vietnam_provinces import Province

    if count < 1:
        raise ValidationFailed(_l("Give at least one province."), field="provinces")
    ordered = sorted(Province.iter_all(), key=lambda p: int(p.code))
    return [p.name for p in ordered[:count]]


def synthesize(spec: SynthSpec) -> SynthResult:
    """Load the synthetic data into the session's database; the caller commits."""
    from tracker.models import Plan
    from tracker.operations.units import seed_units

    if spec.communes is not None and spec.communes < 1:
        raise ValidationFailed(_l("Give at least one commune."), field="communes")
    if db.session.scalar(sa.select(Plan.id).limit(1)) is not None:
        # Mixing generated rows into real (or demo) data would corrupt both; synth wants its own database.
        raise ValidationFailed(_l("The database already holds plans: synthesise into an empty database."))
    names = province_names(spec.provinces)
    seeded = seed_units(names)
    result = SynthResult(provinces=seeded.provinces, communes=seeded.communes, internal_units=seeded.internal_units)
    result.rows = _load(spec, _province_codes(names))
    # Loaded by INSERT ... SELECT, past the operations: the summaries are computed once, as of the real today.
    from tracker.clock import status_clock
    from tracker.operations import summaries

    summaries.rebuild(status_clock())
    summaries.rebuild_latest()
    return result


def _province_codes(names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    from vietnam_provinces import Province

    wanted = set(names)
    return [f"P{int(p.code)}" for p in Province.iter_all() if p.name in wanted]


def _periods(year: int) -> list[dict[str, Any]]:
    """The reporting periods of `year` per recurrence kind (what occurrence generation would make)."""
    rows = []
    for month in range(1, 13):
        end = date(year, month, calendar.monthrange(year, month)[1])
        rows.append({"kind": "monthly", "period_key": f"{year}-{month:02d}", "label": f"Tháng {month:02d}/{year}",
                     "start_on": date(year, month, 1), "end_on": end})
    for quarter in range(4):
        first, last = quarter * 3 + 1, quarter * 3 + 3
        rows.append({"kind": "quarterly", "period_key": f"{year}-Q{quarter + 1}", "label": f"Quý {quarter + 1}/{year}",
                     "start_on": date(year, first, 1),
                     "end_on": date(year, last, calendar.monthrange(year, last)[1])})
    rows.append({"kind": "annual", "period_key": str(year), "label": f"Năm {year}", "start_on": date(year, 1, 1),
                 "end_on": date(year, 12, 31)})
    return rows


def _dialect_sql(postgres: bool) -> dict[str, str]:
    """The few date expressions that differ between PostgreSQL and SQLite."""
    # Whole tens and hundreds of the mixed id decide lateness and reporting independently of completion.
    late = f"((id * {_MIX} + :seed) / 10) % 5 = 0"
    if postgres:
        done_on = f"CASE WHEN {late} THEN due_on + 4 ELSE due_on - 1 END"
        return {"done_on": done_on,
                "at": f"(({done_on})::timestamp AT TIME ZONE 'UTC' + INTERVAL '2 hours')",
                "extend": "o.due_on + 15"}
    done_on = f"CASE WHEN {late} THEN date(due_on, '+4 days') ELSE date(due_on, '-1 days') END"
    return {"done_on": done_on, "at": f"({done_on} || ' 02:00:00.000000')", "extend": "date(o.due_on, '+15 days')"}


def _statements(spec: SynthSpec, province_codes: list[str] | None, postgres: bool) -> list[tuple[str, str]]:
    x = _dialect_sql(postgres)
    in_provinces = ""
    if province_codes is not None:
        codes = ", ".join(f"'{c}'" for c in province_codes)  # our own "P<int>" codes, never user text
        in_provinces = f" AND parent_id IN (SELECT id FROM org_units WHERE code IN ({codes}))"
    limit = f" LIMIT {int(spec.communes)}" if spec.communes is not None else ""
    planned = f"(SELECT id FROM org_units WHERE kind = 'commune'{in_provinces} ORDER BY id{limit})"
    provinces = "(SELECT parent_id FROM org_units WHERE id IN " + planned + ")"
    office = ("u.kind NOT IN ('commune', 'province', 'country', 'district', 'ministry') AND u.parent_id IN "
              + planned)
    mixed = f"(o.id * {_MIX} + :seed)"
    return [
        ("plans", f"""INSERT INTO plans (title, issuing_unit_id, year, period_start_on, period_end_on, status,
                                         created_at, activated_at, number)
            SELECT 'Kế hoạch giảm nghèo năm ' || :year_text, id, :year, :y0, :y1, 'active', :now, :now,
                   id || '/KH-UBND'
            FROM org_units WHERE id IN {planned}"""),
        ("tasks", f"""INSERT INTO tasks (plan_id, title, lead_unit_id, report_to_unit_id, recurrence, status, position,
                                         created_at)
            SELECT p.id, 'Báo cáo ' || k.kind || ' ' || u.name, u.id, p.issuing_unit_id, k.kind, 'active', k.n, :now
            FROM org_units u JOIN plans p ON p.issuing_unit_id = u.parent_id
            CROSS JOIN (SELECT 1 AS n, 'monthly' AS kind UNION ALL SELECT 2, 'quarterly'
                        UNION ALL SELECT 3, 'quarterly' UNION ALL SELECT 4, 'annual') k
            WHERE {office}"""),
        ("occurrences", """INSERT INTO occurrences (task_id, lead_unit_id, period_key, period_label,
                                                    period_start_on, period_end_on, due_on, original_due_on,
                                                    escalation_level, created_at)
            SELECT t.id, t.lead_unit_id, sp.period_key, sp.label, sp.start_on, sp.end_on, sp.end_on, sp.end_on, 0, :now
            FROM tasks t JOIN synth_periods sp ON sp.kind = t.recurrence"""),
        ("people: officers and heads", f"""INSERT INTO people (username, full_name, locale, is_active,
                                                              prefers_digest, created_at, email)
            SELECT r.prefix || u.id, r.title || ' ' || u.name, 'vi', true, (u.id + :seed) % 10 = 0, :now,
                   r.prefix || u.id || '@example.org'
            FROM org_units u CROSS JOIN (SELECT 'u' AS prefix, 'Cán bộ' AS title UNION ALL
                                         SELECT 'head', 'Trưởng') r
            WHERE {office}"""),
        ("people: chairs and focal officers", f"""INSERT INTO people (username, full_name, locale, is_active,
                                                                     prefers_digest, created_at, email)
            SELECT r.prefix || u.id, r.title || ' ' || u.name, 'vi', true, false, :now,
                   r.prefix || u.id || '@example.org'
            FROM org_units u CROSS JOIN (SELECT 'u' AS prefix, 'Chủ tịch' AS title UNION ALL
                                         SELECT 'focal', 'Đầu mối') r
            WHERE u.id IN {planned} OR u.id IN {provinces}"""),
        ("role assignments", """INSERT INTO role_assignments (person_id, unit_id, role, created_at)
            SELECT p.id, u.id, CASE WHEN p.username LIKE 'focal%' THEN 'focal'
                                    WHEN p.username LIKE 'head%' THEN 'unit_head'
                                    WHEN u.kind IN ('commune', 'province') THEN 'chair' ELSE 'officer' END, :now
            FROM people p JOIN org_units u
              ON p.username IN ('u' || u.id, 'head' || u.id, 'focal' || u.id)"""),
        ("history: completions", f"""UPDATE occurrences SET completed_on = {x['done_on']}, completed_at = {x['at']}
            WHERE due_on < :today AND (id * {_MIX} + :seed) % 10 < 7"""),
        ("reports", f"""INSERT INTO reports (occurrence_id, submitted_by_id, submitted_at, submitted_on, body, is_late,
                                            review_status)
            SELECT o.id, p.id, o.completed_at, o.completed_on, 'Đã thực hiện', o.completed_on > o.due_on,
                   CASE WHEN o.due_on >= :recent THEN 'submitted' ELSE 'accepted' END
            FROM occurrences o JOIN people p ON p.username = 'u' || o.lead_unit_id
            WHERE o.completed_at IS NOT NULL AND ({mixed} / 100) % 10 = 0"""),
        ("extension requests", f"""INSERT INTO extension_requests (occurrence_id, requested_by_id, requested_due_on,
                                                                   reason, status, created_at)
            SELECT o.id, p.id, {x['extend']}, 'Chờ số liệu', 'pending', :now
            FROM occurrences o JOIN people p ON p.username = 'u' || o.lead_unit_id
            WHERE o.completed_at IS NULL AND o.due_on = :month_end AND ({mixed} / 10) % 50 = 0"""),
        ("indicators", """INSERT INTO indicators (plan_id, name, unit_of_measure, direction, created_at)
            SELECT id, 'Số hộ thoát nghèo', 'hộ', 'increase', :now FROM plans"""),
        ("indicator targets", """INSERT INTO indicator_targets (indicator_id, unit_id, year, value, comparator)
            SELECT i.id, p.issuing_unit_id, :year, 40, 'at_least'
            FROM indicators i JOIN plans p ON p.id = i.plan_id"""),
        ("indicator values", """INSERT INTO indicator_values (indicator_id, unit_id, report_id, year, value,
                                                              reported_at)
            SELECT i.id, o.lead_unit_id, r.id, :year, r.id % 7, r.submitted_at
            FROM reports r JOIN occurrences o ON o.id = r.occurrence_id JOIN tasks t ON t.id = o.task_id
            JOIN indicators i ON i.plan_id = t.plan_id"""),
    ]


def _params(spec: SynthSpec) -> tuple[dict[str, Any], dict[str, sa.types.TypeEngine[Any]]]:
    today = spec.today
    month = today.month - 2 if today.month > 2 else today.month + 10
    recent = date(today.year if today.month > 2 else today.year - 1, month, 1)
    month_end = date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    params: dict[str, Any] = {
        "now": datetime(spec.year, 1, 2, 1, 0, tzinfo=UTC), "today": today, "y0": date(spec.year, 1, 1),
        "y1": date(spec.year, 12, 31), "recent": recent, "month_end": month_end, "seed": int(spec.seed),
        "year": int(spec.year), "year_text": str(spec.year)}
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "now": UTCDateTime(), "seed": sa.Integer(), "year": sa.Integer(), "year_text": sa.String(),
        **{k: sa.Date() for k in ("today", "y0", "y1", "recent", "month_end")}}
    return params, types


def _load(spec: SynthSpec, province_codes: list[str] | None) -> dict[str, int]:
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    periods = sa.Table("synth_periods", sa.MetaData(), sa.Column("kind", sa.String(16)),
                       sa.Column("period_key", sa.String(32)), sa.Column("label", sa.String(128)),
                       sa.Column("start_on", sa.Date()), sa.Column("end_on", sa.Date()), prefixes=["TEMPORARY"])
    periods.create(conn)
    conn.execute(periods.insert(), _periods(spec.year))
    params, types = _params(spec)
    rows: dict[str, int] = {}
    for label, statement in _statements(spec, province_codes, postgres):
        used = [sa.bindparam(k, v, type_=types[k]) for k, v in params.items() if f":{k}" in statement]
        rows[label] = conn.execute(sa.text(statement).bindparams(*used)).rowcount
    periods.drop(conn)
    return rows


def describe(result: SynthResult) -> str:
    lines = [f"seeded: {result.provinces} provinces, {result.communes:,} communes, "
             f"{result.internal_units:,} offices"]
    lines += [f"  {label:<36} {count:>10,}" for label, count in result.rows.items()]
    return "\n".join(lines)

