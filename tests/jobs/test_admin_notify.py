"""The admin pages: outbox (with retry), policies, templates; administrators only."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.jobs.conftest import at, rows, run, sqlite_only
from tracker.extensions import db
from tracker.models import DeliveryStatus, MessageTemplate, ReminderPolicy
from tracker.operations.reminders import ensure_default_policy


@pytest.fixture
def admin(client: FlaskClient, commune: Any) -> FlaskClient:
    response = client.post("/login", data={"username": "quantri", "password": "secret-pass-1"})
    assert response.status_code == 302
    return client


def test_only_administrators_see_the_pages(client: FlaskClient, commune: Any) -> None:
    assert client.get("/admin/outbox").status_code == 302  # to the login page
    client.post("/login", data={"username": "chutich", "password": "secret-pass-1"})
    for path in ("/admin/outbox", "/admin/policies", "/admin/templates"):
        assert client.get(path).status_code == 403


def test_the_outbox_lists_dead_rows_and_retries_them(admin: FlaskClient, active_plan: Any, commune: Any) -> None:
    commune.officer.email = None
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    run("dispatch", at("2024-09-18 08:00"))
    page = admin.get("/admin/outbox?status=dead")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "yte has no email address" in html
    assert 'data-testid="heartbeats"' in html and "dispatch" in html
    (dead,) = rows(status=DeliveryStatus.DEAD)
    response = admin.post(f"/admin/outbox/{dead.id}/retry", data={"next": "/admin/outbox?status=dead"})
    assert response.status_code == 302
    assert rows(status=DeliveryStatus.PENDING)[0].id == dead.id
    assert admin.get("/admin/outbox?status=bogus").status_code == 400


def test_policies_page_adds_and_refuses_rules(admin: FlaskClient) -> None:
    ensure_default_policy()
    db.session.commit()
    html = admin.get("/admin/policies").get_data(as_text=True)
    assert 'name="offset_days"' in html
    policy = db.session.scalar(sa.select(ReminderPolicy))
    ok = admin.post(f"/admin/policies/{policy.id}/rules",
                    data={"offset_days": "14", "audience": "next_level_up", "channels": ["email"]})
    assert ok.status_code == 302
    bad = admin.post(f"/admin/policies/{policy.id}/rules",
                     data={"offset_days": "soon", "audience": "next_level_up", "channels": ["email"]},
                     follow_redirects=True)
    assert "field-error" in bad.get_data(as_text=True) or "flash-error" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert [r.offset_days for r in db.session.get(ReminderPolicy, policy.id).rules][-1] == 14


@sqlite_only
def test_templates_are_previewed_validated_and_saved(admin: FlaskClient) -> None:
    listing = admin.get("/admin/templates")
    assert listing.status_code == 200
    query = "/admin/templates/edit?kind=reminder&channel=email&locale=vi"
    form = admin.get(query).get_data(as_text=True)
    assert "Kính gửi đồng chí" in form and 'data-testid="preview"' in form
    refused = admin.post(query, data={"action": "save", "subject": "Nhắc {{ task_title }}",
                                      "body_text": "Hạn {{ han_cuoi }}", "body_html": ""})
    assert refused.status_code == 422 and "han_cuoi" in refused.get_data(as_text=True)
    saved = admin.post(query, data={"action": "save", "subject": "Nhắc {{ task_title }}",
                                    "body_text": "Hạn {{ due_on }}", "body_html": ""})
    assert saved.status_code == 302
    assert db.session.scalar(sa.select(MessageTemplate.subject)) == "Nhắc {{ task_title }}"
