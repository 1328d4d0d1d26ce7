"""Load the whole country and time the pages' queries, the API's lists and the reminder sweep (figures, not a test).

    .venv/bin/python bench/country_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres | --url sqlite]
        [--communes N] [--repeat 5] [--no-sweep] [--sweep-only] [--bundle-repeat 2] [--json PATH] [--keep]

Creates a throw-away database (PostgreSQL: a new database next to --url; SQLite: a temporary file, or the
file of --url sqlite:///PATH), migrates it and seeds the whole org tree: 34 provinces, 3,321 communes and
their ~60,000 offices (vietnam-provinces). The first --communes communes (all by default) then get one
plan each with four tasks per office (monthly, two quarterly, annual: ~1.25 million occurrences for 2025
at full size), an officer and a head per office, a chair and a focal officer per commune and per province
(~130,000 people), and a history as of 20/11/2025: 70% of what was due done (a fifth of it late), a report
for a tenth of the completed occurrences (some still waiting for review) with an indicator value each,
pending requests for more time, one indicator per plan with a yearly target.

Then times, as of 20/11/2025 (median and min over --repeat runs, with the rows each returns): the pages of
an officer, a commune chair and focal officer, a province viewer and a national viewer; the API's lists;
activating a 1,000-task plan (occurrence generation); and the reminder sweep (the first, catching up on
what came due within SWEEP_CATCH_UP_WORKING_DAYS; the same again, which queues nothing; Monday's, the
first reminders for 30/11). The first sweep is also timed with bundling off and on (rolled back, in
turns, --bundle-repeat times each), with the escalation e-mails it queues and the most one person gets;
the bundles are then checked against their items (each item in exactly one bundle).
--sweep-only skips the pages' and API's timings.
Prints the database size.
--communes 300 --url sqlite gives a reduced-size run on SQLite in about a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdb import throwaway_database

TODAY = date(2025, 11, 20)
SWEEP_AT = datetime(2025, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
RESULTS: list[dict[str, Any]] = []


def _rows(result: Any) -> int:
    """How many rows a query function returned (list items, an overdue group's rows, a page's items, a dict's keys)."""
    if result is None:
        return 0
    if hasattr(result, "items") and hasattr(result, "total"):
        return len(result.items)
    if isinstance(result, dict):
        return len(result)
    if isinstance(result, tuple):
        return sum(_rows(r) for r in result)
    if isinstance(result, list):
        return sum(len(r.rows) if hasattr(r, "rows") else 1 for r in result)
    return 1


def _total(result: Any) -> int | None:
    """What the rows stand for: a page's total, or the occurrences a dict of counts counted."""
    if hasattr(result, "items") and hasattr(result, "total"):
        return int(result.total)
    if isinstance(result, dict) and all(isinstance(v, int) for v in result.values()):
        return sum(result.values())
    return None


def _timed(label: str, fn: Callable[[], Any], repeat: int) -> Any:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    rows, total = _rows(result), _total(result)
    median, best = statistics.median(times) * 1000, min(times) * 1000
    extra = f"  (total {total:,})" if total is not None else ""
    print(f"{label:<62} {rows:>7,} rows {median:>9.1f} ms median {best:>9.1f} ms min{extra}", flush=True)
    RESULTS.append({"query": label, "rows": rows, "total": total, "median_ms": round(median, 1),
                    "min_ms": round(best, 1), "runs": repeat})
    return result


# --- The database -----------------------------------------------------------------------------------------

def _size(postgres: bool, url: str) -> str:
    from tracker.extensions import db

    if postgres:
        rows = db.session.execute(sa.text(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "pg_size_pretty(pg_total_relation_size('occurrences')), "
            "pg_size_pretty(pg_total_relation_size('notifications'))")).one()
        return f"database {rows[0]} (occurrences with indexes {rows[1]}, notifications {rows[2]})"
    path = sa.engine.make_url(url).database or ""
    size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    return f"database file {size / 2**20:,.0f} MB"


def _analyze(postgres: bool) -> None:
    from tracker.extensions import db

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # What autovacuum does on a live server: statistics and the visibility map (index-only scans).
        conn.exec_driver_sql("VACUUM (ANALYZE)" if postgres else "ANALYZE")


# --- The run ----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL, or sqlite / sqlite:///PATH")
    parser.add_argument("--communes", type=int, default=3321, help="communes with plans and people (of 3,321)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median and min are printed)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the reminder sweeps")
    parser.add_argument("--sweep-only", action="store_true", help="time only the sweeps (no pages, API, activation)")
    parser.add_argument("--bundle-repeat", type=int, default=2,
                        help="first sweeps with bundling off and on, each rolled back, before the timed ones")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = "sqlite://" if args.url == "sqlite" else args.url
    with throwaway_database(url, args.keep, prefix="tracker_country") as database_url:
        _run(database_url, args)
    if args.json:
        Path(args.json).write_text(json.dumps(RESULTS, ensure_ascii=False, indent=1))


def _run(url: str, args: argparse.Namespace) -> None:
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Occurrence, OrgUnit, Person, Plan, Role, StatusClock, UnitKind
    from tracker.operations.people import assign_role, create_person
    from tracker.synth import SynthSpec, describe, synthesize

    postgres = url.startswith("postgresql")
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        print(f"{'PostgreSQL' if postgres else 'SQLite'}, {args.communes:,} communes with plans, "
              f"{os.cpu_count()} cores, {datetime.now():%d/%m/%Y %H:%M}")
        upgrade()
        start = time.perf_counter()
        # The data are tracker.synth's (also `tracker synth`): the whole org tree, then the first N communes.
        loaded = synthesize(SynthSpec(communes=args.communes, year=TODAY.year, as_of=TODAY))
        elapsed = time.perf_counter() - start
        print(describe(loaded))
        RESULTS.append({"query": "synthesize", "rows": sum(loaded.rows.values()),
                        "median_ms": round(elapsed * 1000), "min_ms": round(elapsed * 1000), "runs": 1})
        _analyze(postgres)
        tables = ("org_units", "people", "role_assignments", "plans", "tasks", "occurrences", "reports",
                  "extension_requests", "indicator_values")
        counts = {t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
        print(f"bulk load in {time.perf_counter() - start:.1f} s: "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        print(_size(postgres, url))

        clock = StatusClock.for_day(TODAY)
        first = sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMUNE).order_by(OrgUnit.id)
        commune = db.session.scalar(first)
        province = db.session.get(OrgUnit, commune.parent_id)
        country = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COUNTRY))
        office = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id).order_by(OrgUnit.id))

        def person(username: str) -> Person:
            return db.session.scalar(sa.select(Person).where(Person.username == username))

        chair, focal, officer = person(f"u{commune.id}"), person(f"focal{commune.id}"), person(f"u{office.id}")
        viewer = create_person(None, username="viewer.province", full_name="Sở")
        assign_role(None, viewer, province, Role.VIEWER)
        national = create_person(None, username="viewer.national", full_name="Bộ")
        assign_role(None, national, country, Role.VIEWER)
        plan = db.session.scalar(sa.select(Plan).where(Plan.issuing_unit_id == commune.id))
        db.session.commit()
        if not args.sweep_only:
            _time_queries(args.repeat, clock, commune=commune, province=province, country=country, chair=chair,
                          focal=focal, officer=officer, viewer=viewer, national=national, plan=plan)
            _time_summaries(args.repeat, clock, province=province, country=country, chair=chair, viewer=viewer,
                            national=national)
            _time_activation(province)
        if not args.no_sweep:
            _materialise_sweep_rows(SWEEP_AT)
            _time_floor("floor of the first sweep: INSERT ... SELECT of its rows", args.bundle_repeat)
            _time_bundling(app, args.bundle_repeat)
            _time_sweeps(args.bundle_repeat)
        print(_size(postgres, url))
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Occurrence))
        print(f"occurrences {n:,}")
        db.session.remove()
        db.engine.dispose()


