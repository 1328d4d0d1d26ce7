"""The daily purge: rows that only grow and serve nobody once old.

- reminder action links expired more than ACTION_LINK_RETENTION_DAYS ago (used, revoked or unused: they open
  nothing any more; the audit log keeps what was done through them);
- import jobs finished (done or failed) more than IMPORT_JOB_RETENTION_DAYS ago, with the upload they hold;
  the plan a job wrote is untouched (it keeps its own copy of the document).

Each table is emptied by one set-based DELETE of at most PURGE_BATCH_SIZE rows at a time (the oldest ids first,
found through an index), each batch committed on its own, so that a first purge of a long backlog holds no long
transaction and no lock for long. Safe to run twice or at once: a row is deleted once, by whoever gets it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker.extensions import db
from tracker.models import ActionLink, ImportJob, ImportJobStatus

log = logging.getLogger("tracker.jobs")


@dataclass
class PurgeResult:
    now: datetime
    action_links: int = 0
    import_jobs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "action_links": self.action_links, "import_jobs": self.import_jobs}


def _cutoff(now: datetime, key: str) -> datetime | None:
    days = int(current_app.config.get(key, 0) or 0)
    return now - timedelta(days=days) if days > 0 else None


def _delete_in_batches(table: sa.Table, where: list[sa.ColumnElement[bool]], batch: int) -> int:
    """Delete the rows matching `where`, `batch` at a time, committing each batch; return how many."""
    total = 0
    while True:
        ids = sa.select(table.c.id).where(*where).order_by(table.c.id).limit(batch).scalar_subquery()
        deleted = db.session.execute(sa.delete(table).where(table.c.id.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch:
            return total


def run_purge(now: datetime) -> PurgeResult:
    """Delete old action links and finished import jobs (see the module docstring); commits per batch."""
    result = PurgeResult(now=now)
    batch = max(1, int(current_app.config.get("PURGE_BATCH_SIZE", 5000)))
    links_before = _cutoff(now, "ACTION_LINK_RETENTION_DAYS")
    if links_before is not None:
        links = ActionLink.__table__
        result.action_links = _delete_in_batches(links, [links.c.expires_at < links_before], batch)
    jobs_before = _cutoff(now, "IMPORT_JOB_RETENTION_DAYS")
    if jobs_before is not None:
        jobs = ImportJob.__table__
        finished = [ImportJobStatus.DONE, ImportJobStatus.FAILED]
        result.import_jobs = _delete_in_batches(jobs, [jobs.c.status.in_(finished),
                                                       jobs.c.finished_at < jobs_before], batch)
    log.info("purge %s: %d action links, %d import jobs", now.isoformat(), result.action_links, result.import_jobs)
    return result
