"""Benchmark the periodic report (prints figures; not a test).

    .venv/bin/python bench/report_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres | --url sqlite]
        [--communes 100] [--noise-communes 1000] [--repeat 3] [--keep]

Creates a throw-away database (a temporary SQLite file, or a new database next to the PostgreSQL URL, dropped
at the end), migrates it and bulk-loads: a province of --communes communes (each with its 18 offices and five
villages, a chair and an officer) and a department (Sở LĐTB&XH) whose plan gives 12 quarterly tasks to every
commune ("UBND các xã", fanned out) over 2023-2025, with reports (most accepted, some waiting, a few returned),
figures for four indicators, targets for the province and each commune, and approved extensions; every commune
has its own plan of 30 tasks for its offices and villages (two fanned out to the villages), with reports and
figures. --noise-communes more communes in another province, with the same plans, make the tables large
without touching the reports measured.

Then times, as the median of --repeat runs after one warm-up (a web process that has served the page before),
and once cold: a commune's plan report (the content, the .docx, the .xlsx) for 2025-H1 and 2025, and the
province's roll-up over its communes for 2025 and 2025-H1. Peak Python memory (tracemalloc) during each is
printed next to the size of the tables: a report reads its plan and period, never a whole table.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2025, 11, 20)
YEARS = (2023, 2024, 2025)
INDICATORS = (("Số hộ nghèo", "hộ", "at_most"), ("Tỷ lệ hộ nghèo", "%", "at_most"),
              ("Số lao động được hỗ trợ việc làm", "người", "at_least"),
              ("Tỷ lệ người nghèo tham gia bảo hiểm y tế", "%", "at_least"))
BODY = ("Đơn vị đã triển khai đầy đủ các nội dung được giao: rà soát hộ nghèo, hộ cận nghèo; hỗ trợ vay vốn "
        "ưu đãi; tổ chức tuyên truyền tại các thôn; phối hợp với Trạm Y tế cấp thẻ bảo hiểm y tế. Kỳ {n}.")


def _at(day: date) -> datetime:
    return datetime.combine(day, dtime(9), tzinfo=UTC) - timedelta(hours=7)


def _quarter_end(year: int, quarter: int) -> date:
    month = 3 * quarter
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


class Loader:
    """Rows with explicit ids, inserted in chunks through the models' tables (defaults applied by Core)."""

    def __init__(self, conn: sa.Connection) -> None:
        from tracker import models

        self.conn = conn
        self.m = models
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.ids: dict[str, Iterator[int]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: str, **row: Any) -> int:
        if "id" not in row and table not in ("role_assignments",):
            row["id"] = next(self.ids.setdefault(table, iter(range(1, 10**9))))
        self.rows.setdefault(table, []).append(row)
        if len(self.rows[table]) >= 20_000:
            self.flush()  # every table, in order: the rows referred to go first
        return int(row.get("id", 0))

    def flush(self, only: str | None = None) -> None:
        order = ["org_units", "people", "role_assignments", "plans", "plan_sections", "tasks", "indicators",
                 "indicator_targets", "occurrences", "reports", "indicator_values", "extension_requests"]
        for table in order:
            if only is not None and table != only:
                continue
            rows = self.rows.pop(table, [])
            keys = {k for row in rows for k in row}  # one statement for all: every row names every column
            rows = [{k: row.get(k) for k in keys} for row in rows]
            if rows:
                self.conn.execute(sa.insert(self.m.Base.metadata.tables[table]), rows)
                self.counts[table] = self.counts.get(table, 0) + len(rows)