def _time_queries(repeat: int, clock: Any, **k: Any) -> None:
    from tracker.queries import dashboard, listing

    heavy = max(1, min(repeat, 3))
    chair, focal, officer, viewer, national = k["chair"], k["focal"], k["officer"], k["viewer"], k["national"]
    commune, province, country, plan = k["commune"], k["province"], k["country"], k["plan"]
    print(f"\nas of {TODAY:%d/%m/%Y}: {commune.name} ({province.name})")
    print("pages")
    _timed("officer: my tasks (/tasks)", lambda: dashboard.my_tasks(officer, clock), repeat)
    _timed("chair: status counts (/overview)", lambda: dashboard.status_counts(chair, clock), repeat)
    _timed("chair: overdue by unit (/overview)", lambda: dashboard.overdue_by_unit(chair, clock), repeat)
    _timed("chair: timeliness by unit (/overview)", lambda: dashboard.timeliness_by_unit(chair, clock), repeat)
    _timed("chair: pending extensions (/overview)", lambda: dashboard.pending_extensions(chair), repeat)
    _timed("focal: reports to review (/overview)", lambda: dashboard.reports_to_review(focal), repeat)
    _timed("chair: status counts of the commune (?unit=)",
           lambda: dashboard.status_counts(chair, clock, unit=commune), repeat)
    _timed("chair: plans (/plans)", lambda: dashboard.plans_list(chair, clock), repeat)
    _timed("chair: one plan's tasks (/plans/<id>)", lambda: dashboard.plan_tasks(chair, clock, plan), repeat)
    _timed("province viewer: roll-up of the province (/rollup)",
           lambda: dashboard.rollup(viewer, clock, province), repeat)
    _timed("province viewer: status counts of the province (/rollup)",
           lambda: dashboard.status_counts(viewer, clock, unit=province), repeat)
    _timed("province viewer: overdue of the province (/rollup/phu-luc)",
           lambda: dashboard.overdue_by_unit(viewer, clock, unit=province), repeat)
    _timed("province viewer: indicators of the province (/rollup)",
           lambda: dashboard.indicator_progress(viewer, province), repeat)
    _timed("province viewer: roll-up of one commune (/rollup?unit=)",
           lambda: dashboard.rollup(viewer, clock, commune), repeat)
    _timed("province viewer: status counts, whole scope (/overview)",
           lambda: dashboard.status_counts(viewer, clock), repeat)
    _timed("province viewer: timeliness by unit, whole scope (/overview)",
           lambda: dashboard.timeliness_by_unit(viewer, clock), repeat)
    _timed("province viewer: plans (/plans)", lambda: dashboard.plans_list(viewer, clock), repeat)
    _timed("national viewer: roll-up of 34 provinces (/rollup)",
           lambda: dashboard.rollup(national, clock, country), heavy)
    _timed("national viewer: status counts of the country (/rollup)",
           lambda: dashboard.status_counts(national, clock, unit=country), heavy)
    _timed("national viewer: indicators of the country (/rollup)",
           lambda: dashboard.indicator_progress(national, country), heavy)
    _timed("national viewer: plans (/plans)", lambda: dashboard.plans_list(national, clock), heavy)
    print("API (page_size 50)")
    _timed("GET /occurrences?status=overdue (province viewer)",
           lambda: listing.list_occurrences(viewer, status="overdue", clock=clock, page=1, page_size=50), repeat)
    _timed("GET /occurrences?unit_id=<commune> (chair)",
           lambda: listing.list_occurrences(chair, unit_id=commune.id, clock=clock, page=1, page_size=50), repeat)
    _timed("GET /occurrences (national viewer)",
           lambda: listing.list_occurrences(national, clock=clock, page=1, page_size=50), repeat)
    _timed("GET /occurrences?page=200 (national viewer)",
           lambda: listing.list_occurrences(national, clock=clock, page=200, page_size=50), repeat)
    _timed("GET /occurrences?status=due_soon (national viewer)",
           lambda: listing.list_occurrences(national, status="due_soon", clock=clock, page=1, page_size=50), repeat)
    _timed("GET /reports (province viewer)", lambda: listing.list_reports(viewer, page=1, page_size=50), repeat)
    _timed("GET /reports?review_status=submitted (focal)",
           lambda: listing.list_reports(focal, review_status="submitted", page=1, page_size=50), repeat)
    _timed("GET /extension-requests (province viewer)",
           lambda: listing.list_extension_requests(viewer, page=1, page_size=50), repeat)
    _timed("GET /plans (province viewer)", lambda: listing.list_plans(viewer, page=1, page_size=50), repeat)
    _timed("GET /plans (national viewer)", lambda: listing.list_plans(national, page=1, page_size=50), repeat)
    _timed("GET /plans/<id>/tasks (province viewer)",
           lambda: listing.list_tasks(viewer, plan, page=1, page_size=50), repeat)
    _timed("GET /units (national viewer)", lambda: listing.list_units(national, page=1, page_size=50), repeat)
    _timed("GET /indicators (province viewer)",
           lambda: listing.list_indicators(viewer, page=1, page_size=50), repeat)


