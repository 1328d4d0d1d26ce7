"""Reminder policies, message templates and retrying dead messages: validated, authorised, audited."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, rows, run, sqlite_only
from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    Channel,
    DeliveryStatus,
    MessageTemplate,
    NotificationKind,
    ReminderPolicy,
)
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.operations.reminders import (
    DEFAULT_RULES,
    RuleSpec,
    add_rule,
    archive_policy,
    create_policy,
    ensure_default_policy,
    preview_template,
    remove_rule,
    reset_template,
    retry_dead,
    save_template,
    set_default_policy,
    update_rule,
)


def test_the_default_policy_is_created_once(app: Any) -> None:
    first = ensure_default_policy()
    db.session.commit()
    assert ensure_default_policy().id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderPolicy)) == 1
    assert [(r.offset_days, r.audience.value, r.escalation_level) for r in first.rules] == [
        (-5, "lead_officers", 0), (-2, "lead_officers", 0), (0, "lead_officers", 0), (1, "lead_head", 1),
        (1, "report_to_focal", 1), (3, "admin_chair", 2), (7, "next_level_up", 3)]
    assert len(first.rules) == len(DEFAULT_RULES)
    assert all(r.channels == [Channel.EMAIL, Channel.IN_APP, Channel.ZALO] for r in first.rules)


@sqlite_only
def test_policies_are_validated_and_only_admins_change_them(app: Any, commune: Any) -> None:
    with pytest.raises(PermissionDenied):
        create_policy(commune.chair, name="Của chủ tịch")
    with pytest.raises(ValidationFailed) as duplicate:
        create_policy(commune.admin, name="Trùng", rules=[RuleSpec(1, Audience.LEAD_HEAD),
                                                          RuleSpec(1, Audience.LEAD_HEAD)])
    assert duplicate.value.field == "offset_days"
    with pytest.raises(ValidationFailed):
        create_policy(commune.admin, name="Xa quá", rules=[RuleSpec(500, Audience.LEAD_HEAD)])
    with pytest.raises(ValidationFailed):
        create_policy(commune.admin, name="Không kênh", rules=[RuleSpec(1, Audience.LEAD_HEAD, ())])
    policy = create_policy(commune.admin, name="  Khẩn   cấp ", rules=[RuleSpec(-1, Audience.LEAD_OFFICERS)])
    rule = add_rule(commune.admin, policy, RuleSpec(2, Audience.NEXT_LEVEL_UP, (Channel.EMAIL,)))
    assert policy.name == "Khẩn cấp" and rule.escalation_level == 3
    update_rule(commune.admin, rule, RuleSpec(4, Audience.ADMIN_CHAIR, (Channel.IN_APP, Channel.EMAIL)))
    assert (rule.offset_days, rule.escalation_level, rule.channels) == (4, 2, [Channel.EMAIL, Channel.IN_APP])
    default = ensure_default_policy()
    set_default_policy(commune.admin, policy)
    assert policy.is_default and not default.is_default
    with pytest.raises(Conflict):
        archive_policy(commune.admin, policy)
    archive_policy(commune.admin, default)
    db.session.commit()
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert {"reminder_policy.create", "reminder_rule.create", "reminder_rule.update", "reminder_policy.set_default",
            "reminder_policy.archive"} <= set(actions)


@sqlite_only
def test_a_rule_that_already_sent_reminders_cannot_be_removed(active_plan: Any, commune: Any) -> None:
    run("sweep", at("2024-09-18 08:00"))
    policy = ensure_default_policy()
    used = next(r for r in policy.rules if r.offset_days == -5)
    with pytest.raises(Conflict):
        remove_rule(commune.admin, used)
    unused = next(r for r in policy.rules if r.offset_days == 7)
    remove_rule(commune.admin, unused)
    db.session.commit()
    assert [r.offset_days for r in ensure_default_policy().rules] == [-5, -2, 0, 1, 1, 3]


@sqlite_only
def test_a_template_with_an_unknown_variable_is_refused(app: Any, commune: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        save_template(commune.admin, kind="reminder", channel="email", locale="vi", subject="Nhắc {{ task_title }}",
                      body_text="Hạn {{ han_cuoi }}")
    assert "han_cuoi" in error.value.render()
    with pytest.raises(ValidationFailed):
        save_template(commune.admin, kind="reminder", channel="email", locale="vi", subject="{% if %}",
                      body_text="x")
    with pytest.raises(PermissionDenied):
        save_template(commune.officer, kind="reminder", channel="in_app", locale="vi", body_text="{{ task_title }}")


@sqlite_only
def test_a_saved_template_is_used_and_reset_restores_the_built_in(active_plan: Any, commune: Any,
                                                                   mail_server: FakeSmtpServer) -> None:
    template = save_template(
        commune.admin, kind=NotificationKind.REMINDER, channel=Channel.EMAIL, locale="vi",
        subject="Đề nghị báo cáo: {{ task_title }}", body_text="{{ unit_name }} báo cáo trước {{ due_on }}.",
        body_html="<p>{{ unit_name }} <b>báo cáo</b> trước {{ due_on }} & đúng hạn.</p>")
    db.session.commit()
    preview = preview_template(NotificationKind.REMINDER, Channel.EMAIL, "vi", None)
    assert preview.subject == ("[Nhắc việc] Còn 3 ngày làm việc: Báo cáo kết quả tiếp cận dịch vụ y tế năm 2024 "
                               "(hạn 25/09/2024)")
    run("sweep", at("2024-09-18 08:00"))
    run("dispatch", at("2024-09-18 08:00"))
    mail = mail_server.messages[0].parsed
    assert mail["Subject"] == "Đề nghị báo cáo: Báo cáo kết quả tiếp cận dịch vụ y tế"
    assert mail.get_body(("plain",)).get_content().strip().startswith("Trạm Y tế báo cáo trước 25/09/2024.")
    assert "đúng hạn" in mail.get_body(("html",)).get_content()
    reset_template(commune.admin, template)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 0


@sqlite_only
def test_retrying_a_dead_message_needs_an_admin_of_its_unit(active_plan: Any, commune: Any) -> None:
    commune.officer.email = None
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    run("dispatch", at("2024-09-18 08:00"))
    (dead,) = rows(status=DeliveryStatus.DEAD)
    with pytest.raises(PermissionDenied):
        retry_dead(commune.chair, dead)
    retry_dead(commune.admin, dead, now=at("2024-09-18 09:00"))
    db.session.commit()
    (again,) = rows(channel="email")
    assert (again.status, again.attempts) == (DeliveryStatus.PENDING, 0)
    with pytest.raises(Conflict):
        retry_dead(commune.admin, again)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "notification.retry")).before[
        "status"] == "dead"


# --- Who may change what: the default policy and templates are national, a plan's policy is its own --------

@pytest.fixture
def commune_admins(commune: Any, make_person: Any) -> Any:
    """An admin of xã Cao Ngọc and one of the neighbouring commune (the fixture's `quantri` holds the root)."""
    from types import SimpleNamespace

    from tracker.models import Role

    admins = SimpleNamespace(xa=make_person("quantrixa", roles=[(Role.ADMIN, commune.xa)]),
                             other=make_person("quantrikhac", roles=[(Role.ADMIN, commune.other_xa)]))
    db.session.commit()
    return admins


def _audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


@sqlite_only
def test_only_an_admin_of_a_root_unit_changes_the_default_policy(app: Any, commune: Any, commune_admins: Any) -> None:
    from tracker.operations.reminders import can_change_policy, rename_policy

    default = ensure_default_policy()
    # Any admin may make a policy: it applies to nothing until a plan or a task names it.
    spare = create_policy(commune_admins.xa, name="Của xã")
    db.session.commit()
    before, offsets = _audit_count(), [r.offset_days for r in default.rules]
    for change in (lambda: add_rule(commune_admins.xa, default, RuleSpec(14, Audience.NEXT_LEVEL_UP)),
                   lambda: update_rule(commune_admins.xa, default.rules[0], RuleSpec(-6, Audience.LEAD_OFFICERS)),
                   lambda: remove_rule(commune_admins.xa, default.rules[-1]),
                   lambda: rename_policy(commune_admins.xa, default, "Mặc định của xã"),
                   lambda: set_default_policy(commune_admins.xa, spare)):
        with pytest.raises(PermissionDenied):
            change()
    db.session.expire_all()
    assert default.is_default and not spare.is_default and default.name == "Mặc định"
    assert [r.offset_days for r in default.rules] == offsets and _audit_count() == before
    assert not can_change_policy(commune_admins.xa, default) and can_change_policy(commune.admin, default)
    # The province of the fixture has no parent: its admin holds a root unit.
    add_rule(commune.admin, default, RuleSpec(14, Audience.NEXT_LEVEL_UP))
    set_default_policy(commune.admin, spare)
    db.session.commit()
    assert spare.is_default and _audit_count() == before + 2


@sqlite_only
def test_only_an_admin_of_a_root_unit_changes_message_templates(app: Any, commune: Any, commune_admins: Any) -> None:
    from tracker.operations.reminders import can_change_templates

    fields = {"kind": "reminder", "channel": "email", "locale": "vi", "subject": "Nhắc {{ task_title }}",
              "body_text": "Hạn {{ due_on }}"}
    with pytest.raises(PermissionDenied):
        save_template(commune_admins.xa, **fields)
    template = save_template(commune.admin, **fields)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        reset_template(commune_admins.xa, template)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 1
    assert (can_change_templates(commune_admins.xa), can_change_templates(commune.admin)) == (False, True)
    assert not can_change_templates(commune.chair)


def test_a_plans_own_policy_is_changed_by_admins_whose_scope_holds_its_issuing_unit(
        active_plan: Any, commune: Any, commune_admins: Any, make_plan: Any, make_task: Any) -> None:
    from datetime import date

    from tracker.operations.reminders import rename_policy, set_plan_policy, set_task_policy

    policy = create_policy(commune_admins.xa, name="Khẩn", rules=[RuleSpec(-1, Audience.LEAD_OFFICERS)])
    # The plan's focal officer may choose its policy; an admin of another commune may not.
    set_plan_policy(commune.focal, active_plan.plan, policy)
    with pytest.raises(PermissionDenied):
        set_plan_policy(commune_admins.other, active_plan.plan, None)
    rule = add_rule(commune_admins.xa, policy, RuleSpec(2, Audience.ADMIN_CHAIR))
    update_rule(commune_admins.xa, rule, RuleSpec(3, Audience.ADMIN_CHAIR))
    rename_policy(commune_admins.xa, policy, "Khẩn cấp")
    with pytest.raises(PermissionDenied):
        add_rule(commune_admins.other, policy, RuleSpec(5, Audience.LEAD_HEAD))
    with pytest.raises(PermissionDenied):
        archive_policy(commune_admins.other, policy)
    with pytest.raises(PermissionDenied):
        set_default_policy(commune_admins.xa, policy)
    # Once a task of the other commune follows it too, only an admin over both communes may change it.
    other_plan = make_plan(commune.other_xa, number="7/KH-UBND")
    other_task = make_task(other_plan, commune.other_health, due=date(2024, 10, 1))
    set_task_policy(commune_admins.other, other_task, policy)
    for admin in (commune_admins.xa, commune_admins.other):
        with pytest.raises(PermissionDenied):
            update_rule(admin, rule, RuleSpec(4, Audience.ADMIN_CHAIR))
        with pytest.raises(PermissionDenied):
            archive_policy(admin, policy)
    archive_policy(commune.admin, policy)
    db.session.commit()
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"plan.set_reminder_policy", "task.set_reminder_policy", "reminder_rule.create", "reminder_rule.update",
            "reminder_policy.rename", "reminder_policy.archive"} <= actions
    assert (rule.offset_days, policy.is_archived) == (3, True)


