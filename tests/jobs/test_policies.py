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