def _seed(engine: sa.Engine, communes: int, noise: int) -> dict[str, Any]:
    from tracker.operations.units import COMMUNE_INTERNAL_UNITS

    now = datetime.now(UTC)
    with engine.begin() as conn:
        load = Loader(conn)
        unit_paths: dict[int, str] = {}

        def unit(parent: int | None, name: str, kind: str, admin: bool, admin_unit: int | None = None) -> int:
            uid = next(load.ids.setdefault("org_units", iter(range(1, 10**9))))
            path = (unit_paths[parent] if parent else "/") + f"{uid}/"
            unit_paths[uid] = path
            load.add("org_units", id=uid, parent_id=parent, name=name, kind=kind, is_administrative=admin, path=path,
                     depth=path.count("/") - 2, admin_unit_id=uid if admin else admin_unit, is_archived=False,
                     created_at=now)
            return uid

        def person(username: str, role: str, unit_id: int, title: str = "") -> int:
            pid = load.add("people", username=username, full_name=f"Người {username}", title=title or None,
                           email=f"{username}@example.org", locale="vi", is_active=True, prefers_digest=False,
                           created_at=now)
            load.add("role_assignments", person_id=pid, unit_id=unit_id, role=role, created_at=now)
            return pid

        country = unit(None, "Việt Nam", "country", True)
        load.flush("org_units")
        out: dict[str, Any] = {}
        for province_index, (province_name, count) in enumerate((("Tỉnh Đo Tải", communes),
                                                                 ("Tỉnh Nền", noise))):
            if count == 0:
                continue
            province = unit(country, province_name, "province", True)
            department = unit(province, "Sở Lao động - Thương binh và Xã hội", "department", False, province)
            focal = person(f"sldtbxh{province_index}", "focal", department, "Giám đốc Sở")
            viewer = person(f"tinh{province_index}", "viewer", province, "Chuyên viên")
            commune_ids, villages_of, offices_of, officers = [], {}, {}, {}
            for c in range(count):
                commune = unit(province, f"Xã {province_index}-{c:04d}", "commune", True)
                commune_ids.append(commune)
                offices_of[commune] = [unit(commune, name, kind.value, False, commune)
                                       for name, kind in COMMUNE_INTERNAL_UNITS]
                villages_of[commune] = [unit(commune, f"Thôn {v}", "village", False, commune) for v in range(1, 6)]
                person(f"chutich{province_index}-{c}", "chair", commune, "Chủ tịch UBND xã")
                officers[commune] = person(f"canbo{province_index}-{c}", "officer", commune, "Công chức")
            load.flush("org_units")
            load.flush("people")
            load.flush("role_assignments")
            _province_plan(load, province, department, focal, commune_ids, officers, now)
            for commune in commune_ids:
                _commune_plan(load, commune, offices_of[commune], villages_of[commune], officers[commune], now)
            if province_index == 0:
                out.update(province=province, department=department, viewer=viewer, commune=commune_ids[0],
                           chair="chutich0-0")
        load.flush()
        if engine.dialect.name == "postgresql":
            for table in ("org_units", "people", "plans", "plan_sections", "tasks", "indicators", "indicator_targets",
                          "occurrences", "reports", "indicator_values", "extension_requests"):
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(sa.text("ANALYZE"))
        out["counts"] = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                         for t in ("org_units", "tasks", "occurrences", "reports", "indicator_values")}
    return out


def _indicators(load: Loader, plan: int, target_units: list[int], now: datetime) -> list[int]:
    ids = []
    for name, uom, comparator in INDICATORS:
        indicator = load.add("indicators", plan_id=plan, name=name, unit_of_measure=uom,
                             direction="decrease" if comparator == "at_most" else "increase", created_at=now)
        ids.append(indicator)
        for unit_id in target_units:
            for year in YEARS:
                value = 3.0 if uom == "%" else 40.0 * (len(target_units) if unit_id == target_units[0] else 1)
                load.add("indicator_targets", indicator_id=indicator, unit_id=unit_id, year=year, value=value,
                         comparator=comparator)
    return ids


def _occurrences(load: Loader, task: int, lead: int, officer: int, dues: list[tuple[str, str, date, date, date]],
                 seed: int, now: datetime, values: list[int] | None = None) -> None:
    """The task's occurrences: most done on time, some late, some open; reports (accepted, waiting, returned)."""
    for n, (key, label, start, end, due) in enumerate(dues):
        h = (seed * 7919 + n * 104729) % 100
        original, extended = due, h in (41, 42)
        if extended:
            due = due + timedelta(days=20)
        done = (due <= TODAY and h < 85) or (due > TODAY and h < 10)
        late = done and 70 <= h < 85
        returned = not done and due <= TODAY and h >= 95
        completed_on = (due + timedelta(days=6)) if late else (due - timedelta(days=2))
        occ = load.add("occurrences", task_id=task, lead_unit_id=lead, period_key=key, period_label=label,
                       period_start_on=start, period_end_on=end, due_on=due, original_due_on=original,
                       completed_at=_at(completed_on) if done else None, completed_on=completed_on if done else None,
                       completed_by_id=officer if done else None, escalation_level=0, created_at=now)
        if extended:
            load.add("extension_requests", occurrence_id=occ, requested_by_id=officer, requested_due_on=due,
                     reason="Chờ số liệu rà soát của các thôn", status="approved", decided_at=_at(original),
                     created_at=_at(original - timedelta(days=3)))
        if done or returned:
            submitted = completed_on if done else due - timedelta(days=1)
            report = load.add("reports", occurrence_id=occ, submitted_by_id=officer, submitted_at=_at(submitted),
                              submitted_on=submitted, body=BODY.format(n=label), is_late=late,
                              review_status="returned" if returned else ("submitted" if h < 12 else "accepted"),
                              reviewed_at=_at(submitted + timedelta(days=2)) if h >= 12 or returned else None,
                              review_comment="Bổ sung số liệu" if returned else None)
            if done and values:
                for i, indicator in enumerate(values):
                    value = (2.0 + (h % 20) / 10) if INDICATORS[i][1] == "%" else float(30 + h % 15)
                    load.add("indicator_values", indicator_id=indicator, unit_id=lead, report_id=report,
                             year=end.year, value=value, reported_at=_at(submitted))


