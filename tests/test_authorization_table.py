"""Every write route of the web app and the API, tried by every role inside and outside its subtree.

TABLE has one entry per endpoint that accepts POST, PUT, PATCH or DELETE: how to call it, and which of the
people below may. `test_every_write_route_has_an_entry` fails when a route is added without an entry (or an
entry outlives its route). For each entry, on a live server with separate browsers (sessions) and bearer
tokens: everyone who may not is refused (web: 403/404, or the sign-in page for an anonymous visitor; API:
401/403/404) and changes nothing (not one audit event: every state change is audited); the first who may
succeeds and leaves an audit event; the others who may are never told "forbidden".

The people (tests/conftest.py `commune`): xã Cao Ngọc with its health station, its focal officer, its chair;
the province's viewer and administrator; and, outside that subtree, the next commune's officer, chair and
administrator.
"""

from __future__ import annotations

import base64
import copy
import io
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import PASSWORD
from tracker.extensions import db
from tracker.models import AuditEvent, Role

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
INSIDE = ["officer", "focal", "chair", "viewer", "admin"]
OUTSIDE = ["other_officer", "other_chair", "other_admin"]
EVERYONE = INSIDE + OUTSIDE
SIGNED_IN = "signed in"  # any signed-in person, acting on their own account only
PUBLIC = "public"  # anyone, signed in or not (signing in, asking for a password link)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # formatted with the seeded ids
    allowed: tuple[str, ...] | str
    data: dict[str, Any] = field(default_factory=dict)  # form fields (web) or JSON (API)
    files: bool = False  # send a plan document as `file`
    upload: tuple[str, bytes] | None = None  # or send this (name, content) as `file`
    changes: bool = True  # a permitted call writes an audit event
    #: A unit outside the person's reach is not among the form's choices: refused as an invalid choice (422).
    invalid_when_outside: bool = False
    #: Succeeding ends on the sign-in page (signing out, a new password).
    lands_on_login: bool = False


def _web(path: str, allowed: Any, **kw: Any) -> Case:
    return Case("POST", path, tuple(allowed) if isinstance(allowed, list) else allowed, **kw)


def _api(method: str, path: str, allowed: Any, **kw: Any) -> Case:
    return Case(method, "/api/v1" + path, tuple(allowed) if isinstance(allowed, list) else allowed, **kw)


ACT = ["officer", "admin"]  # the lead unit's officers (and admins of the province)
REVIEW = ["focal", "chair", "admin"]
MANAGE = ["focal", "chair", "admin"]
DECIDE = ["chair", "admin"]
VIEW = INSIDE
ADMIN = ["admin"]
ROW = {"t{draft_task}-lead": "{school}"}
PEOPLE_FILE = ("nguoi.csv", "Tên đăng nhập,Họ và tên,Tên đơn vị,Vai trò\nnhapmoi,Nhập Mới,Xã Cao Ngọc / Trạm Y tế,"
                            "Cán bộ\n".encode())
NEW_ROW = {"title": "Việc thêm", "lead": "{school}", "report_to": "", "recurrence": "", "due_dates": "30/11/2024"}

