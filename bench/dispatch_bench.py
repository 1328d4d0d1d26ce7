"""Benchmark the dispatcher against a loopback SMTP server on PostgreSQL (prints figures; not a test).

    .venv/bin/python bench/dispatch_bench.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--emails 20000] [--dispatchers 1 2 4] [--batch-size 200] [--keep]

Creates a throw-away database next to the one in --url, loads a province (bench/sweep_bench.py's seed),
queues --emails reminder e-mails (one per open occurrence, to the lead unit's officer), then:
- the floor: the same messages rendered beforehand, sent with smtplib on ONE connection (sendmail in a
  loop), and on one connection per message;
- the dispatcher: 1, 2 and 4 dispatcher processes started together against the same outbox (claims,
  set-based facts, rendering, one SMTP connection per batch, outcomes per batch), the outbox reset to
  pending between runs.
E-mails/s are counted at the SMTP server (aiosmtpd in this process), each run checks that every
notification arrived exactly once, and the load average is printed beside each figure (the machine may
be shared).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import smtplib
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 9, 18, 8, 0, tzinfo=VN)
HEADER = b"X-Tracker-Notification-Id: "


class _Sink:
    """Accept everything; count messages per notification id and connections."""

    def __init__(self) -> None:
        self.ids: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        start = content.find(HEADER)
        key = content[start + len(HEADER):content.find(b"\r\n", start)] if start >= 0 else b"?"
        with self.lock:
            self.ids[key] += 1
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.ids.clear()

    def summary(self) -> tuple[int, int]:
        with self.lock:
            return sum(self.ids.values()), sum(1 for v in self.ids.values() if v > 1)


def _queue(engine: sa.Engine, emails: int) -> int:
    """One pending reminder e-mail per open occurrence (up to `emails`), to the lead unit's officer."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO notifications (dedupe_key, kind, channel, recipient_id, occurrence_id, due_on, status,
                                       attempts, next_attempt_at, created_at, escalation_level)
            SELECT 'bench:' || o.id, 'reminder', 'email', r.person_id, o.id, o.due_on, 'pending', 0,
                   :queued, :queued, 0
            FROM occurrences o
            JOIN role_assignments r ON r.unit_id = o.lead_unit_id AND r.role = 'officer'
            WHERE o.completed_at IS NULL
            ORDER BY o.id
            LIMIT :emails
        """), {"queued": NOW - timedelta(minutes=1), "emails": emails})
        conn.execute(sa.text("ANALYZE notifications"))
        return int(conn.execute(sa.text("SELECT count(*) FROM notifications")).scalar_one())


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE notifications SET status = 'pending', attempts = 0, sent_at = NULL, provider_message_id = NULL, "
            "claimed_by = NULL, claimed_until = NULL, last_error = NULL, next_attempt_at = :queued"),
            {"queued": NOW - timedelta(minutes=1)})
        conn.execute(sa.text("DELETE FROM channel_states"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE notifications"))


def _config(url: str, port: int, batch_size: int) -> dict[str, Any]:
    return {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
            "MAIL_SUPPRESS_SEND": False, "TESTING": False, "DISPATCH_BATCH_SIZE": batch_size,
            "DISPATCH_MAX_BATCHES": 1_000_000, "PUBLIC_BASE_URL": "https://tracker.example.vn",
            "MAIL_DEFAULT_SENDER": ("Hệ thống theo dõi nhiệm vụ", "noreply@ubnd.vn")}


def _dispatcher_process(config: dict[str, Any], ready: Any, go: Any, results: Any) -> None:
    """One dispatcher process: build the app, wait for the start, run until the outbox is empty."""
    from tracker import create_app
    from tracker.extensions import db
    from tracker.notify.dispatcher import dispatch
    from tracker.operations.reminders import work_calendar

    logging.getLogger("tracker.notify").setLevel(logging.WARNING)
    app = create_app(config)
    with app.app_context():
        calendar = work_calendar()
        db.session.execute(sa.text("SELECT 1"))  # connect before the clock starts
        db.session.commit()
        ready.set()
        go.wait()
        result = dispatch(NOW, calendar=calendar, app=app)
        results.put((result.sent, result.failed, result.dead, result.batches))
        db.session.remove()
        db.engine.dispose()


def _render_all(app: Any, after_id: int = 0) -> list[tuple[str, list[str], bytes]]:
    """The queued messages (with ids above `after_id`) rendered and serialised as the dispatcher does, as
    (sender, recipients, bytes): what the smtplib floor sends."""
    from flask_mail import sanitize_address

    from tracker.extensions import db
    from tracker.models import Notification
    from tracker.notify.dispatcher import Dispatcher, DispatchSettings
    from tracker.notify.email import mime_bytes
    from tracker.notify.render import MessageRenderer, load_facts, message_context
    from tracker.operations.reminders import work_calendar

    calendar = work_calendar()
    settings = DispatchSettings.from_config(app.config)
    renderer = MessageRenderer.from_database(app.config)
    dispatcher = Dispatcher({}, calendar, settings)
    sender = app.config["MAIL_DEFAULT_SENDER"]
    from_header, envelope_from = sanitize_address(sender), sanitize_address(sender[1])
    ids = list(db.session.scalars(sa.select(Notification.id).where(Notification.id > after_id)
                                  .order_by(Notification.id)))
    today = calendar.local_today(NOW)
    out = []
    for start in range(0, len(ids), 1000):
        facts = load_facts(ids[start:start + 1000])
        for nid in ids[start:start + 1000]:
            row = facts[nid]
            context = message_context(row, today=today, base_url=settings.base_url, calendar=calendar)
            rendered = renderer.render(row.kind, row.channel, row.recipient_locale, context)
            message = dispatcher._address(row, rendered, context)
            data = mime_bytes(message, recipient=message.recipient, from_header=from_header,
                              message_id=f"<notification-{nid}@ubnd.vn>")
            out.append((envelope_from, [message.recipient], data))
    return out


def _floor(port: int, messages: list[tuple[str, list[str], bytes]], *, per_message: bool) -> float:
    started = time.perf_counter()
    if per_message:
        for sender, recipients, data in messages:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail(sender, recipients, data)
    else:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for sender, recipients, data in messages:
                smtp.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--dispatchers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    from benchdb import local_smtp, throwaway_database
    from flask_migrate import upgrade
    from sweep_bench import _seed

    from tracker import create_app
    from tracker.extensions import db

    sink = _Sink()
    with throwaway_database(args.url, args.keep) as url, local_smtp(sink) as port:
        database = sa.engine.make_url(url).database
        config = _config(url, port, args.batch_size)
        app = create_app(config)
        logging.getLogger("tracker.notify").setLevel(logging.WARNING)
        communes = max(10, args.emails // 250 + 1)
        with app.app_context():
            upgrade()
            counts = _seed(db.engine, communes, 400)
            queued = _queue(db.engine, args.emails)
            print(f"database {database}: {counts['occurrences']:,} occurrences, {queued:,} e-mails queued; "
                  f"batch {args.batch_size}; {os.cpu_count()} CPUs")
            messages = _render_all(app)
            db.session.remove()
            db.engine.dispose()
        sink.reset()
        t_one = _floor(port, messages, per_message=False)
        floor = len(messages) / t_one
        print(f"{'floor: smtplib, one connection':<40} {floor:>8,.0f} e-mails/s  ({_load()})")
        sink.reset()
        sample = messages[: max(1, len(messages) // 4)]
        t_each = _floor(port, sample, per_message=True)
        print(f"{'floor: smtplib, one connection each':<40} {len(sample) / t_each:>8,.0f} e-mails/s  ({_load()})")
        engine = sa.create_engine(url)
        context = multiprocessing.get_context("spawn")
        for n in args.dispatchers:
            _reset(engine)
            sink.reset()
            ready = [context.Event() for _ in range(n)]
            go = context.Event()
            results = context.Queue()
            procs = [context.Process(target=_dispatcher_process, args=(config, r, go, results)) for r in ready]
            for proc in procs:
                proc.start()
            for r in ready:
                r.wait(120)
            started = time.perf_counter()
            go.set()
            outcomes = [results.get(timeout=3600) for _ in procs]
            elapsed = time.perf_counter() - started
            for proc in procs:
                proc.join(60)
            received, repeated = sink.summary()
            with engine.connect() as conn:
                sent_rows = conn.execute(sa.text("SELECT count(*) FROM notifications WHERE status = 'sent'")).scalar()
            rate = received / elapsed
            print(f"{f'{n} dispatcher(s)':<40} {rate:>8,.0f} e-mails/s  = {rate / floor:.2f} x floor  ({_load()}); "
                  f"received {received:,}, repeated {repeated}, rows sent {sent_rows:,}, "
                  f"batches {sum(o[3] for o in outcomes)}, failed {sum(o[1] for o in outcomes)}, "
                  f"dead {sum(o[2] for o in outcomes)}")
        engine.dispose()


if __name__ == "__main__":
    main()
