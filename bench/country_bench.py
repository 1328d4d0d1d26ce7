"""Load the whole country and time the pages' queries and one sweep on PostgreSQL (figures, not a test).

    .venv/bin/python bench/country_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]

Creates a throw-away database next to --url, migrates it, seeds 34 provinces, 3,321 communes and their
~60,000 offices (vietnam-provinces), one plan per commune with four tasks per office (monthly, two
quarterly, annual: ~1.25 million occurrences for 2025), ~66,000 people with roles, and a history (70% of
what was due by 20/11/2025 done, some late). Then times, as of 20/11/2025: a chair's overview queries,
an officer's "my tasks", a province viewer's and a national viewer's roll-up, the API's first page of
occurrences for a province, and one reminder sweep.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2025, 11, 20)


def _timed(label: str, fn: Callable[[], Any], repeat: int = 5) -> Any:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    print(f"{label:<58} median {statistics.median(times) * 1000:8.1f} ms  (min {min(times) * 1000:.1f})")
    return result


_LOAD_SQL = [
    # One plan per commune.
    """INSERT INTO plans (title, issuing_unit_id, year, period_start_on, period_end_on, status, created_at,
                          activated_at, number)
       SELECT 'Kế hoạch giảm nghèo năm 2025', id, 2025, DATE '2025-01-01', DATE '2025-12-31', 'active', now(), now(),
              id || '/KH-UBND'
       FROM org_units WHERE kind = 'commune'""",
    # Four tasks per office: monthly, two quarterly, annual.
    """INSERT INTO tasks (plan_id, title, lead_unit_id, report_to_unit_id, recurrence, status, position, created_at)
       SELECT p.id, 'Báo cáo ' || k.kind || ' ' || u.name, u.id, p.issuing_unit_id, k.kind, 'active', k.n, now()
       FROM org_units u JOIN plans p ON p.issuing_unit_id = u.parent_id
       CROSS JOIN (VALUES (1, 'monthly'), (2, 'quarterly'), (3, 'quarterly'), (4, 'annual')) AS k(n, kind)
       WHERE u.kind <> 'commune' AND u.kind <> 'province' AND u.kind <> 'country'""",
    # Their occurrences for 2025.
    """INSERT INTO occurrences (task_id, lead_unit_id, period_key, period_label, period_start_on, period_end_on,
                                due_on, original_due_on, escalation_level, created_at)
       SELECT t.id, t.lead_unit_id, to_char(s, 'YYYY-MM'), 'Kỳ ' || to_char(s, 'MM/YYYY'), s::date,
              (s + step - INTERVAL '1 day')::date, (s + step - INTERVAL '1 day')::date,
              (s + step - INTERVAL '1 day')::date, 0, now()
       FROM tasks t
       CROSS JOIN LATERAL (SELECT CASE t.recurrence WHEN 'monthly' THEN INTERVAL '1 month'
                                   WHEN 'quarterly' THEN INTERVAL '3 months' ELSE INTERVAL '1 year' END AS step) st
       CROSS JOIN LATERAL generate_series(TIMESTAMP '2025-01-01', TIMESTAMP '2025-12-01', st.step) AS s""",
    # People: an officer per office, a chair and a focal officer per commune.
    """INSERT INTO people (username, full_name, locale, is_active, prefers_digest, created_at, email)
       SELECT 'u' || id, 'Cán bộ ' || id, 'vi', true, false, now(), 'u' || id || '@example.org' FROM org_units
       WHERE kind <> 'country' AND kind <> 'province'""",
    """INSERT INTO role_assignments (person_id, unit_id, role, created_at)
       SELECT p.id, u.id, CASE WHEN u.kind = 'commune' THEN 'chair' ELSE 'officer' END, now()
       FROM org_units u JOIN people p ON p.username = 'u' || u.id""",
    """INSERT INTO people (username, full_name, locale, is_active, prefers_digest, created_at)
       SELECT 'focal' || id, 'Đầu mối ' || id, 'vi', true, false, now() FROM org_units WHERE kind = 'commune'""",
    """INSERT INTO role_assignments (person_id, unit_id, role, created_at)
       SELECT p.id, u.id, 'focal', now() FROM org_units u JOIN people p ON p.username = 'focal' || u.id""",
    # History: 70% of what was due by TODAY done, a fifth of those late.
    """UPDATE occurrences SET
         completed_on = CASE WHEN id % 5 = 0 THEN due_on + 4 ELSE due_on - 1 END,
         completed_at = (CASE WHEN id % 5 = 0 THEN due_on + 4 ELSE due_on - 1 END)::timestamp + INTERVAL '2 hours'
       WHERE due_on < DATE '2025-11-20' AND id % 10 < 7""",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    server = sa.engine.make_url(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"tracker_country_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _run(url)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}")


def _run(url: str) -> None:
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Occurrence, OrgUnit, Person, Role, RoleAssignment, StatusClock, UnitKind
    from tracker.operations.people import assign_role, create_person
    from tracker.operations.units import seed_units
    from tracker.queries import dashboard, listing

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        seed_units(None)
        db.session.commit()
        print(f"seed 34 provinces, 3,321 communes and their offices: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        for statement in _LOAD_SQL:
            db.session.execute(sa.text(statement))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        counts = {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
                  for m in (OrgUnit, Person, RoleAssignment, Occurrence)}
        print(f"bulk load {counts}: {time.perf_counter() - start:.1f} s")

        clock = StatusClock.for_day(TODAY)
        commune = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMUNE).order_by(OrgUnit.id))
        province = db.session.get(OrgUnit, commune.parent_id)
        country = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COUNTRY))
        chair = db.session.scalar(sa.select(Person).where(Person.username == f"u{commune.id}"))
        office = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id).order_by(OrgUnit.id))
        officer = db.session.scalar(sa.select(Person).where(Person.username == f"u{office.id}"))
        viewer = create_person(None, username="viewer.province", full_name="Sở")
        assign_role(None, viewer, province, Role.VIEWER)
        national = create_person(None, username="viewer.national", full_name="Bộ")
        assign_role(None, national, country, Role.VIEWER)
        db.session.commit()

        print(f"\nas of {TODAY:%d/%m/%Y}, {commune.name} ({province.name}):")
        _timed("chair: status counts", lambda: dashboard.status_counts(chair, clock))
        _timed("chair: overdue by unit", lambda: dashboard.overdue_by_unit(chair, clock))
        _timed("chair: timeliness by unit", lambda: dashboard.timeliness_by_unit(chair, clock))
        _timed("officer: my tasks", lambda: dashboard.my_tasks(officer, clock))
        _timed("province viewer: roll-up of the province", lambda: dashboard.rollup(viewer, clock, province))
        _timed("province viewer: status counts (whole province)", lambda: dashboard.status_counts(viewer, clock))
        _timed("national viewer: roll-up of 34 provinces", lambda: dashboard.rollup(national, clock, country),
               repeat=3)
        _timed("API: first page of a province's overdue occurrences",
               lambda: listing.list_occurrences(viewer, status="overdue", clock=clock, page=1, page_size=50))

        from tracker.jobs.sweep import run_sweep

        moment = datetime(2025, 11, 20, 1, 0, tzinfo=UTC)
        start = time.perf_counter()
        result = run_sweep(moment)
        db.session.commit()
        print(f"\nsweep as of 20/11/2025 08:00: {result.inserted} rows in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        again = run_sweep(moment)
        db.session.commit()
        print(f"the same sweep again: {again.inserted} rows in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
