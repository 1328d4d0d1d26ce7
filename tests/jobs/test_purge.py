"""The daily purge: long-expired action links and long-finished import jobs go, everything else stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.jobs.conftest import run
from tracker.extensions import db
from tracker.models import ActionLink, ImportJob, ImportJobStatus, Plan
from tracker.notify.links import new_link

NOW = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def app_config() -> dict[str, Any]:
    # A batch smaller than the rows to purge: the loop, not one statement, does the work.
    return {"ACTION_LINK_RETENTION_DAYS": 30, "IMPORT_JOB_RETENTION_DAYS": 90, "PURGE_BATCH_SIZE": 2}


def _link(active_plan: Any, person: Any, expires_at: datetime, **extra: Any) -> int:
    _token, values = new_link(active_plan.occurrence.id, person.id, now=expires_at - 14 * DAY)
    link = ActionLink(**{**values, "expires_at": expires_at, **extra})
    db.session.add(link)
    db.session.flush()
    return link.id


def _job(commune: Any, status: ImportJobStatus, finished_at: datetime | None, plan: Any = None) -> int:
    job = ImportJob(status=status, filename="ke-hoach.docx", size_bytes=3, content=b"abc",
                    issuing_unit_id=commune.xa.id, finished_at=finished_at, plan_id=plan.id if plan else None,
                    created_at=(finished_at or NOW) - DAY)
    db.session.add(job)
    db.session.flush()
    return job.id


def test_purge_deletes_only_long_expired_links_and_long_finished_jobs(app, commune, active_plan) -> None:  # type: ignore[no-untyped-def]
    [_link(active_plan, commune.officer, NOW - 31 * DAY),
           _link(active_plan, commune.head, NOW - 60 * DAY, used_at=NOW - 70 * DAY, used_for="done"),
           _link(active_plan, commune.chair, NOW - 400 * DAY, revoked_at=NOW - 401 * DAY)]
    kept_links = [_link(active_plan, commune.officer, NOW - 29 * DAY),  # expired, but not long ago
                  _link(active_plan, commune.head, NOW + 5 * DAY)]  # still valid
    _job(commune, ImportJobStatus.DONE, NOW - 91 * DAY, plan=active_plan.plan)
    _job(commune, ImportJobStatus.FAILED, NOW - 200 * DAY)
    kept_jobs = [_job(commune, ImportJobStatus.DONE, NOW - 89 * DAY, plan=active_plan.plan),
                 _job(commune, ImportJobStatus.QUEUED, None),  # never finished: a worker will take it
                 _job(commune, ImportJobStatus.RUNNING, None)]
    db.session.commit()

    assert run("purge", NOW) == {"now": NOW.isoformat(), "action_links": 3, "import_jobs": 2}

    db.session.expire_all()
    assert set(db.session.scalars(sa.select(ActionLink.id))) == set(kept_links)
    assert set(db.session.scalars(sa.select(ImportJob.id))) == set(kept_jobs)
    # The plan the purged job wrote stays, with its document.
    assert db.session.get(Plan, active_plan.plan.id) is not None
    # Nothing more to do: a second run deletes nothing.
    assert run("purge", NOW) == {"now": NOW.isoformat(), "action_links": 0, "import_jobs": 0}


def test_retention_zero_keeps_everything(app, commune, active_plan) -> None:  # type: ignore[no-untyped-def]
    app.config.update(ACTION_LINK_RETENTION_DAYS=0, IMPORT_JOB_RETENTION_DAYS=0)
    _link(active_plan, commune.officer, NOW - 1000 * DAY)
    _job(commune, ImportJobStatus.DONE, NOW - 1000 * DAY)
    db.session.commit()

    assert run("purge", NOW) == {"now": NOW.isoformat(), "action_links": 0, "import_jobs": 0}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionLink)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 1


def test_purge_command_prints_what_it_deleted(app, commune, active_plan) -> None:  # type: ignore[no-untyped-def]
    import json

    _link(active_plan, commune.officer, NOW - 31 * DAY)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["purge", "--now", NOW.isoformat()])

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["action_links"], printed["import_jobs"]) == (1, 0)