# --- Retrying every dead message at once --------------------------------------------------------------------

def _dead_rows(commune: Any, make_person: Any) -> Any:
    """Dead password-reset messages (e-mail and in-app) to an officer of each commune and to a person without roles."""
    from tracker.models import Notification
    from tracker.notify.outbox import enqueue

    nobody = make_person("khongvaitro")
    for person in (commune.officer, commune.other_officer, nobody):
        enqueue(NotificationKind.PASSWORD_RESET, [person], key=person.username, channels=[Channel.EMAIL,
                Channel.IN_APP], payload={"reset_url": "http://127.0.0.1/x", "full_name": person.full_name})
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.DEAD, attempts=6, last_error="hỏng"))
    enqueue(NotificationKind.PASSWORD_RESET, [commune.officer], key="sent", channels=[Channel.EMAIL])
    db.session.commit()
    return nobody


def test_retrying_every_dead_message_is_one_update_within_the_admins_scope(
        app: Any, commune: Any, commune_admins: Any, make_person: Any) -> None:
    from tracker.operations.reminders import retry_all_dead

    nobody = _dead_rows(commune, make_person)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        retried = retry_all_dead(commune_admins.xa, channel=Channel.EMAIL, now=at("2024-09-18 09:00"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    db.session.commit()
    assert retried == 1
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE")]) == 1
    (again,) = rows(status=DeliveryStatus.PENDING, attempts=0, last_error="hỏng")
    assert (again.recipient_id, again.channel) == (commune.officer.id, Channel.EMAIL)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "notification.retry_dead"))
    assert event.actor_id == commune_admins.xa.id
    assert (event.after["count"], event.after["channel"]) == (1, "email")
    # Nothing of the other commune, nor of a person without roles, is the commune admin's to retry.
    assert retry_all_dead(commune_admins.xa) == 1  # the officer's in-app row
    with pytest.raises(PermissionDenied):
        retry_all_dead(commune.chair)
    # A root admin retries everything still dead, once.
    assert retry_all_dead(commune.admin, now=at("2024-09-18 09:05")) == 4
    assert retry_all_dead(commune.admin) == 0
    db.session.commit()
    assert rows(status=DeliveryStatus.DEAD) == []
    assert {n.recipient_id for n in rows(status=DeliveryStatus.PENDING)} == {
        commune.officer.id, commune.other_officer.id, nobody.id}
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                             .where(AuditEvent.action == "notification.retry_dead")) == 4


def test_one_dead_message_is_retried_by_an_admin_of_its_recipient(app: Any, commune: Any, commune_admins: Any,
                                                                  make_person: Any) -> None:
    nobody = _dead_rows(commune, make_person)
    officer_row = rows(recipient_id=commune.officer.id, channel=Channel.EMAIL, status=DeliveryStatus.DEAD)[0]
    nobody_row = rows(recipient_id=nobody.id, channel=Channel.EMAIL)[0]
    for admin, row in ((commune_admins.other, officer_row), (commune_admins.xa, nobody_row)):
        with pytest.raises(PermissionDenied):
            retry_dead(admin, row)
    retry_dead(commune_admins.xa, officer_row)
    retry_dead(commune.admin, nobody_row)
    db.session.commit()
    assert {n.id for n in rows(status=DeliveryStatus.PENDING, attempts=0, last_error="hỏng")} == {
        officer_row.id, nobody_row.id}
