"""Fixtures for the plan import pages: signing in, uploading, counting rows, the demo plan texts."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import AuditEvent, Indicator, OrgUnit, Plan, PlanDocument, Task

DEMO_PLANS = Path(__file__).resolve().parents[2] / "tracker" / "data" / "demo_plans"
PLAN_004 = "004_c8b79a7600a1cc52.txt"  # UBND xã Cao Ngọc, 2024: report deadlines 25/9 and 30/9
PLAN_003 = "003_9a978320c38bc04c.txt"  # UBND tỉnh Hưng Yên, 2023-2025: the largest


def plan_bytes(name: str) -> bytes:
    return (DEMO_PLANS / name).read_bytes()


def counts() -> dict[str, int]:
    """Rows of every table an import writes to."""
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Plan, PlanDocument, Task, Indicator, OrgUnit, AuditEvent)}



@pytest.fixture
def upload(client: FlaskClient, commune: Any) -> Callable[..., Any]:
    """POST a file to /plans/import for the fixture's commune (or another issuing unit)."""

    def post(name: str, data: bytes, *, unit: Any = None, update: bool = False, **kw: Any) -> Any:
        form = {"file": (io.BytesIO(data), name), "issuing_unit_id": str((unit or commune.xa).id)}
        if update:
            form["update"] = "1"
        return client.post("/plans/import", data=form, content_type="multipart/form-data", **kw)

    return post