def _province_plan(load: Loader, province: int, department: int, focal: int, communes: list[int],
                   officers: dict[int, int], now: datetime) -> None:
    plan = load.add("plans", number="15/KH-SLĐTBXH", title="Kế hoạch thực hiện Chương trình giảm nghèo bền vững "
                    "giai đoạn 2023-2025 trên địa bàn tỉnh", issuing_unit_id=department, focal_unit_id=department,
                    issued_on=date(2023, 2, 10), year=2023, period_start_on=date(2023, 1, 1),
                    period_end_on=date(2025, 12, 31), status="active", created_by_id=focal, activated_at=now,
                    created_at=now)
    indicators = _indicators(load, plan, [province, *communes], now)
    dues = [(f"{y}-Q{q}", f"Quý {q} năm {y}", date(y, 3 * q - 2, 1), _quarter_end(y, q),
             _quarter_end(y, q) + timedelta(days=10)) for y in YEARS for q in (1, 2, 3, 4)]
    for s in range(1, 13):
        section = load.add("plan_sections", plan_id=plan, code=f"III.{s}", title=None, position=s)
        for c, commune in enumerate(communes):
            task = load.add("tasks", plan_id=plan, section_id=section, title=f"Triển khai nội dung {s} của Chương "
                            "trình giảm nghèo bền vững trên địa bàn xã", lead_unit_id=commune,
                            report_to_unit_id=department, recurrence="quarterly", status="active", position=s,
                            import_meta={"fanout": {"kind": "commune", "phrase": "UBND các xã",
                                                    "count": len(communes), "index": c + 1}},
                            created_at=now)
            _occurrences(load, task, commune, officers[commune], dues, task, now,
                         indicators if s == 1 else None)


def _commune_plan(load: Loader, commune: int, offices: list[int], villages: list[int], officer: int,
                  now: datetime) -> None:
    plan = load.add("plans", number="56/KH-UBND", title="Kế hoạch thực hiện mục tiêu giảm nghèo năm 2025",
                    issuing_unit_id=commune, issued_on=date(2025, 1, 15), year=2025,
                    period_start_on=date(2024, 1, 1), period_end_on=date(2025, 12, 31), status="active",
                    activated_at=now, created_at=now)
    indicators = _indicators(load, plan, [commune], now)
    halves = [(f"{y}-H{h}", f"6 tháng {'đầu' if h == 1 else 'cuối'} năm {y}", date(y, 1 if h == 1 else 7, 1),
               date(y, 6 if h == 1 else 12, 30 if h == 1 else 31), date(y, 6 if h == 1 else 12, 30 if h == 1 else 31))
              for y in (2024, 2025) for h in (1, 2)]
    position = 0
    for s in range(1, 29):
        section = load.add("plan_sections", plan_id=plan, code=f"III.2.{s}", title=None, position=s)
        leads = villages if s in (27, 28) else [offices[s % len(offices)]]
        for lead in leads:
            position += 1
            task = load.add("tasks", plan_id=plan, section_id=section, title=f"Thực hiện nhiệm vụ {s} của Kế hoạch "
                            "giảm nghèo", lead_unit_id=lead, report_to_unit_id=commune, recurrence="semiannual",
                            status="active", position=position, created_at=now)
            _occurrences(load, task, lead, officer, halves, task + commune, now,
                         indicators[:2] if s == 28 else None)


