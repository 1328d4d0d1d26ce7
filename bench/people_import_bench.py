"""Benchmark importing people from one .xlsx (prints figures; not a test).

    .venv/bin/python bench/people_import_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres | sqlite]
        [--rows 5000] [--communes 300] [--existing 1000] [--bad-rows 250] [--seed 12] [--repeat 3] [--keep]

Creates a throw-away database (a temporary SQLite file, or a new database next to the PostgreSQL URL, dropped
at the end), migrates it and loads a synthetic province: --communes communes with official codes (W10001...),
each with a health station, a primary school and a village, and --existing people already holding roles there.
Then writes a deterministic .xlsx of --rows people (a fixed random seed): units by code or by
"Xã ... / Trạm Y tế", one or two roles, e-mail, Zalo phone; --existing of the rows name people already there
(half of them with a changed title). As the province's administrator it times, on the real operations:
preview (read + plan), confirm (plan again + write + commit), and the re-import preview (nothing to change);
then a second file of the same size with --bad-rows broken rows spread through it, whose preview must report
every one of them by row.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OFFICES = (("Trạm Y tế", "health_station"), ("Trường Tiểu học", "school"), ("Thôn 1", "village"))
HEADER = ["Tên đăng nhập", "Họ và tên", "Chức vụ", "Email", "Số điện thoại Zalo", "Mã đơn vị", "Tên đơn vị",
          "Vai trò", "Nhận tin tổng hợp hằng ngày"]
ROLE_CHOICES = ["Cán bộ", "Cán bộ, Thủ trưởng đơn vị", "Cán bộ đầu mối", "Người xem", "Chủ tịch"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Văn An", "Thị Bình", "Văn Cường", "Thị Dung", "Minh Đức", "Thu Hà", "Quốc Huy", "Thị Lan", "Văn Nam"]


def _seed_tree(engine: sa.Engine, communes: int, existing: int) -> dict[str, Any]:
    """Bulk-load the province, its communes and offices, an admin and `existing` people (explicit ids)."""
    now = datetime.now(UTC)
    units: list[dict[str, Any]] = []
    next_id = iter(range(1, 10_000_000))

    def unit(parent: dict[str, Any] | None, name: str, kind: str, admin: bool, code: str | None = None) -> dict:
        uid = next(next_id)
        path = (parent["path"] if parent else "/") + f"{uid}/"
        row = {"id": uid, "parent_id": parent["id"] if parent else None, "name": name, "kind": kind, "code": code,
               "is_administrative": admin, "path": path, "depth": path.count("/") - 2,
               "admin_unit_id": uid if admin else (parent["admin_unit_id"] if parent else None),
               "is_archived": False, "created_at": now}
        units.append(row)
        return row

    province = unit(None, "Tỉnh Đo Tải", "province", True, "P99")
    commune_rows = []
    offices: dict[int, int] = {}  # commune index -> health station id
    for c in range(communes):
        commune = unit(province, f"Xã Số {c + 1}", "commune", True, f"W{10001 + c}")
        commune_rows.append(commune)
        for name, kind in OFFICES:
            office = unit(commune, name, kind, False)
            if kind == "health_station":
                offices[c] = office["id"]
    people = [{"id": 1, "username": "quantritinh", "full_name": "Quản Trị Tỉnh", "email": None, "locale": "vi",
               "is_active": True,
               "prefers_digest": False, "created_at": now}]
    roles = [{"person_id": 1, "unit_id": province["id"], "role": "admin", "created_at": now}]
    for i in range(existing):
        pid = i + 2
        people.append({"id": pid, "username": f"canbo{i}", "full_name": f"Cán Bộ {i}",
                       "email": f"canbo{i}@example.org", "locale": "vi", "is_active": True, "prefers_digest": False,
                       "created_at": now})
        roles.append({"person_id": pid, "unit_id": offices[i % communes], "role": "officer", "created_at": now})
    meta = sa.MetaData()
    meta.reflect(engine, only=["org_units", "people", "role_assignments"])
    with engine.begin() as conn:
        conn.execute(meta.tables["org_units"].insert(), units)
        conn.execute(meta.tables["people"].insert(), people)
        conn.execute(meta.tables["role_assignments"].insert(), roles)
        if engine.dialect.name == "postgresql":
            for table in ("org_units", "people"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
    return {"units": len(units), "communes": communes, "existing": existing}


def people_file(rows: int, communes: int, existing: int, seed: int, bad_rows: int = 0) -> tuple[bytes, set[int]]:
    """A deterministic .xlsx of `rows` people (and the sheet row numbers made bad on purpose)."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    workbook = Workbook()  # as Excel does, the sheet records its dimension (a write-only workbook does not)
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append(HEADER)
    bad = set(rng.sample(range(2, rows + 2), bad_rows)) if bad_rows else set()
    for i in range(rows):
        number = i + 2
        commune = rng.randrange(communes)
        name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
        if i < existing:  # people already there, found by username; half of them get a new title
            username, full_name, title = f"canbo{i}", f"Cán Bộ {i}", "Viên chức" if i % 2 else ""
            code, unit_name, roles = "", f"Xã Số {(i % communes) + 1} / Trạm Y tế", "Cán bộ"
            email = f"canbo{i}@example.org"
        else:
            username, full_name, title = f"nguoi{seed}x{i}", name, rng.choice(["", "Công chức", "Trưởng trạm"])
            if rng.random() < 0.6:
                code, unit_name = f"W{10001 + commune}", ""
            else:
                code, unit_name = "", f"Xã Số {commune + 1} / {rng.choice(OFFICES)[0]}"
            roles = rng.choice(ROLE_CHOICES)
            email = f"{username}@example.org"
        phone = f"09{rng.randrange(10**8):08d}" if i >= existing else ""
        if number in bad:  # one of five kinds of mistakes an office makes
            kind = number % 5
            if kind == 0:
                code, unit_name = "W99999999", ""
            elif kind == 1:
                email = "khong-co-a-cong"
            elif kind == 2:
                phone = "12345"
            elif kind == 3:
                roles = "Giám đốc"
            else:
                username = "canbo0" if i >= existing else username + " x"
        sheet.append([username, full_name, title, email, phone, code, unit_name, roles, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL, or 'sqlite'")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--communes", type=int, default=300)
    parser.add_argument("--existing", type=int, default=1000)
    parser.add_argument("--bad-rows", type=int, default=250)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="preview runs (the median is shown)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from benchdb import throwaway_database
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Person
    from tracker.operations.people_import import apply_import, preview_import

    with throwaway_database(args.url, args.keep) as url:
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
        with app.app_context():
            upgrade()
            seeded = _seed_tree(db.engine, args.communes, args.existing)
            print(f"{db.engine.dialect.name}: {seeded['units']:,} units ({args.communes} communes), "
                  f"{args.existing:,} people already there")
            good, _ = people_file(args.rows, args.communes, args.existing, args.seed)
            broken, bad = people_file(args.rows, args.communes, args.existing, args.seed + 1, args.bad_rows)
            print(f"file: {args.rows:,} rows, {len(good) // 1024} KiB (.xlsx, seed {args.seed})")

            def actor() -> Person:
                return db.session.scalar(sa.select(Person).where(Person.username == "quantritinh"))

            def timed(fn: Any) -> tuple[float, Any]:
                db.session.expire_all()
                started = time.perf_counter()
                result = fn()
                return time.perf_counter() - started, result

            runs = []
            for _ in range(args.repeat):
                seconds, preview = timed(lambda: preview_import(actor(), "nguoi.xlsx", good))
                db.session.rollback()
                runs.append(seconds)
            counts = preview.counts
            print(f"preview:            {statistics.median(runs):6.2f} s  (median of {args.repeat}; "
                  f"create {counts['create']:,}, update {counts['update']:,}, unchanged {counts['unchanged']:,}, "
                  f"errors {counts['errors']})")

            def confirm() -> Any:
                result = apply_import(actor(), "nguoi.xlsx", good, expected_digest=preview.digest)
                db.session.commit()
                return result

            seconds, result = timed(confirm)
            people = db.session.scalar(sa.select(sa.func.count()).select_from(Person))
            print(f"confirm:            {seconds:6.2f} s  (plan again + write + commit: created {result.created:,}, "
                  f"updated {result.updated:,}, roles {result.roles_added:,}; {people:,} people now)")
            seconds, again = timed(lambda: preview_import(actor(), "nguoi.xlsx", good))
            db.session.rollback()
            print(f"re-import preview:  {seconds:6.2f} s  (unchanged {again.counts['unchanged']:,}, "
                  f"to write {again.counts['create'] + again.counts['update']})")
            seconds, wrong = timed(lambda: preview_import(actor(), "loi.xlsx", broken))
            db.session.rollback()
            rows_reported = {row for row, _m in wrong.errors}
            print(f"preview with errors: {seconds:5.2f} s  ({len(bad)} bad rows planted, {len(wrong.errors)} errors "
                  f"on {len(rows_reported)} rows; every planted row reported: {bad <= rows_reported})")
            for line in wrong.error_lines()[:3]:
                print(f"    {line}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
