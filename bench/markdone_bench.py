""""Mark done" under gunicorn: requests a second and SQL statements per request, against a throw-away database.

    .venv/bin/python bench/markdone_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--occurrences 3000] [--seconds 15] [--clients 8] [--workers 4]

Builds a commune with one officer and an active plan of `--occurrences` open occurrences, starts
`gunicorn -c config/gunicorn.conf.py` on a free loopback port (the code on PYTHONPATH, so the same script
measures two versions side by side), signs `--clients` httpx clients in through the real form (CSRF on), and
has them POST /occurrences/<id>/done (each id once) for `--seconds`. Prints requests a second, the share of
302 answers and the latency percentiles. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import throwaway_database

PASSWORD = "bench-pass-1234"
ROOT = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or Path(__file__).resolve().parents[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str, n: int) -> list[int]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Occurrence, Role, UnitKind
    from tracker.operations.people import assign_role, create_person
    from tracker.operations.plans import activate_plan, add_task, create_plan
    from tracker.operations.units import create_unit

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        upgrade()
        province = create_unit(None, name="Tỉnh Bench", kind=UnitKind.PROVINCE)
        commune = create_unit(None, name="Xã Bench", kind=UnitKind.COMMUNE, parent=province)
        station = create_unit(None, name="Trạm Y tế Bench", kind=UnitKind.OFFICE, parent=commune)
        officer = create_person(None, username="bench", full_name="Cán bộ Bench", password=PASSWORD)
        assign_role(None, officer, station, Role.OFFICER)
        plan = create_plan(None, title="Kế hoạch bench", issuing_unit=commune, year=2030, issued_on=date(2030, 1, 2))
        per_task = 100
        for t in range((n + per_task - 1) // per_task):
            dues = [date(2030, 2, 1) + timedelta(days=k) for k in range(min(per_task, n - t * per_task))]
            add_task(None, plan, title=f"Nhiệm vụ {t}", lead_unit=station, due_dates=dues, report_to_unit=commune)
        activate_plan(None, plan)
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Occurrence.id).order_by(Occurrence.id)))
        db.session.remove()
        db.engine.dispose()
    return ids


def _client(base: str, first_id: int) -> tuple[object, str]:
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    data = {"username": "bench", "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    signed_in = client.post("/login", data=data)
    assert signed_in.status_code == 302, signed_in.text[:300]
    page = client.get(f"/occurrences/{first_id}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    return client, token.group(1) if token else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--occurrences", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    with throwaway_database(args.url, prefix="tracker_markdone") as url:
        ids = _seed(url, args.occurrences)
        port = _free_port()
        env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_BIND": f"127.0.0.1:{port}",
               "TRACKER_WEB_WORKERS": str(args.workers), "TRACKER_ENV": "development", "TRACKER_LOG_LEVEL": "warning",
               "TRACKER_RATELIMIT_ENABLED": "false"}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen([gunicorn, "-c", "config/gunicorn.conf.py", "--access-logfile", "/dev/null"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base)
            todo: queue.Queue[int] = queue.Queue()
            for i in ids[1:]:
                todo.put(i)
            clients = [_client(base, ids[0]) for _ in range(args.clients)]
            codes: list[int] = []
            latencies: list[float] = []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds

            def run(client: object, csrf: str) -> None:
                while time.perf_counter() < deadline:
                    try:
                        occurrence_id = todo.get_nowait()
                    except queue.Empty:
                        return
                    start = time.perf_counter()
                    response = client.post(f"/occurrences/{occurrence_id}/done",  # type: ignore[attr-defined]
                                           data={"note": "Xong", "confirm": "y", "csrf_token": csrf})
                    took = time.perf_counter() - start
                    with lock:
                        codes.append(response.status_code)
                        latencies.append(took * 1000)

            threads = [threading.Thread(target=run, args=c) for c in clients]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(30)
        ok = sum(1 for c in codes if c == 302)
        latencies.sort()
        print(f"mark done: {len(codes)} requests in {elapsed:.1f} s = {len(codes) / elapsed:.1f}/s "
              f"({ok} answered 302; others {sorted(set(codes) - {302})}); {args.workers} gunicorn workers, "
              f"{args.clients} clients; median {statistics.median(latencies):.1f} ms, "
              f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms")


def _wait(base: str) -> None:
    import httpx

    for _ in range(300):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
