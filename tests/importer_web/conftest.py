"""Fixtures for the plan import pages: signing in, uploading, counting rows, the demo plan texts."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import AuditEvent, Indicator, OrgUnit, Plan, PlanDocument, Task

DEMO_PLANS = Path(__file__).resolve().parents[2] / "tracker" / "data" / "demo_plans"
PLAN_004 = "004_c8b79a7600a1cc52.txt"  # UBND xã Cao Ngọc, 2024: report deadlines 25/9 and 30/9
PLAN_003 = "003_9a978320c38bc04c.txt"  # UBND tỉnh Hưng Yên, 2023-2025: the largest


def plan_bytes(name: str) -> bytes:
    return (DEMO_PLANS / name).read_bytes()


def counts() -> dict[str, int]:
    """Rows of every table an import writes to (the upload's own "queued" audit event aside: an upload that
    cannot be read is still a recorded request; what these tests compare is what the import wrote)."""
    found = {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
             for m in (Plan, PlanDocument, Task, Indicator, OrgUnit)}
    found["audit_events"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action != "plan.import_queued"))
    return found


def run_worker(app: Flask) -> int:
    """Let a worker drain the import queue, as `tracker worker` would (in this thread, its own session)."""
    from tracker.jobs.worker import Worker

    db.session.commit()  # end the test's transaction: SQLite would make the worker wait on it
    steps = Worker(app, queues=("imports",)).drain()
    db.session.expire_all()
    return steps


def finish_import(client: FlaskClient, app: Flask, response: Any) -> Any:
    """After an upload answered with its job's page: the worker reads the job, then the page is opened
    again, as the refreshing page would (the review's redirect, the duplicate notice or the error)."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if "/plans/import/jobs/" not in location:
        return response
    run_worker(app)
    return client.get(location)



@pytest.fixture
def upload(client: FlaskClient, app: Flask, commune: Any) -> Callable[..., Any]:
    """POST a file to /plans/import for the fixture's commune (or another issuing unit); unless `wait=False`,
    let the worker read it and return the job page's final answer (see finish_import)."""

    def post(name: str, data: bytes, *, unit: Any = None, update: bool = False, wait: bool = True, **kw: Any) -> Any:
        form = {"file": (io.BytesIO(data), name), "issuing_unit_id": str((unit or commune.xa).id)}
        if update:
            form["update"] = "1"
        response = client.post("/plans/import", data=form, content_type="multipart/form-data", **kw)
        return finish_import(client, app, response) if wait else response

    return post
