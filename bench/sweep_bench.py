"""Benchmark the reminder sweep and the dispatcher on PostgreSQL (prints figures; not a test).

    .venv/bin/python bench/sweep_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--communes 500] [--tasks-per-commune 400] [--emails 2000] [--keep]

Creates a throw-away database next to the one in --url, migrates it, loads a province of communes
(each with a health station, an officer, a unit head, a focal officer and a chair; a district focal per
district) and communes x tasks occurrences due within +-120 days of 18/9/2024 (a third of them done),
then times: the first sweep (what is due at 08:00 on 18/9/2024), the same sweep again (nothing new), the
next day's sweep, the in-app delivery, and e-mail dispatch batches to an SMTP sink on loopback.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 9, 18, 8, 0, tzinfo=VN)


class _Sink:
    """Count messages; accept everything."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def _seed(engine: sa.Engine, communes: int, tasks_per_commune: int) -> dict[str, int]:
    """Bulk-load the org tree, people, plans, tasks and occurrences with explicit ids."""
    districts = max(1, communes // 50)
    units: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    now = datetime.now(UTC)

    def unit(uid: int, parent: dict[str, Any] | None, name: str, kind: str, admin: bool) -> dict[str, Any]:
        path = (parent["path"] if parent else "/") + f"{uid}/"
        row = {"id": uid, "parent_id": parent["id"] if parent else None, "name": name, "kind": kind,
               "is_administrative": admin, "path": path, "depth": path.count("/") - 2,
               "admin_unit_id": uid if admin else (parent["admin_unit_id"] if parent else None),
               "is_archived": False, "created_at": now}
        units.append(row)
        return row

    def person(pid: int, role: str, unit_id: int) -> None:
        people.append({"id": pid, "username": f"u{pid}", "full_name": f"Người {pid}", "email": f"u{pid}@example.org",
                       "locale": "vi", "is_active": True, "prefers_digest": pid % 10 == 0, "created_at": now})
        roles.append({"person_id": pid, "unit_id": unit_id, "role": role, "created_at": now})

    next_id = iter(range(1, 10_000_000))
    province = unit(next(next_id), None, "Tỉnh Đo Tải", "province", True)
    health_units: list[tuple[int, int]] = []  # (health station, commune)
    pid = iter(range(1, 10_000_000))
    for d in range(districts):
        district = unit(next(next_id), province, f"Huyện {d}", "district", True)
        person(next(pid), "focal", district["id"])
        for c in range(communes // districts):
            commune = unit(next(next_id), district, f"Xã {d}-{c}", "commune", True)
            health = unit(next(next_id), commune, "Trạm Y tế", "health_station", False)
            health_units.append((health["id"], commune["id"]))
            person(next(pid), "officer", health["id"])
            person(next(pid), "unit_head", health["id"])
            person(next(pid), "focal", commune["id"])
            person(next(pid), "chair", commune["id"])
    from tracker.models import OrgUnit, Person, RoleAssignment

    with engine.begin() as conn:
        conn.execute(sa.insert(OrgUnit.__table__), units)
        conn.execute(sa.insert(Person.__table__), people)
        conn.execute(sa.insert(RoleAssignment.__table__), roles)
        plans = [{"id": i + 1, "title": f"Kế hoạch {i}", "number": f"{i}/KH-UBND", "issuing_unit_id": commune,
                  "status": "active", "year": 2024, "created_at": now}
                 for i, (_health, commune) in enumerate(health_units)]
        conn.execute(sa.text(
            "INSERT INTO plans (id, title, number, issuing_unit_id, status, year, created_at) "
            "VALUES (:id, :title, :number, :issuing_unit_id, :status, :year, :created_at)"), plans)
        conn.execute(sa.text("CREATE TEMP TABLE bench_units (plan_id int, health_id int, commune_id int)"))
        conn.execute(sa.text("INSERT INTO bench_units VALUES (:p, :h, :c)"),
                     [{"p": i + 1, "h": h, "c": c} for i, (h, c) in enumerate(health_units)])
        conn.execute(sa.text(f"""
            INSERT INTO tasks (plan_id, title, lead_unit_id, report_to_unit_id, due_on, status, position, created_at)
            SELECT b.plan_id, 'Nhiệm vụ ' || g, b.health_id, b.commune_id,
                   DATE '2024-09-18' + ((g * 37 + b.plan_id) % 241 - 120), 'active', g, now()
            FROM bench_units b CROSS JOIN generate_series(1, {int(tasks_per_commune)}) AS g
        """))
        conn.execute(sa.text("""
            INSERT INTO occurrences (task_id, lead_unit_id, period_key, due_on, original_due_on, completed_at,
                                     completed_on, escalation_level, created_at)
            SELECT t.id, t.lead_unit_id, t.due_on::text, t.due_on, t.due_on,
                   CASE WHEN t.id % 3 = 0 AND t.due_on < DATE '2024-09-18'
                        THEN (t.due_on - 1)::timestamp AT TIME ZONE 'UTC' END,
                   CASE WHEN t.id % 3 = 0 AND t.due_on < DATE '2024-09-18' THEN t.due_on - 1 END,
                   0, now()
            FROM tasks t
        """))
        for table in ("org_units", "people", "plans"):
            conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(sa.text("ANALYZE"))
        counts = {name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
                  for name in ("org_units", "people", "tasks", "occurrences")}
        counts["open_occurrences"] = conn.execute(
            sa.text("SELECT count(*) FROM occurrences WHERE completed_at IS NULL")).scalar_one()
    return counts


def _timed(label: str, fn: Any) -> Any:
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed * 1000:>9.0f} ms")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--communes", type=int, default=500)
    parser.add_argument("--tasks-per-commune", type=int, default=400)
    parser.add_argument("--emails", type=int, default=2000, help="e-mails to send in the dispatch measurement")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    from benchdb import local_smtp, throwaway_database
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.jobs.sweep import run_sweep
    from tracker.models import Notification
    from tracker.notify.dispatcher import Dispatcher, DispatchSettings, app_channels
    from tracker.operations.reminders import work_calendar

    sink = _Sink()
    with throwaway_database(args.url, args.keep) as url, local_smtp(sink) as port:
        database = sa.engine.make_url(url).database
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "127.0.0.1",
                          "MAIL_PORT": port, "MAIL_SUPPRESS_SEND": False, "TESTING": False})
        # One log line per e-mail sent would bury the figures.
        logging.getLogger("tracker.notify").setLevel(logging.WARNING)
        with app.app_context():
            upgrade()
            print(f"database {database}: loading {args.communes} communes x {args.tasks_per_commune} tasks ...")
            counts, _ = _timed("load", lambda: _seed(db.engine, args.communes, args.tasks_per_commune))
            print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            calendar = work_calendar()

            def sweep(at: datetime) -> Any:
                result = run_sweep(at, calendar=calendar)
                db.session.commit()
                return result

            first, t_first = _timed("sweep 18/9 08:00 (first)", lambda: sweep(NOW))
            print(f"  inserted {first.inserted:,} rows for {first.occurrences:,} occurrences: {first.by_rule}")
            again, t_again = _timed("sweep 18/9 08:00 again (nothing new)", lambda: sweep(NOW))
            print(f"  inserted {again.inserted}")
            nxt, t_next = _timed("sweep 19/9 08:00 (next day)", lambda: sweep(NOW + timedelta(days=1)))
            print(f"  inserted {nxt.inserted:,}: {nxt.by_rule}")

            dispatcher = Dispatcher({}, calendar, DispatchSettings.from_config(app.config))
            dispatch_at = NOW + timedelta(days=1, minutes=1)
            skipped, _ = _timed("skip superseded / closed (set-based)",
                                lambda: (dispatcher.skip_useless(dispatch_at), db.session.commit())[0])
            print(f"  skipped {skipped:,}")
            delivered, t_inapp = _timed("deliver in-app (set-based)",
                                        lambda: (dispatcher.deliver_in_app(dispatch_at), db.session.commit())[0])
            print(f"  delivered {delivered:,} in-app messages ({delivered / max(t_inapp, 1e-9):,.0f}/s)")

            pending_email = db.session.scalar(sa.select(sa.func.count()).where(
                Notification.channel == "email", Notification.status == "pending"))
            print(f"  e-mail rows pending: {pending_email:,}")
            settings = DispatchSettings(batch_size=200, max_batches=max(1, args.emails // 200),
                                        base_url="https://tracker.example.vn")
            with app_channels(app) as channels:
                email_dispatcher = Dispatcher(channels, calendar, settings)
                claims = []
                for _ in range(5):
                    # The claim alone (an UPDATE ... FOR UPDATE SKIP LOCKED of 200 rows), rolled back so
                    # that the run below finds the same rows due.
                    started = time.perf_counter()
                    claimed = email_dispatcher.claim(dispatch_at, 200)
                    claims.append(time.perf_counter() - started)
                    db.session.rollback()
                print(f"{'claim 200 rows (median of 5, rolled back)':<44} {statistics.median(claims) * 1000:>9.1f} ms"
                      f"  ({len(claimed)} rows each)")
                before = sink.count
                result, t_send = _timed(f"dispatch run (up to {args.emails} e-mails, SMTP sink)",
                                        lambda: email_dispatcher.run(dispatch_at))
                sent = sink.count - before
                print(f"  sent {result.sent:,} ({sent:,} received by SMTP): {sent / max(t_send, 1e-9):,.0f} e-mails/s"
                      f" incl. rendering; failed {result.failed}, dead {result.dead}")
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
            size = db.session.execute(sa.text(
                "SELECT pg_size_pretty(pg_database_size(current_database())), "
                "pg_size_pretty(pg_total_relation_size('notifications'))")).one()
            print(f"outbox rows: {total:,}; database {size[0]} (notifications with indexes {size[1]})")
            print(f"SUMMARY occurrences={counts['occurrences']} open={counts['open_occurrences']} "
                  f"first_sweep_ms={t_first * 1000:.0f} repeat_sweep_ms={t_again * 1000:.0f} "
                  f"next_day_sweep_ms={t_next * 1000:.0f} inserted={first.inserted} "
                  f"email_per_s={sent / max(t_send, 1e-9):.0f}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
