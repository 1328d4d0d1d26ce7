"""Time the whole plan import (extraction, unit resolution, draft plan with tasks and targets) on SQLite.

    .venv/bin/python bench/import_bench.py [--runs 5]

Builds a throw-away SQLite database with Hưng Yên's 104 communes and their usual offices (vietnam-provinces),
then imports each demo plan (the largest is 003, the province's 2023-2025 plan) into its issuing unit with
`import_plan`, inside a transaction that is rolled back after each run, and prints the median time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import OrgUnit, Task, UnitKind
    from tracker.operations.plan_import import import_plan
    from tracker.operations.units import COMMUNE_INTERNAL_UNITS, ensure_unit, seed_units

    plans = Path(__file__).resolve().parent.parent / "tracker" / "data" / "demo_plans"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db"})
        with app.app_context():
            upgrade()
            seed_units(["Hưng Yên"])
            province = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "P33"))
            for name in ("Sở Lao động - Thương binh và Xã hội", "Sở Y tế", "Sở Tài chính", "Sở Xây dựng"):
                ensure_unit(province, name, UnitKind.DEPARTMENT)
            commune = ensure_unit(province, "Xã Cao Ngọc", UnitKind.COMMUNE)
            for name, kind in COMMUNE_INTERNAL_UNITS:
                ensure_unit(commune, name, kind)
            db.session.commit()
            units = db.session.scalar(sa.select(sa.func.count(OrgUnit.id)))
            print(f"org units: {units}")
            for filename, issuer in (("003_9a978320c38bc04c.txt", province), ("004_c8b79a7600a1cc52.txt", commune)):
                data = (plans / filename).read_bytes()
                times, tasks = [], 0
                for _ in range(args.runs):
                    started = time.perf_counter()
                    result = import_plan(None, filename=filename, data=data, issuing_unit=issuer)
                    db.session.flush()
                    times.append(time.perf_counter() - started)
                    tasks = db.session.scalar(sa.select(sa.func.count(Task.id)))
                    db.session.rollback()
                print(f"{filename}: {tasks} tasks, {result.targets_created} target values; "
                      f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                      f"over {args.runs} runs")


if __name__ == "__main__":
    main()
