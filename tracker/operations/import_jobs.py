"""The import-job queue: an upload becomes a job at once; a worker claims it, reads it and writes the draft.

Reading a document (above all OCR of a scan, seconds a page) no longer runs inside the web request: the
upload stores the bytes in an `ImportJob` and answers; a `tracker worker` claims the job, reads it page by
page (recording how far it got), then writes the draft with tracker.operations.plan_import.import_plan,
the one code path for every import.

Claims are safe with any number of workers: the candidate is selected FOR UPDATE SKIP LOCKED on
PostgreSQL (a no-op on SQLite, where writers are serialised anyway) and taken by a conditional UPDATE
(`WHERE status = 'queued' OR the lease expired`), so exactly one worker wins. The winner holds a lease it
renews while it reads; a worker that dies leaves the job "running" with an expired lease, and the next
claim takes it over (another attempt). Every later write of the job is conditional on `claimed_by`, so a
worker whose job was taken over cannot record an outcome for it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.extensions import db
from tracker.models import ImportJob, ImportJobStatus, OrgUnit, Person, Plan, PlanStatus
from tracker.operations import audit
from tracker.operations.authz import Permission, require
from tracker.operations.errors import Conflict, ValidationFailed

log = logging.getLogger("tracker.importer")

#: What a job that ran out of attempts says (its workers kept dying: killed, out of memory, restarted).
ABANDONED_ERROR = ("Không đọc xong được tài liệu: tiến trình đọc đã dừng giữa chừng {attempts} lần "
                   "(có thể tài liệu quá nặng). Hãy thử lại hoặc liên hệ quản trị viên.")
#: What an unexpected error (a bug, not a bad document) tells the uploader; the log has the details.
INTERNAL_ERROR = "Lỗi hệ thống khi đọc tài liệu; quản trị viên đã được ghi nhận lỗi. Hãy thử lại sau."


class JobLost(Exception):
    """The job is no longer this worker's (its lease expired and another worker took it over)."""


def enqueue_import(
    actor: Person | None, *, filename: str, data: bytes, issuing_unit: OrgUnit, update: bool = False,
    max_bytes: int,
) -> ImportJob:
    """Queue `data` to be read into a draft plan of `issuing_unit`; checks what is cheap to check now.

    Permission, emptiness and size are refused at once (the job would fail anyway, and an oversized file
    must not be stored); whether the bytes are a readable plan is the worker's to find out.
    """
    from tracker.importer import errors

    require(actor, Permission.MANAGE_PLANS, issuing_unit)
    if not data or not data.strip():
        error = errors.empty_document()
        raise ValidationFailed(error.message_vi, field="file")
    if len(data) > max_bytes:
        error = errors.too_large(len(data), max_bytes)
        raise ValidationFailed(error.message_vi, field="file")
    job = ImportJob(
        status=ImportJobStatus.QUEUED, filename=(filename or "plan")[:255], size_bytes=len(data), content=data,
        issuing_unit_id=issuing_unit.id, is_update=update, requested_by_id=actor.id if actor else None,
    )
    db.session.add(job)
    db.session.flush()
    audit.record("plan.import_queued", job, actor, unit_id=issuing_unit.id,
                 after={"filename": job.filename, "size_bytes": job.size_bytes, "update": update})
    log.info("import job %s queued: %s (%s bytes) for unit %s", job.id, job.filename, len(data), issuing_unit.id)
    return job


def enqueue_reimport(actor: Person | None, plan: Plan) -> ImportJob:
    """Queue the draft's stored document to be read again into the draft (after an importer update)."""
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_l("The plan is already active; change its tasks on the plan page instead."))
    document = plan.document
    if document is None:
        raise ValidationFailed(_l("This plan was not imported from a document."), field="file")
    return enqueue_import(actor, filename=document.filename, data=document.content, issuing_unit=plan.issuing_unit,
                          update=True, max_bytes=len(document.content))


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        ImportJob.status == ImportJobStatus.QUEUED,
        sa.and_(ImportJob.status == ImportJobStatus.RUNNING, ImportJob.lease_expires_at < now),
    )


def fail_abandoned(now: datetime, *, max_attempts: int) -> int:
    """Fail (set-based) the jobs whose worker died `max_attempts` times: a document that kills its reader."""
    table = ImportJob.__table__
    return db.session.execute(
        sa.update(table)
        .where(table.c.status == ImportJobStatus.RUNNING.value, table.c.lease_expires_at < now,
               table.c.attempts >= max_attempts)
        .values(status=ImportJobStatus.FAILED.value, finished_at=now, claimed_by=None, lease_expires_at=None,
                content=None, phase=None, error=sa.literal(ABANDONED_ERROR.format(attempts=max_attempts)))
    ).rowcount or 0