TABLE: dict[str, Case] = {
    # --- Signing in and one's own account -----------------------------------------------------------------
    "auth.login": _web("/login", PUBLIC, data={"username": "yte", "password": PASSWORD}),
    "auth.logout": _web("/logout", SIGNED_IN, lands_on_login=True),
    "auth.forgot_password": _web("/password/forgot", PUBLIC, data={"username": "yte"}, changes=False,
                                 lands_on_login=True),
    "auth.reset_password": _web("/password/reset/{reset_token}", PUBLIC,
                                data={"password": "new-password-42", "confirm": "new-password-42"},
                                lands_on_login=True),
    "profile.set_language": _web("/language", PUBLIC, data={"lang": "en"}, changes=False),
    "profile.mark_all_read": _web("/notifications/read", SIGNED_IN, changes=False),
    "profile.create_token": _web("/profile/tokens", SIGNED_IN, data={"name": "bảng tính"}),
    "profile.revoke_token": _web("/profile/tokens/{officer_token}/revoke", ["officer"]),
    "profile.new_calendar_link": _web("/profile/calendar", SIGNED_IN),
    "profile.set_delivery": _web("/profile/delivery", SIGNED_IN, data={"delivery": "daily"}),
    # --- An occurrence and its report ---------------------------------------------------------------------
    "tasks.mark_done": _web("/occurrences/{occ}/done", ACT, data={"note": "Xong", "confirm": "y"}),
    "tasks.submit_report": _web("/occurrences/{occ}/report", ACT, data={"body": "Báo cáo"}),
    "tasks.request_extension": _web("/occurrences/{occ}/extension", ACT,
                                    data={"new_due_on": "15/10/2024", "reason": "Chờ số liệu"}),
    "tasks.add_comment": _web("/occurrences/{occ}/comments", VIEW, data={"body": "Ý kiến"}),
    "tasks.review_report": _web("/reports/{report}/review", REVIEW, data={"decision": "accept"}),
    "tasks.decide_extension": _web("/extensions/{extension}/decide", DECIDE, data={"decision": "reject"}),
    # A reminder's action link works only for the person it was sent to (the officer; the focal officer's
    # escalation), whatever else the others may do on the task page.
    "reminder_links.mark_done": _web("/r/{officer_link}/done", ["officer"], data={"note": "Xong"}),
    "reminder_links.acknowledge": _web("/r/{focal_link}/acknowledge", ["focal"]),
    # --- Importing and reviewing a draft plan ---------------------------------------------------------------
    "plan_import.upload": _web("/plans/import", MANAGE, data={"issuing_unit_id": "{xa}"}, files=True,
                               invalid_when_outside=True),
    "plan_import.confirm": _web("/plans/{draft}/confirm", MANAGE),
    "plan_import.discard": _web("/plans/{draft}/discard", MANAGE),
    "plan_import.update_header": _web("/plans/{draft}/header", MANAGE,
                                      data={"title": "Kế hoạch đã sửa", "number": "9/KH-UBND"}),
    "plan_import.reimport": _web("/plans/{imported}/reimport", MANAGE),
    "plan_import.drop": _web("/plans/{draft}/tasks/{draft_task}/drop", MANAGE),
    "plan_import.restore": _web("/plans/{draft}/tasks/{dropped_task}/restore", MANAGE),
    "plan_import.edit_row": _web("/plans/{draft}/tasks/{draft_task}/edit", MANAGE, data={**NEW_ROW, "title": "Sửa"}),
    "plan_import.change_unit": _web("/plans/{draft}/tasks/{draft_task}/unit", MANAGE, data=ROW),
    "plan_import.add_row": _web("/plans/{draft}/tasks/new", MANAGE, data=NEW_ROW),
    # --- Administration -------------------------------------------------------------------------------------
    "admin.create_unit": _web("/admin/units", ADMIN, data={"name": "Thôn Mới", "kind": "village",
                                                           "parent_id": "{xa}"}),
    "admin.archive_unit": _web("/admin/units/{village}/archive", ADMIN),
    "admin.create_person": _web("/admin/people", ADMIN, data={
        "username": "nguoimoi", "full_name": "Người Mới", "password": "mat-khau-123", "role": "officer",
        "unit_id": "{health}"}),
    "admin.assign_role": _web("/admin/people/{officer_id}/roles", ADMIN, data={"role": "unit_head",
                                                                               "unit_id": "{health}"}),
    "admin.revoke_role": _web("/admin/roles/{assignment}/revoke", ADMIN),
    # Any administrator may preview a people file (the other commune's finds no such unit: errors by row);
    # confirming writes only into units the admin holds.
    "admin.import_people_preview": _web("/admin/people/import", ["admin", "other_admin"], upload=PEOPLE_FILE,
                                        changes=False),
    "admin.import_people_confirm": _web("/admin/people/import/confirm", ADMIN, invalid_when_outside=True, data={
        "content": "{people_file}", "filename": PEOPLE_FILE[0], "digest": "{people_digest}"}),
    "admin.reset_password": _web("/admin/people/{officer_id}/password", ADMIN, data={"password": "mat-khau-456"}),
    "admin_notify.retry": _web("/admin/outbox/{dead}/retry", ADMIN),
    # The channels serve the whole installation: only an administrator of a top-level unit resumes one.
    "admin_notify.resume_channel": _web("/admin/outbox/channels/email/resume", ADMIN),
    # Any administrator retries the dead messages of their own units (none, for the next commune's) and may
    # start a policy; a policy followed by the commune's plan is changed only by an admin holding the commune.
    "admin_notify.retry_all": _web("/admin/outbox/retry-dead", ["admin", "other_admin"]),
    "admin_notify.create_policy": _web("/admin/policies", ["admin", "other_admin"], data={"name": "Chính sách mới"}),
    "admin_notify.rename_policy": _web("/admin/policies/{policy}/rename", ADMIN, data={"name": "Tên mới"}),
    "admin_notify.default_policy": _web("/admin/policies/{policy}/default", ADMIN),
    "admin_notify.archive_policy": _web("/admin/policies/{policy}/archive", ADMIN),
    "admin_notify.add_rule": _web("/admin/policies/{policy}/rules", ADMIN, data={
        "offset_days": "-3", "audience": "lead_officers", "channels": "in_app"}),
    "admin_notify.update_rule": _web("/admin/rules/{rule}", ADMIN, data={
        "offset_days": "-4", "audience": "lead_officers", "channels": "in_app"}),
    "admin_notify.remove_rule": _web("/admin/rules/{rule}/remove", ADMIN),
    "admin_notify.edit_template": _web("/admin/templates/edit?kind=reminder&channel=in_app&locale=vi", ADMIN,
                                       data={"action": "save", "subject": "Nhắc việc", "body_text": "Nhắc việc"}),
    "admin_notify.reset_template": _web("/admin/templates/{template}/reset", ADMIN),
    "admin_channels.zalo_connect": _web("/admin/channels/zalo/connect", ADMIN, changes=False),
    # --- The API ---------------------------------------------------------------------------------------------
    "api_occurrences.mark_done": _api("POST", "/occurrences/{occ}/done", ACT, data={"note": "Xong"}),
    "api_occurrences.submit_report": _api("POST", "/occurrences/{occ}/reports", ACT, data={"body": "Báo cáo"}),
    "api_occurrences.request_extension": _api("POST", "/occurrences/{occ}/extension-requests", ACT,
                                              data={"requested_due_on": "2024-10-15", "reason": "Chờ"}),
    "api_occurrences.add_comment": _api("POST", "/occurrences/{occ}/comments", VIEW, data={"body": "Ý kiến"}),
    "api_reports.accept_report": _api("POST", "/reports/{report}/accept", REVIEW),
    "api_reports.return_report": _api("POST", "/reports/{report}/return", REVIEW, data={"comment": "Thiếu"}),
    "api_extension_requests.decide_extension": _api("POST", "/extension-requests/{extension}/decision", DECIDE,
                                                    data={"approve": False, "note": ""}),
    "api_plans.create_plan": _api("POST", "/plans", MANAGE, data={"title": "Kế hoạch mới", "issuing_unit_id": "{xa}",
                                                                  "year": 2024}),
    "api_plans.add_task": _api("POST", "/plans/{plan}/tasks", MANAGE, data={
        "title": "Việc mới", "lead_unit_id": "{health}", "due_dates": ["2024-11-30"]}),
    "api_plans.activate_plan": _api("POST", "/plans/{draft}/activate", MANAGE),
    "api_indicators.create_indicator": _api("POST", "/indicators", MANAGE, data={
        "plan_id": "{plan}", "name": "Tỷ lệ mới", "unit_of_measure": "%"}),
    "api_indicators.set_target": _api("PUT", "/indicators/{indicator}/targets/{health}/2024", MANAGE,
                                      data={"value": 3}),
    "api_units.create_unit": _api("POST", "/units", ADMIN, data={"name": "Thôn Mới", "kind": "village",
                                                                 "parent_id": "{xa}"}),
}


