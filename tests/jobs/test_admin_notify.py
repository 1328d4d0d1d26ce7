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
    assert 'data-testid="heartbeats"' in html and 'data-job="dispatch"' in html
    # The scheduler's jobs and their results in words, not their ids and counters' keys.
    heartbeats = html.split('data-testid="heartbeats"')[1].split("</table>")[0]
    assert "Gửi tin nhắn" in heartbeats and "Quét nhắc việc" in heartbeats
    assert ">dispatch<" not in heartbeats and "held_for_digest" not in heartbeats
    assert "giữ lại cho bản tổng hợp: 0" in heartbeats
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


# --- What an admin below the root sees and may do ---------------------------------------------------------

@pytest.fixture
def commune_admin(client: FlaskClient, commune: Any, make_person: Any) -> FlaskClient:
    """Signed in as an admin of xã Cao Ngọc only (the fixture's `quantri` holds the root province)."""
    from tracker.models import Role

    make_person("quantrixa", roles=[(Role.ADMIN, commune.xa)])
    db.session.commit()
    response = client.post("/login", data={"username": "quantrixa", "password": "secret-pass-1"})
    assert response.status_code == 302
    return client


def test_a_commune_admin_sees_the_default_policy_read_only(commune_admin: FlaskClient, commune: Any) -> None:
    from tracker.operations.reminders import create_policy

    default = ensure_default_policy()
    spare = create_policy(commune.admin, name="Dự phòng")
    db.session.commit()
    html = commune_admin.get("/admin/policies").get_data(as_text=True)
    assert f"/admin/policies/{default.id}/rules" not in html and f"/admin/rules/{default.rules[0].id}" not in html
    assert f"/admin/policies/{default.id}/rename" not in html and f"/admin/policies/{spare.id}/default" not in html
    assert "Chỉ quản trị viên của đơn vị cấp cao nhất" in html
    # Unused, the spare policy is the commune admin's to shape; a new policy may be made too.
    assert f"/admin/policies/{spare.id}/rules" in html and 'action="/admin/policies"' in html
    refused = commune_admin.post(f"/admin/policies/{default.id}/rules", follow_redirects=True,
                                 data={"offset_days": "14", "audience": "next_level_up", "channels": ["email"]})
    assert "flash-error" in refused.get_data(as_text=True)
    assert commune_admin.post(f"/admin/policies/{spare.id}/default").status_code == 302
    db.session.expire_all()
    assert 14 not in [r.offset_days for r in db.session.get(ReminderPolicy, default.id).rules]
    assert db.session.get(ReminderPolicy, default.id).is_default


def test_a_commune_admin_reads_templates_but_cannot_save_them(commune_admin: FlaskClient) -> None:
    listing = commune_admin.get("/admin/templates").get_data(as_text=True)
    assert "Chỉ quản trị viên của đơn vị cấp cao nhất" in listing
    query = "/admin/templates/edit?kind=reminder&channel=email&locale=vi"
    page = commune_admin.get(query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="preview"' in html and "Kính gửi đồng chí" in html
    assert 'value="save"' not in html and "readonly" in html
    refused = commune_admin.post(query, data={"action": "save", "subject": "Nhắc {{ task_title }}",
                                              "body_text": "Hạn {{ due_on }}", "body_html": ""})
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 0


# --- Retrying every dead row of the filter ------------------------------------------------------------------

def _dead_messages(commune: Any) -> None:
    """Dead password-reset e-mails and in-app messages to an officer of each commune."""
    from tracker.models import Channel, Notification, NotificationKind
    from tracker.notify.outbox import enqueue

    for person in (commune.officer, commune.other_officer):
        enqueue(NotificationKind.PASSWORD_RESET, [person], key=person.username,
                channels=[Channel.EMAIL, Channel.IN_APP], payload={"reset_url": "http://127.0.0.1/x",
                                                                   "full_name": person.full_name})
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.DEAD, attempts=6, last_error="hỏng"))
    db.session.commit()


def test_the_outbox_retries_every_dead_row_of_the_filter(admin: FlaskClient, commune: Any) -> None:
    from tracker.models import AuditEvent

    _dead_messages(commune)
    html = admin.get("/admin/outbox?status=dead&channel=email").get_data(as_text=True)
    assert 'action="/admin/outbox/retry-dead"' in html and 'data-testid="retry-all"' in html
    assert "Gửi lại cả 2 tin nhắn không gửi được" in html
    response = admin.post("/admin/outbox/retry-dead", data={"status": "dead", "channel": "email"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/outbox?status=dead&channel=email"
    assert {n.channel.value for n in rows(status=DeliveryStatus.PENDING)} == {"email"}
    assert len(rows(status=DeliveryStatus.DEAD)) == 2
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "notification.retry_dead"))
    assert event.after["count"] == 2
    flashed = admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "Đã đưa lại 2 tin nhắn vào hàng chờ gửi." in flashed
    # Nothing dead in the filter: no button.
    assert 'data-testid="retry-all"' not in admin.get("/admin/outbox?status=dead&channel=email").get_data(
        as_text=True)
    assert 'data-testid="retry-all"' not in admin.get("/admin/outbox?status=sent").get_data(as_text=True)
    assert admin.post("/admin/outbox/retry-dead", data={"channel": "fax"}).status_code == 400


def test_a_commune_admin_sees_and_retries_only_messages_to_its_people(commune_admin: FlaskClient,
                                                                      commune: Any) -> None:
    _dead_messages(commune)
    html = commune_admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "ytekhac" not in html and "yte" in html and "Gửi lại cả 2 tin nhắn không gửi được" in html
    (other_row, *_) = rows(recipient_id=commune.other_officer.id)
    commune_admin.post(f"/admin/outbox/{other_row.id}/retry")
    assert commune_admin.post("/admin/outbox/retry-dead", data={"status": "dead"}).status_code == 302
    assert {n.recipient_id for n in rows(status=DeliveryStatus.PENDING)} == {commune.officer.id}
    assert {n.recipient_id for n in rows(status=DeliveryStatus.DEAD)} == {commune.other_officer.id}


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_retrying_every_dead_row_needs_the_forms_token(self, client: FlaskClient, commune: Any) -> None:
        import re

        _dead_messages(commune)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"username": "quantri", "password": "secret-pass-1", "csrf_token": token})
        assert client.post("/admin/outbox/retry-dead", data={"status": "dead"}).status_code == 400
        assert len(rows(status=DeliveryStatus.DEAD)) == 4
        html = client.get("/admin/outbox?status=dead").get_data(as_text=True)
        form = html[html.index('action="/admin/outbox/retry-dead"'):]
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = client.post("/admin/outbox/retry-dead", data={"status": "dead", "csrf_token": token})
        assert response.status_code == 302 and rows(status=DeliveryStatus.DEAD) == []