def claim_next(worker: str, now: datetime, *, lease: timedelta) -> int | None:
    """Take the oldest claimable job for `worker`; return its id (the caller commits), or None."""
    candidates = (
        sa.select(ImportJob.id).where(_claimable(now)).order_by(ImportJob.id).limit(5)
        .with_for_update(skip_locked=True)  # PostgreSQL: skip rows another worker is claiming right now
    )
    for job_id in db.session.scalars(candidates).all():
        won = db.session.execute(
            sa.update(ImportJob.__table__)
            .where(ImportJob.__table__.c.id == job_id, _claimable(now))
            .values(status=ImportJobStatus.RUNNING.value, claimed_by=worker, lease_expires_at=now + lease,
                    heartbeat_at=now, started_at=sa.func.coalesce(ImportJob.__table__.c.started_at, now),
                    attempts=ImportJob.__table__.c.attempts + 1, phase=None, pages_done=0, pages_total=None)
        ).rowcount
        if won:
            return int(job_id)
    return None


def _mine(job_id: int, worker: str) -> tuple[sa.ColumnElement[bool], ...]:
    table = ImportJob.__table__
    return (table.c.id == job_id, table.c.claimed_by == worker, table.c.status == ImportJobStatus.RUNNING.value)


def record_progress(connection: sa.Connection, job_id: int, worker: str, *, now: datetime, lease: timedelta,
                    phase: str | None = None, done: int | None = None, total: int | None = None) -> None:
    """Renew the job's lease (and record its progress) on `connection`; raise JobLost if it is not ours.

    Runs on a connection of its own, committed at once, so the uploader sees the progress while the
    import's own transaction is still open.
    """
    values: dict[str, Any] = {"heartbeat_at": now, "lease_expires_at": now + lease}
    if phase is not None:
        values.update(phase=phase[:16], pages_done=max(0, done or 0), pages_total=total or None)
    updated = connection.execute(sa.update(ImportJob.__table__).where(*_mine(job_id, worker)).values(**values))
    if not updated.rowcount:
        raise JobLost(job_id)


def finish_job(job_id: int, worker: str, now: datetime, *, plan_id: int | None, tasks_created: int,
               duplicate_of_id: int | None = None, duplicate_reason: str | None = None) -> None:
    """Record the outcome in the import's own transaction; JobLost (roll everything back) if not ours."""
    done = db.session.execute(
        sa.update(ImportJob.__table__).where(*_mine(job_id, worker))
        .values(status=ImportJobStatus.DONE.value, finished_at=now, plan_id=plan_id, tasks_created=tasks_created,
                duplicate_of_id=duplicate_of_id, duplicate_reason=duplicate_reason, content=None, claimed_by=None,
                lease_expires_at=None, phase=None, error=None)
    ).rowcount
    if not done:
        raise JobLost(job_id)


def fail_job(job_id: int, worker: str, now: datetime, message: str) -> bool:
    """Mark the job failed with `message` (Vietnamese, shown to the uploader); False if it was not ours."""
    return bool(db.session.execute(
        sa.update(ImportJob.__table__).where(*_mine(job_id, worker))
        .values(status=ImportJobStatus.FAILED.value, finished_at=now, error=message[:4000], content=None,
                claimed_by=None, lease_expires_at=None, phase=None)
    ).rowcount)


def release_job(job_id: int, worker: str) -> bool:
    """Put the job back in the queue untouched (a worker stopping): the next claim starts it again.

    The interrupted run does not count as an attempt: only crashes use the job's attempts up.
    """
    table = ImportJob.__table__
    return bool(db.session.execute(
        sa.update(table).where(*_mine(job_id, worker))
        .values(status=ImportJobStatus.QUEUED.value, claimed_by=None, lease_expires_at=None, phase=None,
                pages_done=0, pages_total=None, attempts=sa.case((table.c.attempts > 0, table.c.attempts - 1),
                                                                 else_=0))
    ).rowcount)


def queue_position(job: ImportJob) -> int:
    """How many queued jobs are ahead of `job` (0: it is next)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ImportJob)
        .where(ImportJob.status == ImportJobStatus.QUEUED, ImportJob.id < job.id)
    ) or 0


def job_state(job: ImportJob) -> dict[str, Any]:
    """The job's state as the progress page's JSON endpoint returns it."""
    return {
        "id": job.id, "status": job.status.value, "phase": job.phase, "pages_done": job.pages_done,
        "pages_total": job.pages_total, "attempts": job.attempts, "error": job.error, "plan_id": job.plan_id,
        "tasks_created": job.tasks_created, "duplicate_of": job.duplicate_of_id,
        "duplicate_reason": job.duplicate_reason, "filename": job.filename,
    }


def require_job_access(actor: Person, job: ImportJob) -> None:
    """The uploader, or anyone who manages plans of the job's issuing unit, may follow the job."""
    if job.requested_by_id is not None and job.requested_by_id == actor.id:
        return
    require(actor, Permission.MANAGE_PLANS, job.issuing_unit)