def _write_endpoints(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if WRITE_METHODS & set(rule.methods or ())}


def test_every_write_route_has_an_entry(app: Flask) -> None:
    routes = _write_endpoints(app)
    missing, stale = routes - set(TABLE), set(TABLE) - routes
    assert not missing, f"write routes without an authorization entry in TABLE: {sorted(missing)}"
    assert not stale, f"TABLE entries whose route is gone: {sorted(stale)}"


# --- The world ---------------------------------------------------------------------------------------------

@dataclass
class WorldSnapshot:
    """The seeded world, kept after the first test seeds it: every test starts from a copy of the same rows."""

    path: Path
    world: dict[str, Any] | None = None


@pytest.fixture(scope="module")
def world_snapshot(tmp_path_factory: pytest.TempPathFactory) -> WorldSnapshot:
    return WorldSnapshot(tmp_path_factory.mktemp("authz") / "world.db")


@pytest.fixture
def database_url(tmp_path: Any, sqlite_template: Any, world_snapshot: WorldSnapshot) -> Iterator[str]:
    """SQLite (the rules are the domain layer's, the same on both databases; the live server shares the file);
    a copy of the seeded world once one test has seeded it."""
    import shutil

    path = tmp_path / "tracker.db"
    shutil.copy(world_snapshot.path if world_snapshot.world is not None else sqlite_template, path)
    yield f"sqlite:///{path}"