@contextlib.contextmanager
def _live_only() -> Any:
    """The pages as the live query answers them: the summary's clock removed in a savepoint, rolled back after."""
    from tracker.extensions import db
    from tracker.models import SummaryClock

    savepoint = db.session.begin_nested()
    db.session.execute(sa.delete(SummaryClock))
    try:
        yield
    finally:
        savepoint.rollback()


def _time_summaries(repeat: int, clock: Any, **k: Any) -> None:
    """The overview and roll-ups read from the summaries (issue 12) beside the live query, and a full rebuild.

    Up to here the summaries were of the day the data were loaded (the real today), so the pages above read the
    live query; the rebuild makes them of 20/11/2025."""
    from tracker.extensions import db
    from tracker.operations import summaries
    from tracker.queries import dashboard

    heavy = max(1, min(repeat, 3))
    chair, viewer, national, province, country = (k["chair"], k["viewer"], k["national"], k["province"],
                                                  k["country"])
    print("summaries (tracker.operations.summaries)")
    start = time.perf_counter()
    written = summaries.rebuild(clock)
    db.session.commit()
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{'summaries: full rebuild (one INSERT ... SELECT, committed)':<62} {written:>7,} rows {elapsed:>9.1f} ms")
    RESULTS.append({"query": "summaries: full rebuild", "rows": written, "median_ms": round(elapsed, 1),
                    "min_ms": round(elapsed, 1), "runs": 1})
    pages = [
        ("chair overview: by unit, counts, timeliness (/overview)", repeat,
         lambda: (dashboard.summary_by_unit(chair, clock), dashboard.status_counts(chair, clock),
                  dashboard.timeliness_by_unit(chair, clock))),
        ("province roll-up: roll-up and counts (/rollup)", repeat,
         lambda: (dashboard.rollup(viewer, clock, province), dashboard.status_counts(viewer, clock, unit=province))),
        ("national roll-up: roll-up and counts (/rollup)", heavy,
         lambda: (dashboard.rollup(national, clock, country), dashboard.status_counts(national, clock, unit=country))),
        ("national status counts", heavy, lambda: dashboard.status_counts(national, clock, unit=country)),
    ]
    for label, runs, fn in pages:
        summary = _timed(f"summary: {label}", fn, runs)
        with _live_only():
            live = _timed(f"live: {label}", fn, runs)
        assert summary == live, label


