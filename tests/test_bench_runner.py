"""The benchmark runner's machinery (bench/run_all.py), not its figures: which runs a command line asks for, how
the page shows a failed measurement, and that the floor app's gunicorn is gone once its block ends."""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)
    for path in (str(ROOT), str(ROOT / "bench")):  # what the runner put on sys.path
        while path in sys.path[:2]:
            sys.path.remove(path)


def _args(**values: object) -> argparse.Namespace:
    base = {"sizes": "province,country", "backends": "postgresql,sqlite", "quick": False, "country_sqlite": False,
            "requests": 30}
    return argparse.Namespace(**{**base, **values})


def test_the_default_runs_are_a_province_on_both_backends_and_the_country_on_postgresql(run_all) -> None:
    runs = [(s.size, s.backend, s.provinces, s.communes) for s in run_all.plan(_args())]
    assert runs == [("province", "postgresql", 1, None), ("province", "sqlite", 1, None),
                    ("country", "postgresql", None, None)]
    quick = run_all.plan(_args(quick=True, sizes="province", backends="sqlite"))
    assert [(s.provinces, s.communes) for s in quick] == [(1, 5)]
    with pytest.raises(SystemExit):
        run_all.plan(_args(sizes="planet"))


def test_a_failed_measurement_is_written_with_its_reason_and_the_run_goes_on(run_all) -> None:
    run = run_all.Run(_args())
    section = run_all.Section("Reminder sweep", "")

    def broken() -> run_all.Row:
        raise RuntimeError("the sweep | broke")

    run.attempt(section, "first sweep", broken)
    run.attempt(section, "again", lambda: run_all.Row("again", "1 ms", "0.5 ms", "2.0x"))
    scenario = run_all.Scenario("province", "sqlite", 1, None, "A province on SQLite", sections=[section])
    header = {"date": "d", "commit": "c", "command": "make bench", "machine": ["- CPU: x"], "load_before": "1"}
    page = run_all.render(_args(), header, [scenario], finished=False)
    assert "| first sweep | failed: RuntimeError: the sweep / broke |" in page
    assert "| again | 1 ms | 0.5 ms | 2.0x |" in page


def test_the_floor_app_answers_under_gunicorn_and_is_stopped_afterwards(run_all, tmp_path) -> None:
    database = tmp_path / "floor.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE occurrences (id INTEGER PRIMARY KEY, period_label TEXT)")
        conn.execute("INSERT INTO occurrences VALUES (7, 'Tháng 11/2025')")
        conn.execute("CREATE TABLE bench_floor_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL, "
                     "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    env = run_all.app_env(f"sqlite:///{database}", {"TRACKER_WEB_WORKERS": "1", "BENCH_APP": "floor",
                                                    "BENCH_TRAVEL_TO": "2025-11-20T10:00:00+07:00"})
    with run_all.gunicorn(ROOT / "bench" / "gunicorn_bench.conf.py", env, tmp_path / "log", "/hello") as port:
        client = run_all.Client(port)
        assert client.request("GET", "/select/7") == (200, "7 Tháng 11/2025".encode())
        assert client.request("POST", "/insert", {"note": "x"})[0] == 204
        client.close()
        with sqlite3.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM bench_floor_rows").fetchone() == (1,)
    with pytest.raises(ConnectionRefusedError):
        run_all.Client(port).request("GET", "/hello")