def _seed(commune: Any, active_plan: Any, make_person: Any, make_plan: Any, make_task: Any) -> dict[str, Any]:
    from tracker.auth import make_reset_token
    from tracker.clock import utcnow
    from tracker.models import Channel, ChannelState, DeliveryStatus, MessageTemplate, Notification, NotificationKind
    from tracker.notify.links import issue_link
    from tracker.notify.outbox import enqueue
    from tracker.operations import drafts
    from tracker.operations import occurrences as ops
    from tracker.operations.indicators import create_indicator
    from tracker.operations.people import create_api_token
    from tracker.operations.people_import import preview_import
    from tracker.operations.plan_import import import_plan
    from tracker.operations.reminders import (
        RuleSpec,
        add_rule,
        create_policy,
        ensure_default_policy,
        set_plan_policy,
    )

    make_person("chutichkhac", roles=[(Role.CHAIR, commune.other_xa)], full_name="Chủ Tịch Khác")
    make_person("quantrikhac", roles=[(Role.ADMIN, commune.other_xa)], full_name="Quản Trị Khác")
    plan = active_plan.plan
    reported = make_task(plan, commune.health, title="Báo cáo quý", due=date(2024, 10, 5), report_to_unit=commune.xa)
    asked = make_task(plan, commune.health, title="Báo cáo năm", due=date(2024, 12, 5), report_to_unit=commune.xa)
    db.session.flush()
    occurrence_of = {o.task_id: o for o in db.session.scalars(sa.select(ops.Occurrence))}
    report = ops.submit_report(commune.officer, occurrence_of[reported.id], body="Đã xong")
    extension = ops.request_extension(commune.officer, occurrence_of[asked.id], new_due_on=date(2025, 1, 5),
                                      reason="Chờ số liệu")
    draft = make_plan(commune.xa, title="Kế hoạch nháp", number="12/KH-UBND")
    draft_task = make_task(draft, commune.health, title="Việc nháp", due=date(2024, 11, 1))
    dropped = make_task(draft, commune.school, title="Việc bỏ", due=date(2024, 11, 2))
    drafts.drop_draft_task(None, dropped)
    imported = import_plan(None, filename="ke-hoach.txt", data=_PLAN_TEXT.encode(), issuing_unit=commune.xa).plan
    indicator = create_indicator(None, plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    ensure_default_policy()
    policy = create_policy(None, name="Chính sách xã")
    rule = add_rule(None, policy, RuleSpec(offset_days=-2, audience="lead_officers", channels=("in_app",)))
    set_plan_policy(None, plan, policy)
    enqueue(NotificationKind.REMINDER, [commune.officer], key="dead-one", occurrence_id=active_plan.occurrence.id,
            channels=[Channel.EMAIL])
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.DEAD, last_error="550"))
    db.session.add(ChannelState(channel="email", failures=2, paused_until=utcnow() + timedelta(days=1),
                                paused_at=utcnow(), reason="421 Service not available"))
    template = MessageTemplate(kind=NotificationKind.REMINDER, channel=Channel.EMAIL, locale="vi",
                               subject="Nhắc", body_text="Nhắc {{ title }}")
    db.session.add(template)
    officer_token = create_api_token(commune.officer, commune.officer, "bảng tính")[0]
    officer_link = issue_link(active_plan.occurrence.id, commune.officer.id)[0]
    focal_link = issue_link(active_plan.occurrence.id, commune.focal.id)[0]
    tokens = {}
    people = {"officer": commune.officer, "focal": commune.focal, "chair": commune.chair, "viewer": commune.viewer,
              "admin": commune.admin, "other_officer": commune.other_officer}
    from tracker.models import Person

    people["other_chair"] = db.session.scalar(sa.select(Person).where(Person.username == "chutichkhac"))
    people["other_admin"] = db.session.scalar(sa.select(Person).where(Person.username == "quantrikhac"))
    for name, person in people.items():
        tokens[name] = create_api_token(None, person, "authz")[1]
    db.session.commit()
    assignment = next(a for a in commune.officer.roles)
    return {
        "ids": {"occ": active_plan.occurrence.id, "report": report.id, "extension": extension.id, "draft": draft.id,
                "draft_task": draft_task.id, "dropped_task": dropped.id, "imported": imported.id, "plan": plan.id,
                "xa": commune.xa.id, "health": commune.health.id, "school": commune.school.id,
                "village": commune.village.id, "officer_id": commune.officer.id, "assignment": assignment.id,
                "officer_token": officer_token.id, "dead": db.session.scalar(sa.select(Notification.id)),
                "policy": policy.id, "rule": rule.id, "template": template.id, "indicator": indicator.id,
                "reset_token": make_reset_token(commune.officer), "officer_link": officer_link,
                "focal_link": focal_link,
                "people_file": base64.b64encode(PEOPLE_FILE[1]).decode(),
                "people_digest": preview_import(commune.admin, *PEOPLE_FILE).digest},
        "usernames": {name: person.username for name, person in people.items()},
        "tokens": tokens,
    }