def _time_activation(province: Any) -> None:
    """Activate a draft plan of 1,000 monthly tasks (12,000 occurrences), then roll it back."""
    from tracker.extensions import db
    from tracker.models import OrgUnit, Plan, PlanStatus, Task
    from tracker.operations.plans import activate_plan

    units = db.session.scalars(sa.select(OrgUnit.id).where(OrgUnit.subtree_clause(province.path),
                                                           OrgUnit.is_administrative.is_(False))
                               .order_by(OrgUnit.id).limit(1000)).all()
    plan = Plan(title="Kế hoạch tỉnh", issuing_unit_id=province.id, year=2025, period_start_on=date(2025, 1, 1),
                period_end_on=date(2025, 12, 31), status=PlanStatus.DRAFT)
    db.session.add(plan)
    db.session.flush()
    db.session.execute(sa.insert(Task), [
        {"plan_id": plan.id, "title": f"Báo cáo tháng {i}", "lead_unit_id": u, "recurrence": "monthly",
         "position": i} for i, u in enumerate(units)])
    db.session.commit()
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    start = time.perf_counter()
    created = activate_plan(None, plan)
    db.session.flush()
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{f'activate a plan of {len(units):,} monthly tasks':<62} {created:>7,} rows {elapsed:>9.1f} ms")
    RESULTS.append({"query": "activate_plan (1,000 monthly tasks)", "rows": created, "median_ms": round(elapsed, 1),
                    "min_ms": round(elapsed, 1), "runs": 1})
    db.session.rollback()
    db.session.execute(sa.delete(Task).where(Task.plan_id == plan.id))
    db.session.execute(sa.delete(Plan).where(Plan.id == plan.id))
    db.session.commit()


