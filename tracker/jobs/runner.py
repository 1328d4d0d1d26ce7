"""Run a job the same way everywhere (scheduler, CLI, tests): app context, one commit, heartbeat.

A job is a function `job(now) -> result` with `result.as_dict()`. The runner commits once at the end
(the dispatcher also commits each outcome as it goes), rolls back and logs on failure, and records a
`JobHeartbeat` row (last start, last end, status, error, result) in its own short transaction, so a
failed job still leaves a trace on the admin page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import JobHeartbeat
from tracker.sqlutil import insert_ignoring_conflicts

log = logging.getLogger("tracker.jobs")

Job = Callable[[datetime], Any]


@dataclass(frozen=True)
class JobOutcome:
    name: str
    ok: bool
    now: datetime
    result: dict[str, Any] | None = None
    error: str | None = None


def _jobs() -> dict[str, Job]:
    from tracker.jobs.audit_link import run_audit_link
    from tracker.jobs.digest import run_digest
    from tracker.jobs.dispatch import run_dispatch
    from tracker.jobs.purge import run_purge
    from tracker.jobs.summaries import run_summaries
    from tracker.jobs.sweep import run_sweep

    return {"sweep": run_sweep, "dispatch": run_dispatch, "digest": run_digest, "audit_link": run_audit_link,
            "summaries": run_summaries, "purge": run_purge}


def job_named(name: str) -> Job:
    """The job function registered under `name` (sweep, dispatch, digest, audit_link, summaries, purge)."""
    return _jobs()[name]


def run_job(
    name: str,
    job: Job | None = None,
    *,
    now: datetime | None = None,
    commit: bool = True,
    heartbeat: bool = True,
    app: Flask | None = None,
) -> JobOutcome:
    """Run `job` (default: the job called `name`) at `now` inside a fresh app context."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    job = job or job_named(name)
    with app.app_context():
        started = utcnow()
        now = now or started
        if heartbeat:
            _beat(name, last_started_at=started)
        try:
            result = job(now)
            if commit:
                db.session.commit()
            else:
                db.session.rollback()
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s failed at %s", name, now.isoformat())
            error = f"{type(exc).__name__}: {exc}"[:4000]
            if heartbeat:
                _beat(name, last_finished_at=utcnow(), last_status="error", last_error=error, count=True)
            return JobOutcome(name, False, now, error=error)
        data = result.as_dict() if hasattr(result, "as_dict") else {"result": result}
        if heartbeat:
            _beat(name, last_finished_at=utcnow(), last_status="ok", last_error=None,
                  last_result=json.dumps(data, ensure_ascii=False, default=str)[:4000], count=True)
        return JobOutcome(name, True, now, result=data)


def _beat(name: str, *, count: bool = False, **values: Any) -> None:
    table = JobHeartbeat.__table__
    try:
        db.session.execute(insert_ignoring_conflicts(db.session, table, ["job_id"]).values(job_id=name, run_count=0))  # type: ignore[arg-type]
        if count:
            values["run_count"] = table.c.run_count + 1
        db.session.execute(sa.update(table).where(table.c.job_id == name).values(**values))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("cannot record the heartbeat of job %s", name)


def heartbeats() -> list[JobHeartbeat]:
    """Every job's last run, for the admin page."""
    return list(db.session.scalars(sa.select(JobHeartbeat).order_by(JobHeartbeat.job_id)))
