"""Rebuild docs/benchmarks.md: every figure beside its floor, measured in the same run (`make bench`).

    .venv/bin/python bench/run_all.py [--sizes province,country] [--backends postgresql,sqlite] [--quick]
        [--out docs/benchmarks.md] [--url postgresql://postgres@127.0.0.1:5432/postgres] [--requests 30]
        [--marks 400] [--emails 2000] [--keep]

For each size and backend (by default: a province on PostgreSQL and on SQLite, the country on PostgreSQL;
`--quick`: tiny sizes, a smoke run of about two minutes) it makes a throw-away database (bench/benchdb.py),
loads it with tracker.synth (the data of `tracker synth`), then measures, each beside its floor:
- pages under gunicorn with config/gunicorn.conf.py's settings (bench/gunicorn_bench.conf.py, which also moves
  each worker's clock to the synthetic history's day, 20/11/2025; bound to a free loopback port): the
  chair's overview, the officer's list, the province roll-up and the national roll-up, median and p95 of
  sequential requests by a person signed in with a real POST /login (CSRF token from the form); the floor is
  a bare Flask + Flask-SQLAlchemy app (bench/floor_app.py) under the same gunicorn settings running one
  SELECT by primary key on the same database;
- "mark done" (POST /occurrences/<id>/done with the form's CSRF token) by concurrent clients, each an officer
  marking distinct open occurrences, in requests/s; the floor is the bare app's POST that inserts one row and
  commits, with the same clients;
- e-mail dispatch to a local aiosmtpd sink against smtplib sending the same messages on one connection;
- the reminder sweep (tracker.jobs.sweep.run_sweep, and `tracker sweep`) against INSERT ... SELECT of the rows
  it inserted, copied beforehand into a table of their own;
- command start-up (`tracker --help`, a no-op `tracker sweep`) against `python -c pass`;
- importing the five demo plan documents against extracting them only.
A measurement that fails is written as "failed: reason"; the run goes on. The page is rewritten after each
size and backend. Everything stays on 127.0.0.1; gunicorn and the databases are removed even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from benchdb import local_smtp, throwaway_database  # noqa: E402

BIN = Path(sys.executable).parent
TODAY = date(2025, 11, 20)  # the synthetic history's today
SWEEP_AT = datetime(2025, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội: the first sweep of the installation
MONDAY_AT = SWEEP_AT + timedelta(days=4)  # the next working day's sweep (Monday 24/11, 08:00)
PAGES_AT = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội: the day the pages are served on
PASSWORD = "bench-password-" + secrets.token_hex(4)
PLANS = ROOT / "tracker" / "data" / "demo_plans"
CLIENTS = 8  # concurrent clients for the POST throughput


# --- What the page holds ----------------------------------------------------------------------------------

@dataclass
class Row:
    what: str
    figure: str
    floor: str = ""
    ratio: str = ""
    note: str = ""


@dataclass
class Section:
    title: str
    explain: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Scenario:
    size: str
    backend: str
    provinces: int | None
    communes: int | None
    label: str
    data: str = ""
    seconds: float = 0.0
    error: str = ""
    sections: list[Section] = field(default_factory=list)


def _failed(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ").replace("|", "/")
    return "failed: " + (text[:300] + "..." if len(text) > 300 else text)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def _s(seconds: float) -> str:
    if seconds < 1:
        return _ms(seconds)
    return f"{seconds:,.2f} s" if seconds < 10 else f"{seconds:,.1f} s"


def _time_ratio(figure: float, floor: float) -> str:
    return f"{figure / floor:,.1f}x" if floor > 0 else "-"


def _rate_ratio(figure: float, floor: float) -> str:
    return f"{figure / floor:.2f}" if floor > 0 else "-"


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# --- A small HTTP client (http.client, keep-alive, cookies by hand) ---------------------------------------

class Client:
    """One browser: a keep-alive connection to 127.0.0.1 and its cookies (frozen: responses change none)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.frozen = False
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = {"User-Agent": "tracker-bench", "Accept-Language": "vi"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection (gunicorn's keepalive): open a new one.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                if attempt == 2:
                    raise
        if not self.frozen:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                lowered = header.lower()
                if not value or "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
        return response.status, data

    def close(self) -> None:
        self.conn.close()


CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: bytes) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no csrf_token in the page")
    return (match.group(1) or match.group(2)).decode()


def sign_in(port: int, username: str) -> Client:
    client = Client(port)
    status, html = client.request("GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    status, html = client.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                     "csrf_token": csrf_token(html)})
    if status not in (302, 303):
        raise RuntimeError(f"POST /login as {username} answered {status}")
    return client


def latencies(client: Client, path: str, n: int, warm: int = 3, budget: float = 60.0) -> list[float]:
    """n sequential GETs after `warm` unmeasured ones; fewer (at least 5) when n would take over `budget` s."""
    slowest = 0.0
    for _ in range(warm):
        start = time.perf_counter()
        status, _body = client.request("GET", path)
        slowest = max(slowest, time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        if slowest > budget / 10:  # a slow page: one warm-up is enough
            break
    n = max(min(n, 5), min(n, int(budget / max(slowest, 1e-3))))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status, _body = client.request("GET", path)
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    return times


def throughput(work: list[list[Callable[[], int]]], expect: set[int]) -> tuple[float, int]:
    """Run each list of requests in its own thread, all started together; (requests/s, requests)."""
    barrier = threading.Barrier(len(work) + 1)
    errors: list[str] = []
    done = [0] * len(work)

    def run(index: int, calls: list[Callable[[], int]]) -> None:
        barrier.wait()
        for call in calls:
            try:
                status = call()
            except Exception as error:  # reported below, the others go on
                errors.append(_failed(error))
                continue
            if status not in expect:
                errors.append(f"status {status}")
            done[index] += 1

    threads = [threading.Thread(target=run, args=(i, calls), daemon=True) for i, calls in enumerate(work)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    total = sum(len(calls) for calls in work)
    if errors:
        raise RuntimeError(f"{len(errors)} of {total} requests failed (first: {errors[0]})")
    return total / elapsed, total


# --- gunicorn ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(config: Path, env: dict[str, str], log: Path, probe: str) -> Iterator[int]:
    """gunicorn with `config` on a free loopback port, in its own process group; stopped whatever happens."""
    port = free_port()
    env = {**env, "TRACKER_BIND": f"127.0.0.1:{port}"}
    with open(log, "ab") as out:
        process = subprocess.Popen([str(BIN / "gunicorn"), "--config", str(config)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode} (log: {log})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", probe)
                status = conn.getresponse().status
                conn.close()
                if status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 120 s (log: {log})")
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def gunicorn_settings() -> str:
    import runpy

    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    return (f"{conf['workers']} workers x {conf['threads']} threads ({conf['worker_class']}), "
            f"preload, keep-alive {conf['keepalive']} s, access log on")


# --- The run ----------------------------------------------------------------------------------------------

def app_env(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the app in gunicorn, the commands and this process: production settings, except the
    rate-limit counters in memory (no Redis here) and cookies over plain HTTP (loopback, no TLS proxy)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({
        "TRACKER_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "TRACKER_DATABASE_URL": url,
        "TRACKER_RATELIMIT_STORAGE_URI": "memory://", "TRACKER_SESSION_COOKIE_SECURE": "false",
        "TRACKER_REMEMBER_COOKIE_SECURE": "false", "TRACKER_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
    })
    env.update(extra or {})
    return env


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.logdir = Path(tempfile.mkdtemp(prefix="tracker_bench_logs_"))

    # each measurement
    def attempt(self, section: Section, what: str, fn: Callable[[], Row | list[Row]]) -> None:
        _log(f"  {section.title}: {what}")
        try:
            result = fn()
        except KeyboardInterrupt:
            raise
        except Exception as error:
            traceback.print_exc()
            section.rows.append(Row(what, _failed(error)))
            return
        for row in result if isinstance(result, list) else [result]:
            section.rows.append(row)
            _log(f"    {row.what}: {row.figure} | floor {row.floor} | {row.ratio}")

    def scenario(self, sc: Scenario) -> None:
        start = time.perf_counter()
        server = self.args.url if sc.backend == "postgresql" else "sqlite"
        sink = _Sink()
        with throwaway_database(server, self.args.keep, prefix="tracker_bench") as url, \
                local_smtp(sink) as smtp_port:
            env = app_env(url)
            saved = dict(os.environ)
            os.environ.update({k: v for k, v in env.items() if k.startswith("TRACKER_") or k == "SECRET_KEY"})
            try:
                self._scenario(sc, url, env, sink, smtp_port)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        sc.seconds = time.perf_counter() - start

    def _scenario(self, sc: Scenario, url: str, env: dict[str, str], sink: Any, smtp_port: int) -> None:
        from flask_migrate import upgrade

        from tracker import create_app
        from tracker.clock import status_clock
        from tracker.extensions import db
        from tracker.operations import summaries
        from tracker.synth import SynthSpec, synthesize

        app = create_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_SUPPRESS_SEND": False,
                          "MAIL_USE_TLS": False, "MAIL_USE_SSL": False, "PUBLIC_BASE_URL": "https://tracker.example.vn",
                          "MAIL_DEFAULT_SENDER": ("Hệ thống theo dõi nhiệm vụ", "noreply@ubnd.vn"),
                          "DISPATCH_MAX_BATCHES": 1_000_000})
        postgres = url.startswith("postgresql")
        with app.app_context():
            _log(f"{sc.label}: migrate and load")
            upgrade()
            loaded = synthesize(SynthSpec(provinces=sc.provinces, communes=sc.communes, as_of=TODAY))
            db.session.commit()
            _analyze(postgres)
            # The status summaries as of the pages' day, as the scheduler's first run of that day recounts them
            # (synth counts them as of the real today, which the pages, served on PAGES_AT, would not read).
            start = time.perf_counter()
            rows = summaries.rebuild(status_clock(TODAY))
            db.session.commit()
            rebuilt = time.perf_counter() - start
            sc.data = _describe(loaded) + f"; status summaries recounted as of {TODAY:%d/%m/%Y} in {_s(rebuilt)} " \
                f"({rows:,} rows)"
            _log(f"  {sc.data}")
            cast = _cast(self.args, postgres)
            db.session.remove()
            db.engine.dispose()

            web = Section("Pages under gunicorn", "")
            posts = Section("Mark done under gunicorn", "")
            sc.sections += [web, posts]
            self._web(web, posts, env, cast)

            dispatch = Section("E-mail dispatch", "")
            sc.sections.append(dispatch)
            self.attempt(dispatch, "dispatch", lambda: _dispatch(app, sink, self.args.emails))

            sweep = Section("Reminder sweep", "")
            sc.sections.append(sweep)
            _sweeps(self, sweep, env)

            startup = Section("Command start-up", "")
            sc.sections.append(startup)
            _startup(self, startup, env)

            imports = Section("Plan import", "")
            sc.sections.append(imports)
            _imports(self, imports, cast["province_id"])
            db.session.remove()
            db.engine.dispose()

    def _web(self, web: Section, posts: Section, env: dict[str, str], cast: dict[str, Any]) -> None:
        n = self.args.requests
        try:
            with contextlib.ExitStack() as stack:
                travel = {"BENCH_TRAVEL_TO": PAGES_AT.isoformat()}
                port = stack.enter_context(gunicorn(BENCH / "gunicorn_bench.conf.py", {**env, **travel},
                                                    self.logdir / "tracker-gunicorn.log", "/healthz"))
                floor_port = stack.enter_context(gunicorn(BENCH / "gunicorn_bench.conf.py",
                                                          {**env, **travel, "BENCH_APP": "floor"},
                                                          self.logdir / "floor-gunicorn.log", "/hello"))
                floor = Client(floor_port)
                floor_path = f"/select/{cast['any_occurrence']}"
                state: dict[str, float] = {}

                def floor_rows() -> list[Row]:
                    hello = latencies(floor, "/hello", n)
                    select = latencies(floor, floor_path, n)
                    state["median"], state["p95"] = _median(select), _p95(select)
                    return [Row("bare Flask, no database (reference)", f"{_ms(_median(hello))} / {_ms(_p95(hello))}"),
                            Row("floor: bare Flask + Flask-SQLAlchemy, one SELECT by primary key",
                                f"{_ms(state['median'])} / {_ms(state['p95'])}")]

                self.attempt(web, "floor", floor_rows)
                pages = [("chair's overview (`GET /overview`)", cast["chair"], "/overview"),
                         ("officer's list (`GET /tasks`)", cast["officer"], "/tasks"),
                         ("province roll-up (`GET /rollup`, province viewer)", "bench.viewer.province", "/rollup"),
                         ("national roll-up (`GET /rollup`, national viewer)", "bench.viewer.national", "/rollup")]
                for what, username, path in pages:
                    def page(username: str = username, path: str = path, what: str = what) -> Row:
                        client = sign_in(port, username)
                        try:
                            times = latencies(client, path, n)
                        finally:
                            client.close()
                        med, p95 = _median(times), _p95(times)
                        note = f"{len(times)} requests" if len(times) != n else ""
                        try:  # the floor again, right after the page: the same moment's load on both
                            select = latencies(floor, floor_path, n)
                        except Exception as error:
                            return Row(what, f"{_ms(med)} / {_ms(p95)}", "floor " + _failed(error))
                        fmed, fp95 = _median(select), _p95(select)
                        return Row(what, f"{_ms(med)} / {_ms(p95)}", f"{_ms(fmed)} / {_ms(fp95)}",
                                   f"{_time_ratio(med, fmed)} / {_time_ratio(p95, fp95)}", note)
                    self.attempt(web, what, page)
                floor.close()
                self.attempt(posts, "mark done", lambda: _mark_done(port, floor_port, cast, self.args.marks))
        except KeyboardInterrupt:
            raise
        except Exception as error:  # gunicorn did not start: every figure of the section says why
            traceback.print_exc()
            web.rows.append(Row("gunicorn", _failed(error)))


def _analyze(postgres: bool) -> None:
    from tracker.extensions import db

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)" if postgres else "ANALYZE")


def _describe(loaded: Any) -> str:
    from tracker.extensions import db

    counts = {t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
              for t in ("org_units", "people", "tasks", "occurrences", "reports")}
    return (f"{loaded.provinces} province(s), {loaded.communes:,} communes; "
            + ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in counts.items()))


def _cast(args: argparse.Namespace, postgres: bool) -> dict[str, Any]:
    """The people who sign in (with a password), the occurrences marked done, the floor's table."""
    from tracker.extensions import db
    from tracker.models import OrgUnit, Person, Role, UnitKind
    from tracker.operations.people import assign_role, create_person, set_password

    commune = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMUNE).order_by(OrgUnit.id))
    province = db.session.get(OrgUnit, commune.parent_id)
    while province.kind != UnitKind.PROVINCE:
        province = db.session.get(OrgUnit, province.parent_id)
    country = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COUNTRY))
    office = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id).order_by(OrgUnit.id))
    chair = db.session.scalar(sa.select(Person).where(Person.username == f"u{commune.id}"))
    officer = db.session.scalar(sa.select(Person).where(Person.username == f"u{office.id}"))
    viewer = create_person(None, username="bench.viewer.province", full_name="Sở (bench)")
    assign_role(None, viewer, province, Role.VIEWER)
    national = create_person(None, username="bench.viewer.national", full_name="Bộ (bench)")
    assign_role(None, national, country, Role.VIEWER)
    set_password(None, chair, PASSWORD)  # one hash, the same for everyone
    people = [officer, viewer, national]
    # "Mark done": CLIENTS officers, each an officer of enough offices (the last communes, away from the
    # pages' people) to mark its share of open occurrences.
    markers = [create_person(None, username=f"bench.officer.{i}", full_name=f"Cán bộ {i} (bench)")
               for i in range(CLIENTS)]
    people += markers
    open_rows = db.session.execute(sa.text("""
        SELECT o.id, o.lead_unit_id FROM occurrences o
        JOIN tasks t ON t.id = o.task_id JOIN plans p ON p.id = t.plan_id
        WHERE o.completed_at IS NULL AND o.cancelled_at IS NULL AND t.status = 'active' AND p.status = 'active'
          AND o.lead_unit_id IN (SELECT lead_unit_id FROM tasks ORDER BY lead_unit_id DESC LIMIT :tasks)
        ORDER BY o.lead_unit_id DESC, o.id"""), {"tasks": args.marks * 2}).all()
    by_office: dict[int, list[int]] = {}
    for occurrence_id, unit_id in open_rows:
        by_office.setdefault(unit_id, []).append(occurrence_id)
    marks: list[list[int]] = [[] for _ in range(CLIENTS)]
    share = max(1, args.marks // CLIENTS)
    for index, (unit_id, ids) in enumerate(by_office.items()):
        if min(len(m) for m in marks) >= share:
            break
        marker = markers[index % CLIENTS]
        assign_role(None, marker, db.session.get(OrgUnit, unit_id), Role.OFFICER)
        marks[index % CLIENTS].extend(ids)
    for person in people:
        person.password_hash = chair.password_hash
    any_occurrence = db.session.scalar(sa.text("SELECT max(id) FROM occurrences"))
    key = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    db.session.execute(sa.text(f"CREATE TABLE bench_floor_rows (id {key}, note TEXT NOT NULL, "
                               "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"))
    db.session.commit()
    return {"chair": chair.username, "officer": officer.username, "province_id": province.id,
            "markers": [m.username for m in markers], "marks": marks, "any_occurrence": any_occurrence}


def _mark_done(port: int, floor_port: int, cast: dict[str, Any], wanted: int) -> list[Row]:
    clients, work = [], []
    per_client = max(1, wanted // CLIENTS)
    for username, ids in zip(cast["markers"], cast["marks"], strict=True):
        ids = ids[:per_client]
        if not ids:
            continue
        client = sign_in(port, username)
        status, html = client.request("GET", f"/occurrences/{ids[0]}")  # the form, and its CSRF token
        if status != 200:
            raise RuntimeError(f"GET /occurrences/{ids[0]} answered {status}")
        token = csrf_token(html)
        client.frozen = True  # the flashed message of each answer is not carried into the next request
        clients.append(client)
        form = {"note": "Đã xong", "confirm": "y", "csrf_token": token}
        work.append([(lambda c=client, i=i, f=form: c.request("POST", f"/occurrences/{i}/done", f)[0])
                     for i in ids])
    try:
        rate, total = throughput(work, {302, 303})
    finally:
        for client in clients:
            client.close()
    floor_clients = [Client(floor_port) for _ in range(CLIENTS)]
    floor_n = max(total, 200) * 2
    floor_work = [[(lambda c=c: c.request("POST", "/insert", {"note": "Đã xong"})[0])
                   for _ in range(floor_n // CLIENTS)] for c in floor_clients]
    try:
        floor, floor_total = throughput(floor_work, {204})
    finally:
        for client in floor_clients:
            client.close()
    return [Row(f"mark done, {CLIENTS} clients ({total:,} occurrences)", f"{rate:,.1f} requests/s",
                f"{floor:,.0f} requests/s", _rate_ratio(rate, floor),
                f"floor: bare POST inserting one row and committing ({floor_total:,} requests)")]


# --- Dispatch ---------------------------------------------------------------------------------------------

class _Sink:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


def _dispatch(app: Any, sink: _Sink, emails: int) -> list[Row]:
    from dispatch_bench import NOW, _floor

    from tracker.extensions import db
    from tracker.models.base import UTCDateTime
    from tracker.notify.dispatcher import dispatch
    from tracker.operations.reminders import work_calendar

    queued_at = sa.bindparam("queued", NOW - timedelta(minutes=1), type_=UTCDateTime())
    with db.engine.begin() as conn:
        low = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM notifications")).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO notifications (dedupe_key, kind, channel, recipient_id, occurrence_id, due_on, status,
                                       attempts, next_attempt_at, created_at, escalation_level)
            SELECT 'bench:' || o.id, 'reminder', 'email', p.id, o.id, o.due_on, 'pending', 0, :queued, :queued, 0
            FROM occurrences o JOIN people p ON p.username = 'u' || o.lead_unit_id
            WHERE o.completed_at IS NULL ORDER BY o.id LIMIT :emails""").bindparams(queued_at),
            {"emails": emails})
        queued = conn.execute(sa.text("SELECT count(*) FROM notifications WHERE id > :low"), {"low": low}).scalar_one()
    messages = _render(app, low)
    sink.count = 0
    floor_seconds = _floor(app.config["MAIL_PORT"], messages, per_message=False)
    floor = len(messages) / floor_seconds
    sink.count = 0
    start = time.perf_counter()
    result = dispatch(NOW, calendar=work_calendar(), app=app)
    elapsed = time.perf_counter() - start
    if result.sent != queued or sink.count != queued:
        raise RuntimeError(f"{queued} queued, {result.sent} sent, {sink.count} received, {result.failed} failed")
    rate = queued / elapsed
    return [Row(f"one dispatcher, {queued:,} reminder e-mails", f"{rate:,.0f} e-mails/s", f"{floor:,.0f} e-mails/s",
                _rate_ratio(rate, floor), "floor: smtplib on one connection, the same messages rendered beforehand")]


def _render(app: Any, low: int) -> list[tuple[str, list[str], bytes]]:
    """The queued messages rendered and serialised as the dispatcher does (bench/dispatch_bench.py's way)."""
    from dispatch_bench import _render_all

    from tracker.extensions import db

    try:
        return _render_all(app, after_id=low)
    finally:
        db.session.rollback()


# --- The sweep and the commands ---------------------------------------------------------------------------

def _max_id() -> int:
    from tracker.extensions import db

    return int(db.session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM notifications")))


def _floor_columns() -> str:
    from tracker.models import Notification

    return ", ".join(c.name for c in Notification.__table__.columns if c.name != "id")


def _copy_floor(low: int, high: int, table: str) -> float:
    """The raw INSERT ... SELECT of the rows a sweep inserted: notifications (low, high] are copied into `table`
    (untimed), then written again into `notifications` itself (the same indexes, foreign keys and
    ON CONFLICT DO NOTHING as the sweep; the dedupe key suffixed so they are new rows) and rolled back. Writing
    the same rows into the same table, without choosing them."""
    from tracker.extensions import db

    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} AS SELECT * FROM notifications WHERE id > :low AND id <= :high"),
                     {"low": low, "high": high})
    columns = _floor_columns()
    chosen = columns.replace("dedupe_key", "dedupe_key || '#floor'")
    with db.engine.connect() as conn:
        conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # read once: in the cache, like the sweep's
        conn.commit()
        start = time.perf_counter()
        conn.execute(sa.text(f"INSERT INTO notifications ({columns}) SELECT {chosen} FROM {table} WHERE 1 = 1 "
                             "ON CONFLICT (dedupe_key) DO NOTHING"))
        elapsed = time.perf_counter() - start
        conn.rollback()
        return elapsed


def _noop_floor(table: str) -> float:
    """The same INSERT INTO notifications ... SELECT of the first sweep's rows, unchanged: every row meets its
    unique dedupe key (ON CONFLICT DO NOTHING), so nothing is written; what a sweep with nothing new costs at
    least, short of knowing it in advance."""
    from tracker.extensions import db

    columns = _floor_columns()
    with db.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM notifications")).scalar_one()
        start = time.perf_counter()
        conn.execute(sa.text(f"INSERT INTO notifications ({columns}) SELECT {columns} FROM {table} WHERE 1 = 1 "
                             "ON CONFLICT (dedupe_key) DO NOTHING"))
        elapsed = time.perf_counter() - start
        inserted = conn.execute(sa.text("SELECT count(*) FROM notifications")).scalar_one() - before
        conn.rollback()
        if inserted:
            raise RuntimeError(f"the no-op floor inserted {inserted} rows")
        return elapsed


def _command(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{shlex.join(Path(a).name if i == 0 else a for i, a in enumerate(argv))} exited "
                           f"{completed.returncode}: {completed.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def _sweeps(run: Run, section: Section, env: dict[str, str]) -> None:
    from tracker.extensions import db
    from tracker.jobs.sweep import run_sweep

    state: dict[str, Any] = {}

    def first() -> Row:
        low = _max_id()
        start = time.perf_counter()
        result = run_sweep(SWEEP_AT)
        db.session.commit()
        elapsed = time.perf_counter() - start
        high = _max_id()
        state["first"] = True
        floor = _copy_floor(low, high, "bench_sweep_first")
        state["floor"] = True
        return Row(f"first sweep, `run_sweep()` ({high - low:,} rows: {result.inserted:,} reminders and bundles)",
                   _ms(elapsed), _ms(floor), _time_ratio(elapsed, floor),
                   "floor: INSERT INTO notifications ... SELECT of the rows it inserted (new keys, rolled back)")

    def again() -> Row:
        if "first" not in state:
            raise RuntimeError("the first sweep failed")
        start = time.perf_counter()
        result = run_sweep(SWEEP_AT)
        db.session.commit()
        elapsed = time.perf_counter() - start
        if "floor" not in state:
            return Row(f"the same sweep again, `run_sweep()` ({result.inserted:,} rows)", _ms(elapsed), "floor failed")
        floor = _noop_floor("bench_sweep_first")
        return Row(f"the same sweep again, `run_sweep()` ({result.inserted:,} rows)", _ms(elapsed), _ms(floor),
                   _time_ratio(elapsed, floor),
                   "floor: the same INSERT ... SELECT, every row a conflict on its dedupe key: 0 rows")

    def command_next() -> Row:
        db.session.remove()
        low = _max_id()
        db.session.remove()
        elapsed = _command([str(BIN / "tracker"), "sweep", "--now", MONDAY_AT.isoformat()], env)
        high = _max_id()
        floor = _copy_floor(low, high, "bench_sweep_monday")
        return Row(f"next working day, `tracker sweep --now` Monday 08:00 ({high - low:,} rows)", _s(elapsed),
                   _s(floor), _time_ratio(elapsed, floor),
                   "command wall time (start-up included); floor: INSERT ... SELECT of its rows")

    run.attempt(section, "first sweep", first)
    run.attempt(section, "same sweep again", again)
    run.attempt(section, "tracker sweep (next day)", command_next)
    db.session.remove()


def _startup(run: Run, section: Section, env: dict[str, str]) -> None:
    repeat = 3 if run.args.quick else 5
    state: dict[str, float] = {}

    def floor() -> Row:
        state["floor"] = _median([_command([sys.executable, "-c", "pass"], env) for _ in range(repeat)])
        return Row("floor: `python -c pass`", _s(state["floor"]))

    def command(what: str, argv: list[str]) -> Callable[[], Row]:
        def measure() -> Row:
            _command(argv, env)  # once to warm the file cache
            elapsed = _median([_command(argv, env) for _ in range(repeat)])
            base = state.get("floor", 0.0)
            return Row(what, _s(elapsed), _s(base) if base else "floor failed", _time_ratio(elapsed, base),
                       f"median of {repeat}")
        return measure

    run.attempt(section, "python -c pass", floor)
    run.attempt(section, "tracker --help", command("`tracker --help`", [str(BIN / "tracker"), "--help"]))
    run.attempt(section, "no-op sweep", command("`tracker sweep` with nothing to do (the first sweep's instant again)",
                                                [str(BIN / "tracker"), "sweep", "--now", SWEEP_AT.isoformat()]))


def _imports(run: Run, section: Section, province_id: int) -> None:
    from tracker.extensions import db
    from tracker.models import OrgUnit
    from tracker.operations.plan_import import extract_document, import_plan, issuer_hint_for

    repeat = 1 if run.args.quick else 3
    for path in sorted(PLANS.glob("*.txt")):
        def measure(path: Path = path) -> Row:
            data = path.read_bytes()
            province = db.session.get(OrgUnit, province_id)
            hint = issuer_hint_for(province)
            extraction, whole, tasks = [], [], 0
            extract_document(path.name, data, issuer_hint=hint)  # warm: the extractor's first use loads its tables
            for _ in range(repeat):
                start = time.perf_counter()
                extract_document(path.name, data, issuer_hint=hint)
                extraction.append(time.perf_counter() - start)
                start = time.perf_counter()
                result = import_plan(None, filename=path.name, data=data, issuing_unit=province)
                db.session.flush()
                whole.append(time.perf_counter() - start)
                tasks = result.tasks_created
                db.session.rollback()
                province = db.session.get(OrgUnit, province_id)
            med, floor = _median(whole), _median(extraction)
            return Row(f"plan {path.name[:3]} ({len(data) / 1024:,.0f} KiB, {tasks} tasks)", _ms(med), _ms(floor),
                       _time_ratio(med, floor), "`import_plan()` into the province, rolled back")
        run.attempt(section, path.name, measure)


# --- The page ---------------------------------------------------------------------------------------------

EXPLAIN = {
    "Pages under gunicorn": (
        "Median / p95 of {n} sequential requests (fewer, at least 5, when they would take over a minute: the "
        "note says how many) on one keep-alive connection (after 3 unmeasured ones) by a "
        "person signed in with a real `POST /login` (the form's CSRF token). Floor: a bare Flask + "
        "Flask-SQLAlchemy app (`bench/floor_app.py`) under the same gunicorn settings running one SELECT of an "
        "occurrence by primary key on the same database, measured again right after each page (the machine "
        "may be shared: both see the same load). Ratio: figure / floor (1x is the floor). Both apps run with "
        "`bench/gunicorn_bench.conf.py`: config/gunicorn.conf.py's settings, and each worker's clock moved "
        "after the fork (time-machine, ticking) to 20/11/2025 10:00 in Hà Nội, the synthetic history's day."),
    "Mark done under gunicorn": (
        "`POST /occurrences/<id>/done` (note, confirmation, the CSRF token fetched once from the task page) by "
        "{clients} concurrent clients, each an officer marking distinct open occurrences; 302 expected. The "
        "redirected page is not fetched. Floor: the bare app's POST that inserts one row and commits, by the "
        "same clients. Ratio: figure / floor (1 is the floor; higher is better)."),
    "E-mail dispatch": (
        "One dispatcher (`tracker.notify.dispatcher.dispatch`, in this process) sending queued reminder e-mails "
        "to an aiosmtpd sink on loopback, against smtplib sending the same messages, rendered beforehand, on one "
        "connection (bench/dispatch_bench.py's floor). Ratio: figure / floor (higher is better)."),
    "Reminder sweep": (
        "The first sweep of the installation as of 20/11/2025 08:00 (catching up SWEEP_CATCH_UP_WORKING_DAYS) "
        "and the same sweep again (nothing new), as calls of `tracker.jobs.sweep.run_sweep` with the commit; "
        "then the next working day's sweep as the `tracker sweep` command. Floor of an inserting sweep: the "
        "rows it inserted are copied into a table of their own (untimed), then written again into "
        "`notifications` itself by one `INSERT ... SELECT ... ON CONFLICT (dedupe_key) DO NOTHING` (the same "
        "indexes and foreign keys; the dedupe key suffixed so that they are new rows) and rolled back: writing "
        "the same rows without choosing them. Floor of the no-op: the same INSERT ... SELECT with the keys "
        "unchanged, every row a conflict, 0 rows written: proving that every row is already there. "
        "Ratio: figure / floor."),
    "Command start-up": (
        "Wall time of the command as a subprocess with the production settings (median, after one warm-up "
        "run), against starting the interpreter alone."),
    "Plan import": (
        "`tracker.operations.plan_import.import_plan` of each demo plan document (tracker/data/demo_plans, the "
        "same as /work/shared/plans) into the province (extraction, unit resolution, draft plan, tasks, targets, "
        "audit; flushed, rolled back), median of {repeat}; floor: `extract_document` of the same file alone."),
}


def machine(args: argparse.Namespace) -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    system = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    postgres = "not used"
    if "postgresql" in args.backends:
        try:
            engine = sa.create_engine(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.connect() as conn:
                postgres = conn.execute(sa.text("SHOW server_version")).scalar_one()
                work_mem = conn.execute(sa.text("SHOW work_mem")).scalar_one()
                shared = conn.execute(sa.text("SHOW shared_buffers")).scalar_one()
                postgres += f" (work_mem {work_mem}, shared_buffers {shared})"
            engine.dispose()
        except Exception as error:
            postgres = _failed(error)
    return [f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; RAM {ram}",
            f"- OS: {system}",
            f"- Python {platform.python_version()}; PostgreSQL {postgres}; SQLite {sqlite3.sqlite_version}",
            f"- gunicorn {_version('gunicorn')} with config/gunicorn.conf.py: {gunicorn_settings()}"]


def _version(package: str) -> str:
    from importlib.metadata import version

    try:
        return version(package)
    except Exception:
        return "?"


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def render(args: argparse.Namespace, header: dict[str, str], scenarios: list[Scenario], finished: bool) -> str:
    out = ["# Benchmarks", "",
           "Generated by `make bench` (`bench/run_all.py`); do not edit by hand. Every figure stands beside its "
           "floor, measured in the same run on the same machine and database, and the ratio of the two. "
           "How to run the scripts one by one: bench/README.md.", "",
           f"- Date: {header['date']}; git commit {header['commit']}",
           f"- Command: `{header['command']}`",
           *header["machine"],
           f"- Load average (1 / 5 / 15 min): {header['load_before']} before, "
           + (f"{header['load_after']} after" if finished else "run in progress"),
           f"- Total time: {header.get('total', 'run in progress')}", ""]
    if args.quick:
        out += ["**Quick run (`--quick`): tiny sizes, a smoke test of the script; the figures mean little.**", ""]
    out += ["The synthetic data are `tracker.synth`'s (the same as `tracker synth`): one yearly plan per commune "
            "with four tasks per office (monthly, two quarterly, annual), an officer and a head per office, a "
            "chair and a focal officer per commune and province, and a history as of 20/11/2025.", ""]
    for sc in scenarios:
        out += [f"## {sc.label}", ""]
        if sc.data:
            out += [f"Data: {sc.data}." + (f" Measured in {sc.seconds / 60:.1f} min." if sc.seconds else ""), ""]
        if sc.error:
            out += [sc.error, ""]
        for section in sc.sections:
            out += [f"### {section.title}", "",
                    EXPLAIN.get(section.title, "").format(n=args.requests, clients=CLIENTS,
                                                          repeat=1 if args.quick else 3), "",
                    "| what | figure | floor | ratio | note |", "|---|---:|---:|---:|---|"]
            out += [f"| {r.what} | {r.figure} | {r.floor} | {r.ratio} | {r.note} |" for r in section.rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def plan(args: argparse.Namespace) -> list[Scenario]:
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for s in sizes:
        if s not in ("province", "country"):
            raise SystemExit(f"unknown size {s!r} (province, country)")
    for b in backends:
        if b not in ("postgresql", "sqlite"):
            raise SystemExit(f"unknown backend {b!r} (postgresql, sqlite)")
    out = []
    for size in sizes:
        for backend in backends:
            if size == "country" and backend == "sqlite" and not args.country_sqlite:
                continue
            name = "PostgreSQL" if backend == "postgresql" else "SQLite"
            if args.quick:
                provinces, communes = (1, 5) if size == "province" else (2, 10)
                label = (f"{size.capitalize()} (quick: {provinces} province(s), {communes} communes with plans) "
                         f"on {name}")
            elif size == "province":
                provinces, communes = 1, None
                label = f"A province (the first by official code, all its communes) on {name}"
            else:
                provinces, communes = None, None
                label = f"The whole country (34 provinces, 3,321 communes) on {name}"
            out.append(Scenario(size, backend, provinces, communes, label))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="province,country", help="province, country (comma-separated)")
    parser.add_argument("--backends", default="postgresql,sqlite", help="postgresql, sqlite (comma-separated)")
    parser.add_argument("--country-sqlite", action="store_true", help="also the country on SQLite (skipped by default)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few requests: a smoke run")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server (a throw-away database is created next to it)")
    parser.add_argument("--requests", type=int, default=None, help="sequential requests per page (default 30)")
    parser.add_argument("--marks", type=int, default=None, help="occurrences marked done (default 400)")
    parser.add_argument("--emails", type=int, default=None, help="e-mails dispatched (default 2000)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    args.requests = args.requests or (5 if args.quick else 30)
    args.marks = args.marks or (48 if args.quick else 400)
    args.emails = args.emails or (100 if args.quick else 2000)
    os.chdir(ROOT)
    # A kill unwinds like Ctrl-C (gunicorn stopped, databases dropped); throwaway_database sets the same.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    import logging

    logging.getLogger("tracker").setLevel(logging.WARNING)
    scenarios = plan(args)
    header = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": git_commit(),
              "command": "make bench" if os.environ.get("MAKELEVEL") else shlex.join(
                  [".venv/bin/python", "bench/run_all.py", *sys.argv[1:]]),
              "machine": machine(args), "load_before": _load()}
    if os.environ.get("MAKELEVEL") and sys.argv[1:]:
        header["command"] = f"make bench BENCH_ARGS={shlex.quote(shlex.join(sys.argv[1:]))}"
    out = Path(args.out)
    run = Run(args)
    started = time.perf_counter()
    _log(f"{len(scenarios)} runs; logs in {run.logdir}")
    for sc in scenarios:
        try:
            run.scenario(sc)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            traceback.print_exc()
            sc.error = _failed(error)
        out.write_text(render(args, header, scenarios[: scenarios.index(sc) + 1], finished=False))
        _log(f"{sc.label}: done in {sc.seconds / 60:.1f} min; {out} written")
    header["load_after"] = _load()
    header["total"] = f"{(time.perf_counter() - started) / 60:.1f} min"
    out.write_text(render(args, header, scenarios, finished=True))
    _log(f"{out} written in {header['total']}")


if __name__ == "__main__":
    main()
