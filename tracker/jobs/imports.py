"""The import job: claim one queued upload, read it page by page (recording progress), write its draft.

`run_import_once` is what a worker's import loop calls, and what tests call to drain the queue. It
commits the claim at once (so other workers skip the job), reads and writes the draft in one
transaction of its own, and records the outcome in that same transaction: a draft never exists without
its job saying "done", and a job that was taken over by another worker writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.importer.budget import reporting_progress
from tracker.models import ImportJob
from tracker.operations.errors import DomainError
from tracker.operations.import_jobs import (
    INTERNAL_ERROR,
    JobLost,
    claim_next,
    fail_abandoned,
    fail_job,
    finish_job,
    record_progress,
    release_job,
)
from tracker.operations.plan_import import import_plan

log = logging.getLogger("tracker.worker")


class Stopping(Exception):
    """The worker is shutting down: the job goes back to the queue for the next worker."""


def lease_of(config: Mapping[str, Any]) -> timedelta:
    """How long a worker's claim on an import lasts before it must be renewed (IMPORT_JOB_LEASE_SECONDS)."""
    return timedelta(seconds=float(config.get("IMPORT_JOB_LEASE_SECONDS", 120)))


def run_import_once(worker: str, *, should_stop: Callable[[], bool] = lambda: False,
                    on_claim: Callable[[int | None], None] = lambda _job_id: None) -> int | None:
    """Claim and process one import job in the current app context; its id, or None if the queue is empty."""
    config = current_app.config
    lease = lease_of(config)
    now = utcnow()
    fail_abandoned(now, max_attempts=int(config.get("IMPORT_JOB_MAX_ATTEMPTS", 3)))
    job_id = claim_next(worker, now, lease=lease)
    db.session.commit()
    if job_id is None:
        return None
    on_claim(job_id)
    try:
        _process(job_id, worker, lease, should_stop)
    except Stopping:
        db.session.rollback()
        released = release_job(job_id, worker)
        db.session.commit()
        log.info("import job %s %s: worker %s is stopping", job_id, "released" if released else "lost", worker)
    except JobLost:
        db.session.rollback()
        log.warning("import job %s was taken over by another worker; %s dropped its work", job_id, worker)
    except DomainError as error:  # a document we cannot read, a permission the uploader lost
        db.session.rollback()
        fail_job(job_id, worker, utcnow(), error.render())
        db.session.commit()
        log.info("import job %s failed: %s", job_id, error.render())
    except Exception:
        db.session.rollback()
        log.exception("import job %s failed unexpectedly in worker %s", job_id, worker)
        try:
            fail_job(job_id, worker, utcnow(), INTERNAL_ERROR)
            db.session.commit()
        except Exception:  # the database itself is down: the lease expires and the job is retried
            db.session.rollback()
            log.exception("cannot record the failure of import job %s", job_id)
    finally:
        on_claim(None)
    return job_id


def _process(job_id: int, worker: str, lease: timedelta, should_stop: Callable[[], bool]) -> None:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.content is None:
        raise JobLost(job_id)
    interval = float(current_app.config.get("IMPORT_PROGRESS_INTERVAL_SECONDS", 1.0))
    recorded = _Recorded()

    def on_progress(phase: str, done: int, total: int) -> None:
        if should_stop():
            raise Stopping(job_id)
        moment = time.monotonic()
        # Every page would be one commit a millisecond for a text PDF: record a change of phase, the last
        # page, and otherwise at most one page count per interval.
        if phase == recorded.phase and done < total and moment - recorded.at < interval:
            return
        recorded.phase, recorded.at = phase, moment
        with db.engine.begin() as connection:  # its own transaction: the uploader sees it now
            record_progress(connection, job_id, worker, now=utcnow(), lease=lease, phase=phase, done=done,
                            total=total)

    on_progress("reading", 0, 0)
    with reporting_progress(on_progress):
        result = import_plan(job.requested_by, filename=job.filename, data=job.content,
                             issuing_unit=job.issuing_unit, update=job.is_update)
    if result.duplicate_of is not None:
        finish_job(job_id, worker, utcnow(), plan_id=None, tasks_created=0,
                   duplicate_of_id=result.duplicate_of.id, duplicate_reason=result.duplicate_reason)
    else:
        finish_job(job_id, worker, utcnow(), plan_id=result.plan.id if result.plan else None,
                   tasks_created=result.tasks_created)
    db.session.commit()
    log.info("import job %s done by %s: %s", job_id, worker, result.summary())


class _Recorded:
    """The last progress written for a job (phase and when), to throttle the writes."""

    phase: str | None = None
    at: float = 0.0
