"""`tracker synth`: the synthetic country the benchmarks load, deterministic on an empty database."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tracker.extensions import db
from tracker.synth import SynthSpec, synthesize

SMALL = SynthSpec(provinces=1, communes=2, seed=3)


def _fingerprint() -> str:
    """What the seed decides, row by row: which occurrences are done and when, which have reports, who exists."""
    queries = (
        "SELECT id, task_id, period_key, due_on, completed_on FROM occurrences ORDER BY id",
        "SELECT occurrence_id, submitted_on, is_late, review_status FROM reports ORDER BY occurrence_id",
        "SELECT occurrence_id, requested_due_on FROM extension_requests ORDER BY occurrence_id",
        "SELECT username, prefers_digest FROM people ORDER BY username",
        "SELECT indicator_id, unit_id, value FROM indicator_values ORDER BY indicator_id, unit_id, report_id",
    )
    digest = hashlib.sha256()
    for query in queries:
        for row in db.session.execute(sa.text(query)):
            digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()


def _empty_the_database() -> None:
    """Back to a fresh database: no rows, identities from 1 (the fixture's own reset, done mid-test)."""
    db.session.rollback()
    tables = [t.name for t in db.metadata.sorted_tables if t.name != "alembic_version"]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(sa.text(f'DELETE FROM "{table}"'))
        if db.session.execute(sa.text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
            db.session.execute(sa.text("DELETE FROM sqlite_sequence"))
    db.session.commit()


def _count(table: str, where: str = "") -> int:
    return int(db.session.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one())


def test_synth_loads_a_plan_per_commune_with_a_plausible_history(app: Flask) -> None:
    result = synthesize(SMALL)
    db.session.commit()

    assert result.provinces == 1 and result.communes > 2  # the whole province is seeded, two communes planned
    assert _count("plans") == 2
    offices = _count("org_units", "WHERE parent_id IN (SELECT issuing_unit_id FROM plans) AND kind NOT IN "
                                  "('commune', 'province', 'country', 'district', 'ministry')")
    assert _count("tasks") == 4 * offices
    assert _count("occurrences") == 21 * offices  # 12 months, twice 4 quarters, 1 year per office
    due = _count("occurrences", "WHERE due_on < '2025-11-20'")
    done = _count("occurrences", "WHERE completed_on IS NOT NULL")
    late = _count("occurrences", "WHERE completed_on > due_on")
    assert 0.6 < done / due < 0.8
    assert 0.1 < late / done < 0.3
    assert _count("occurrences", "WHERE completed_on IS NOT NULL AND due_on >= '2025-11-20'") == 0
    # Every office has its officer and head, every planned commune and its province a chair and focal officer.
    assert _count("people") == 2 * offices + 2 * 2 + 2
    assert _count("role_assignments") == _count("people")
    assert _count("reports") == _count("indicator_values") > 0
    assert result.rows["occurrences"] == _count("occurrences")


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(app: Flask) -> None:
    # Each load starts from truncated tables, as a new database is: the fixture's own reset (DELETE, fast) leaves
    # PostgreSQL's tables their pages, which can change the plans of the generator's queries and so their order.
    _empty_the_database()
    synthesize(SMALL)
    db.session.commit()
    first = _fingerprint()

    _empty_the_database()
    synthesize(SMALL)
    db.session.commit()
    assert _fingerprint() == first

    _empty_the_database()
    synthesize(SynthSpec(provinces=1, communes=2, seed=4))
    db.session.commit()
    assert _fingerprint() != first


def test_the_command_refuses_a_database_that_holds_plans(app: Flask) -> None:
    runner = app.test_cli_runner()
    loaded: Any = runner.invoke(args=["synth", "--provinces", "1", "--communes", "1", "--seed", "1"])
    assert loaded.exit_code == 0, loaded.output
    assert "occurrences" in loaded.output
    plans = _count("plans")

    again: Any = runner.invoke(args=["synth", "--provinces", "1", "--communes", "1"])
    assert again.exit_code == 1
    assert "kế hoạch" in again.output.lower() or "plans" in again.output
    assert _count("plans") == plans