def _outgoing_email(now: datetime) -> dict[str, int]:
    """What the sweep at `now` queued for e-mail: escalation messages (bundles count once), per person."""
    from tracker.extensions import db
    from tracker.models import Notification, NotificationKind

    n = Notification.__table__
    fresh = [n.c.created_at == now, n.c.channel == "email"]
    # A message is a bundle, or an item no bundle carries; an escalation message has an escalation level.
    message = sa.or_(n.c.kind == NotificationKind.BUNDLE.value, n.c.digest_id.is_(None))
    per_person = (
        sa.select(n.c.recipient_id, sa.func.count().label("k"))
        .where(*fresh, message, n.c.escalation_level > 0, n.c.kind != NotificationKind.DIGEST.value)
        .group_by(n.c.recipient_id).subquery()
    )
    row = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(per_person.c.k), 0),
                                       sa.func.count(), sa.func.coalesce(sa.func.max(per_person.c.k), 0))).one()
    every = (
        sa.select(n.c.recipient_id, n.c.channel, sa.func.count().label("k"))
        .where(n.c.created_at == now, message).group_by(n.c.recipient_id, n.c.channel).subquery()
    )
    bundles = n.alias("bundle")
    items = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(n.c.digest_id)))
        .select_from(n.join(bundles, bundles.c.id == n.c.digest_id))
        .where(n.c.created_at == now, bundles.c.kind == NotificationKind.BUNDLE.value)
    ).one()
    return {"escalation_emails": int(row[0]), "escalated_people": int(row[1]), "max_per_person": int(row[2]),
            "max_messages_per_person_and_channel": int(db.session.scalar(sa.select(sa.func.max(every.c.k))) or 0),
            "bundled_items": int(items[0]), "bundles_with_items": int(items[1])}


def _time_bundling(app: Any, repeat: int) -> None:
    """The first sweep without and with bundling, rolled back after each run, in turns (cache effects even out)."""
    from tracker.extensions import db
    from tracker.jobs.sweep import run_sweep
    from tracker.models import Notification, NotificationKind

    print("first sweep, bundling off and on (each rolled back)")
    times: dict[bool, list[float]] = {False: [], True: []}
    figures: dict[bool, dict[str, int]] = {}
    for _ in range(max(1, repeat)):
        for enabled in (False, True):
            app.config["BUNDLE_ENABLED"] = enabled
            start = time.perf_counter()
            result = run_sweep(SWEEP_AT)
            db.session.flush()
            times[enabled].append((time.perf_counter() - start) * 1000)
            figures[enabled] = {"rows": result.inserted, "bundles": result.bundles, **_outgoing_email(SWEEP_AT)}
            if enabled:
                n = Notification.__table__
                # Every item of the sweep's bundled groups is carried, by exactly one bundle (one digest_id).
                bundles = db.session.scalar(sa.select(sa.func.count()).where(
                    n.c.created_at == SWEEP_AT, n.c.kind == NotificationKind.BUNDLE.value))
                assert figures[True]["bundles_with_items"] == bundles == result.bundles, (bundles, figures[True])
                assert figures[True]["bundled_items"] == result.bundled
            db.session.rollback()
    app.config["BUNDLE_ENABLED"] = True
    for enabled in (False, True):
        label = f"first sweep, bundling {'on' if enabled else 'off'}"
        f = figures[enabled]
        print(f"{label:<30} {statistics.median(times[enabled]):>9.1f} ms (min {min(times[enabled]):.1f}); "
              f"{f['rows']:,} rows; {f['escalation_emails']:,} escalation e-mails to {f['escalated_people']:,} "
              f"people, at most {f['max_per_person']:,} each; at most {f['max_messages_per_person_and_channel']:,} "
              f"messages per person and channel; {f['bundles']:,} bundles carrying {f['bundled_items']:,} rows",
              flush=True)
        RESULTS.append({"query": label, "rows": f["rows"], "median_ms": round(statistics.median(times[enabled]), 1),
                        "min_ms": round(min(times[enabled]), 1), "runs": len(times[enabled]), **f})


