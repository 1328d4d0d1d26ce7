"""Figures for docs/reliability.md: sign-in cost for known and unknown names, the cost of writing audit
events (unlinked) and of linking them (the sequencer), the speed of `tracker audit verify`, backup and
restore of a SQLite database.

    .venv/bin/python bench/hardening_bench.py [--events 20000] [--sign-ins 20]

A throw-away SQLite file in a temporary folder; nothing leaves 127.0.0.1 (nothing leaves the process).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sign-ins", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                          "PASSWORD_HASH_METHOD": "scrypt"})
        with app.app_context(), app.test_request_context():
            upgrade()
            _sign_in_cost(args.sign_ins)
            _audit_cost(args.events)
            _backup_cost(url, Path(folder))
            db.session.remove()
            db.engine.dispose()


def _sign_in_cost(n: int) -> None:
    from tracker.auth import authenticate
    from tracker.extensions import db
    from tracker.operations.people import create_person

    create_person(None, username="known", full_name="Known", password="correct-horse-42")
    db.session.commit()
    authenticate("nobody", "x")  # the dummy hash is made once per process
    rows = []
    for label, name, password in (("existing name, wrong password", "known", "wrong-password"),
                                  ("existing name, right password", "known", "correct-horse-42"),
                                  ("unknown name", "nobody-here", "wrong-password")):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            authenticate(name, password)
            times.append((time.perf_counter() - start) * 1000)
        rows.append((label, statistics.median(times)))
    print("sign-in check (scrypt), median of", n)
    for label, ms in rows:
        print(f"  {label:32s} {ms:7.1f} ms")


def _audit_cost(n: int) -> None:
    from tracker.clock import utcnow
    from tracker.extensions import db
    from tracker.jobs.audit_link import run_audit_link
    from tracker.models import UnitKind
    from tracker.operations import audit
    from tracker.operations.audit_chain import verify
    from tracker.operations.units import create_unit

    province = create_unit(None, name="Tỉnh", kind=UnitKind.PROVINCE)
    db.session.commit()
    batch = 50
    start = time.perf_counter()
    for i in range(0, n, batch):
        for k in range(batch):
            audit.record_about("bench.event", "bench", i + k, None, unit_id=province.id, after={"i": i + k})
        db.session.commit()
    written = time.perf_counter() - start
    start = time.perf_counter()
    linked = run_audit_link(utcnow(), max_batches=10**9).linked
    linking = time.perf_counter() - start
    start = time.perf_counter()
    result = verify(db.session())
    checked = time.perf_counter() - start
    assert result.ok and result.unlinked == 0 and linked >= n, result.first_break
    print(f"audit chain: {n:,} events written (unlinked) in commits of {batch} in {written:.1f} s "
          f"({written / n * 1e6:.0f} µs an event); the sequencer linked them in {linking:.2f} s "
          f"({n / linking:,.0f} events/s); verify {result.checked:,} events in "
          f"{checked:.2f} s ({result.checked / checked:,.0f} events/s)")


def _backup_cost(url: str, folder: Path) -> None:
    from tracker.backup import backup, restore

    start = time.perf_counter()
    info = backup(url, folder / "backup.sqlite")
    took = time.perf_counter() - start
    start = time.perf_counter()
    restore(f"sqlite:///{folder / 'restored.db'}", info.path)
    restored = time.perf_counter() - start
    print(f"backup (SQLite online backup API): {info.size_bytes / 1e6:.1f} MB in {took:.2f} s; "
          f"restore in {restored:.2f} s")


if __name__ == "__main__":
    main()