def _found(communes: int) -> dict[str, Any]:
    """What `_seed` returned, read back from a kept database."""
    from tracker.extensions import db
    from tracker.models import OrgUnit, Person

    province = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == "Tỉnh Đo Tải"))
    department = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.parent_id == province,
                                                               OrgUnit.kind == "department"))
    commune = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == "Xã 0-0000"))
    viewer = db.session.scalar(sa.select(Person.id).where(Person.username == "tinh0"))
    return {"province": province, "department": department, "commune": commune, "viewer": viewer,
            "chair": "chutich0-0"}


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """(cold seconds, median warm seconds, peak MiB of Python memory, result): the first run is timed, a second
    one traced for memory (tracing slows it), then `repeat` runs are timed."""
    started = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - started
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm), peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL, or 'sqlite'")
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--noise-communes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", default=None, help="time against a database kept by --keep (PostgreSQL)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.clock import status_clock
    from tracker.extensions import db
    from tracker.models import OrgUnit, Person, Plan
    from tracker.reports import docx_bytes, draft, xlsx_bytes

    admin, name, tmp = None, None, None
    if args.url == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.db"
    else:
        server = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
        name = args.reuse or f"tracker_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(sa.engine.make_url(server), isolation_level="AUTOCOMMIT")
        if args.reuse:
            args.keep = True
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
        with app.app_context():
            if args.reuse:
                seeded = _found(args.communes)
            else:
                upgrade()
                print(f"loading {args.communes} communes (+{args.noise_communes} elsewhere) on "
                      f"{db.engine.dialect.name}")
                started = time.perf_counter()
                seeded = _seed(db.engine, args.communes, args.noise_communes)
                print(f"  loaded in {time.perf_counter() - started:.1f} s: "
                      + ", ".join(f"{k} {v:,}" for k, v in seeded["counts"].items()))
            clock = status_clock(TODAY)
            chair = db.session.scalar(sa.select(Person).where(Person.username == seeded["chair"]))
            viewer = db.session.get(Person, seeded["viewer"])
            commune_plan = db.session.scalar(sa.select(Plan).where(Plan.issuing_unit_id == seeded["commune"]))
            province_plan = db.session.scalar(sa.select(Plan).where(Plan.issuing_unit_id == seeded["department"]))
            province = db.session.get(OrgUnit, seeded["province"])

            def case(label: str, person: Person, plan: Plan, period: str, rollup: OrgUnit | None) -> None:
                def content() -> Any:
                    db.session.expire_all()
                    return draft(person, period=period, clock=clock, plan=plan, rollup_unit=rollup)

                c_cold, c_warm, c_peak, built = _timed(content, args.repeat)
                d_cold, d_warm, d_peak, data = _timed(lambda: docx_bytes(built), args.repeat)
                _, x_warm, _, _ = _timed(lambda: xlsx_bytes(built), args.repeat)
                total = c_warm + d_warm
                s = built.summary
                print(f"{label:<44} content {c_warm * 1000:6.0f} ms (cold {c_cold * 1000:5.0f}, peak "
                      f"{c_peak:5.1f} MiB) | docx {d_warm * 1000:5.0f} ms ({len(data) // 1024} KiB, peak "
                      f"{d_peak:5.1f} MiB) | xlsx {x_warm * 1000:5.0f} ms | content+docx {total:5.2f} s "
                      f"(cold {c_cold + d_cold:5.2f} s)")
                rows = len(built.rollup.rows) if built.rollup else 0
                print(f"{'':<44} {s.total:,} occurrences due, {len(built.overdue):,} overdue, "
                      f"{len(built.indicators)} indicators, {rows} units side by side")

            print(f"{'report':<44} (median of {args.repeat} warm runs)")
            case("commune plan, 2025-H1 (chair)", chair, commune_plan, "2025-H1", None)
            case("commune plan, 2025 (chair)", chair, commune_plan, "2025", None)
            case(f"province roll-up over {args.communes} communes, 2025", viewer, province_plan, "2025", province)
            case(f"province roll-up over {args.communes} communes, 2025-H1", viewer, province_plan, "2025-H1",
                 province)
            db.session.remove()
            db.engine.dispose()
    finally:
        if tmp is not None:
            tmp.cleanup()
        if admin is not None and name is not None:
            if args.keep:
                print(f"kept database {name}")
            else:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