def _time_sweeps(repeat: int) -> None:
    from tracker.extensions import db
    from tracker.jobs.sweep import run_sweep

    print("reminder sweep")
    for label, moment in (("sweep 20/11/2025 08:00 (first: catching up the horizon)", SWEEP_AT),
                          ("the same sweep again (nothing new)", SWEEP_AT),
                          ("sweep 24/11/2025 08:00 (Monday: -5 for 30/11)", SWEEP_AT + timedelta(days=4))):
        runs = max(1, repeat) if "again" in label else 1
        times = []
        for _ in range(runs):  # the no-op sweep changes nothing: it can run several times
            start = time.perf_counter()
            result = run_sweep(moment)
            db.session.commit()
            times.append((time.perf_counter() - start) * 1000)
        elapsed = statistics.median(times)
        print(f"{label:<62} {result.inserted:>7,} rows {elapsed:>9.1f} ms  "
              f"({result.occurrences:,} occurrences {result.by_rule}; {result.bundles:,} bundles carrying "
              f"{result.bundled:,})", flush=True)
        RESULTS.append({"query": label, "rows": result.inserted, "median_ms": round(elapsed, 1),
                        "min_ms": round(min(times), 1), "runs": runs})
        if "first" in label:
            _time_floor("floor of the no-op sweep: the same INSERT ... SELECT again (every row a conflict)", repeat,
                        rollback=False)


FLOOR_TABLE = "sweep_floor_rows"


def _materialise_sweep_rows(now: datetime) -> int:
    """Compute the first sweep's outbox rows once, with the sweep's own SELECT, into a scratch table (untimed)."""
    from flask import current_app

    from tracker.extensions import db
    from tracker.jobs.sweep import _COLUMNS, build_insert, due_rules
    from tracker.operations.reminders import enabled_channels, ensure_default_policy, work_calendar
    from tracker.sqlutil import dialect_name

    postgres = dialect_name(db.session) == "postgresql"
    calendar = work_calendar()
    default = ensure_default_policy()  # as the sweep does, before reading the rules
    db.session.flush()
    rules = due_rules(calendar, calendar.local_today(now), int(current_app.config["SWEEP_CATCH_UP_WORKING_DAYS"]))
    select = build_insert(rules, default_policy_id=default.id, now=now,
                          next_window=calendar.next_sending_time(now), channels=enabled_channels(current_app.config),
                          postgres=postgres)
    db.session.execute(sa.text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
    db.session.execute(sa.text(f"CREATE TABLE {FLOOR_TABLE} AS SELECT {', '.join(_COLUMNS)} FROM notifications "
                               "WHERE 1 = 0"))
    scratch = sa.Table(FLOOR_TABLE, sa.MetaData(), *[sa.Column(c) for c in _COLUMNS])
    db.session.execute(sa.insert(scratch).from_select(_COLUMNS, select))
    db.session.commit()
    _analyze(postgres)
    rows = int(db.session.scalar(sa.text(f"SELECT count(*) FROM {FLOOR_TABLE}")) or 0)
    print(f"the first sweep's rows, materialised for the floor: {rows:,}")
    return rows


def _time_floor(label: str, repeat: int, *, rollback: bool = True) -> None:
    """The floor: a plain INSERT INTO notifications ... SELECT of the sweep's rows (same table, indexes, foreign
    keys, ON CONFLICT DO NOTHING), from the scratch table, with nothing to compute. Rolled back after each run."""
    from tracker.extensions import db
    from tracker.jobs.sweep import _COLUMNS
    from tracker.models import Notification
    from tracker.sqlutil import insert_ignoring_conflicts

    scratch = sa.Table(FLOOR_TABLE, sa.MetaData(), *[sa.Column(c) for c in _COLUMNS])
    insert = insert_ignoring_conflicts(db.session, Notification.__table__, ["dedupe_key"]).from_select(
        _COLUMNS, sa.select(*[scratch.c[c] for c in _COLUMNS]))  # type: ignore[arg-type]
    count = sa.select(sa.func.count()).select_from(Notification.__table__)
    times, rows = [], 0
    for _ in range(max(1, repeat)):
        before = db.session.scalar(count) or 0
        start = time.perf_counter()
        db.session.execute(insert)
        times.append((time.perf_counter() - start) * 1000)
        rows = (db.session.scalar(count) or 0) - before  # drivers give no row count for INSERT ... SELECT
        db.session.rollback() if rollback else db.session.commit()
    median = statistics.median(times)
    print(f"{label:<62} {rows:>7,} rows {median:>9.1f} ms (min {min(times):.1f})", flush=True)
    RESULTS.append({"query": label, "rows": rows, "median_ms": round(median, 1), "min_ms": round(min(times), 1),
                    "runs": len(times)})


if __name__ == "__main__":
    main()
