"""With CSRF protection on (as in production): every import form carries its token; a forged post changes nothing."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from tests.importer_web.conftest import PLAN_004, counts, finish_import, plan_bytes
from tracker.extensions import db
from tracker.models import Plan, PlanStatus, Task


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str, name: str = "csrf_token") -> str:
    return re.search(rf'name="{re.escape(name)}" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _sign_in(client) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ldtbxh", "password": "secret-pass-1", "csrf_token": token})
    assert response.status_code == 302


def test_forged_upload_and_confirm_are_refused_and_genuine_ones_work(client, app, commune):
    _sign_in(client)
    before = counts()
    forged = client.post("/plans/import", data={"file": (io.BytesIO(plan_bytes(PLAN_004)), "kh.txt"),
                                                "issuing_unit_id": str(commune.xa.id)},
                         content_type="multipart/form-data")
    assert forged.status_code == 400 and counts() == before

    token = _token(client.get("/plans/import").get_data(as_text=True))
    response = client.post("/plans/import", data={"file": (io.BytesIO(plan_bytes(PLAN_004)), "kh.txt"),
                                                  "issuing_unit_id": str(commune.xa.id), "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert finish_import(client, app, response).status_code == 302  # the worker read it into a draft
    plan = db.session.scalar(sa.select(Plan))
    review = client.get(f"/plans/{plan.id}/review").get_data(as_text=True)

    task = db.session.scalar(sa.select(Task).where(Task.plan_id == plan.id, Task.lead_unit_id.is_(None)))
    prefix = f"t{task.id}"
    changed = client.post(f"/plans/{plan.id}/tasks/{task.id}/unit", data={
        f"{prefix}-lead": str(commune.labour.id), f"{prefix}-csrf_token": _token(review, f"{prefix}-csrf_token")})
    assert changed.status_code == 302
    assert client.post(f"/plans/{plan.id}/confirm").status_code == 400
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).status == PlanStatus.DRAFT
    confirmed = client.post(f"/plans/{plan.id}/confirm", data={"csrf_token": _token(review)})
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).status == PlanStatus.ACTIVE
    assert db.session.get(Task, task.id).lead_unit_id == commune.labour.id