_PLAN_TEXT = """ỦY BAN NHÂN DÂN XÃ CAO NGỌC
Số: 20/KH-UBND
KẾ HOẠCH
Thực hiện giảm nghèo năm 2024
III. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã
Báo cáo kết quả về UBND xã trước ngày 25/9/2024.
"""


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Flask, world_snapshot: WorldSnapshot) -> Any:
    """The seeded world: seeded by the module's first test, then copied (the database file, with the same ids,
    tokens and links) into the next ones, which spares 60 tests the seeding."""
    if world_snapshot.world is not None:
        return copy.deepcopy(world_snapshot.world)
    world = _seed(*(request.getfixturevalue(name)
                    for name in ("commune", "active_plan", "make_person", "make_plan", "make_task")))
    db.session.commit()
    with db.engine.connect() as conn:
        source = conn.connection.dbapi_connection
        target = sqlite3.connect(world_snapshot.path)
        source.backup(target)  # the WAL's pages too, which a file copy would miss
        target.close()
    world_snapshot.world = copy.deepcopy(world)
    return world


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    if value is True or value is False or value is None:
        return value
    return value


def _audit_count() -> int:
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) or 0)


def _call(server: str, world: Any, case: Case, who: str | None) -> httpx.Response:
    ids = world["ids"]
    api = case.path.startswith("/api/")
    headers = {"Accept-Language": "vi"}
    if api and who is not None:
        headers["Authorization"] = f"Bearer {world['tokens'][who]}"
    with httpx.Client(base_url=server, timeout=60, follow_redirects=False, headers=headers) as browser:
        if not api and who is not None:
            signed = browser.post("/login", data={"username": world["usernames"][who], "password": PASSWORD})
            assert signed.status_code == 302, (who, signed.status_code)
        path = _fill(case.path, ids)
        if api:
            body = _fill(case.data, ids)
            for key in ("issuing_unit_id", "lead_unit_id", "plan_id", "parent_id"):
                if key in body:
                    body[key] = int(body[key])
            return browser.request(case.method, path, json=body)
        upload = _PLAN_TEXT.replace("20/KH-UBND", f"{len(who or '')}{id(case) % 97}/KH-UBND").encode()
        files = {"file": ("ke-hoach-moi.txt", io.BytesIO(upload), "text/plain")} if case.files else None
        if case.upload is not None:
            files = {"file": (case.upload[0], io.BytesIO(case.upload[1]), "text/csv")}
        return browser.post(path, data=_fill(case.data, ids), files=files)


def _refused(case: Case, response: httpx.Response, api: bool, who: str | None) -> bool:
    if who is None:
        return response.status_code == 401 if api else (
            response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login"))
    if response.status_code in (403, 404) or (case.invalid_when_outside and response.status_code == 422):
        return True
    # Some admin pages answer a refused action with a redirect and a flashed error; nothing changed either way.
    return not api and response.status_code == 302


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_write_route_refuses_everyone_outside_its_rule(endpoint: str, world: Any, live_server: str) -> None:
    case = TABLE[endpoint]
    api = case.path.startswith("/api/")
    if case.allowed == PUBLIC:
        allowed: list[str | None] = [None]
        denied: list[str | None] = []
    elif case.allowed == SIGNED_IN:
        allowed, denied = list(EVERYONE), [None]
    else:
        allowed = list(case.allowed)
        denied = [None, *(p for p in EVERYONE if p not in case.allowed)]

    for who in denied:
        before = _audit_count()
        response = _call(live_server, world, case, who)
        assert _refused(case, response, api, who), (endpoint, who, response.status_code, response.text[:300])
        after = _audit_count()
        # Only the denied person's own sign-in (web) may have been audited.
        signed_in = 0 if (api or who is None) else 1
        assert after - before == signed_in, (endpoint, who, "changed something", response.status_code)

    for i, who in enumerate(allowed):
        before = _audit_count()
        response = _call(live_server, world, case, who)
        assert response.status_code not in (401, 403), (endpoint, who, response.status_code, response.text[:300])
        if not api and response.status_code == 302 and not case.lands_on_login:
            assert "/login" not in response.headers.get("Location", ""), (endpoint, who)
        if i == 0:
            assert response.status_code < 400, (endpoint, who, response.status_code, response.text[:500])
            if case.changes:
                signed_in = 0 if (api or who is None) else 1
                assert _audit_count() - before > signed_in, (endpoint, who, "the permitted call changed nothing")
