"""Reminders' action links: a link's whole life (valid, used, expired, altered, someone else's, out of scope,
revoked), the quick-action page, and the acknowledgement that stops the escalation ladder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import PASSWORD
from tests.jobs.conftest import at, recipients, rows, run
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ActionLink, AuditEvent, Occurrence, Report, RoleAssignment
from tracker.notify.links import LinkState, action_url, consume, find_link, revoke_links, state_of
from tracker.operations.action_links import acknowledge
from tracker.operations.occurrences import request_extension, review_report
from tracker.operations.people import revoke_role, set_password


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": "https://tracker.example.vn", "ACTION_LINK_DAYS": 14}


@pytest.fixture
def issue(active_plan: Any) -> Callable[..., str]:
    """A committed action link for a person (the health officer by default) on the plan's occurrence; its path."""

    def make(person: Any, occurrence: Any = None) -> str:
        url = action_url((occurrence or active_plan.occurrence).id, person.id)
        db.session.commit()
        assert url.startswith("https://tracker.example.vn/r/")
        return urlsplit(url).path

    return make


def occurrence_of(active_plan: Any) -> Occurrence:
    db.session.expire_all()
    return db.session.get(Occurrence, active_plan.occurrence.id)


def link_at(path: str) -> ActionLink:
    db.session.expire_all()
    link = find_link(path.rsplit("/", 1)[1])
    assert link is not None
    return link


def reports_of(active_plan: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report)
                             .where(Report.occurrence_id == active_plan.occurrence.id))


def test_the_link_asks_for_sign_in_then_marks_done_once(active_plan: Any, commune: Any, client: Any,
                                                        issue: Callable[..., str]) -> None:
    path = issue(commune.officer)
    signed_out = client.get(path)
    assert signed_out.status_code == 302
    login_url = urlsplit(signed_out.headers["Location"])
    assert login_url.path == "/login" and f"next={path.replace('/', '%2F')}" in login_url.query
    # Not signed in, a POST writes nothing either.
    assert client.post(f"{path}/done").status_code == 302
    assert occurrence_of(active_plan).completed_at is None

    signed_in = client.post(f"/login?{login_url.query}", data={"username": "yte", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == path
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in html and "Trạm Y tế" in html and "25/09/2024" in html
    assert "Đánh dấu hoàn thành" in html and "#report" in html and "#extension" in html
    assert link_at(path).used_at is None  # opening the page is not using the link

    done = client.post(f"{path}/done", data={"note": "Đã tổ chức xong"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/occurrences/{active_plan.occurrence.id}"
    occurrence = occurrence_of(active_plan)
    assert occurrence.completed_by_id == commune.officer.id and occurrence.completed_at is not None
    assert occurrence.acknowledged_by_id == commune.officer.id and occurrence.acknowledged_due_on == occurrence.due_on
    link = link_at(path)
    assert link.used_for == "done" and link.used_at is not None
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"occurrence.complete", "occurrence.acknowledge", "action_link.use"} <= actions
    (report,) = db.session.scalars(sa.select(Report).where(Report.occurrence_id == occurrence.id))
    assert report.body == "Đã tổ chức xong" and report.submitted_by_id == commune.officer.id

    again = client.post(f"{path}/done", data={"note": "lần hai"})
    text = again.get_data(as_text=True)
    assert again.status_code == 410 and "Liên kết này đã được sử dụng" in text and "Không có gì bị thay đổi" in text
    assert client.get(path).status_code == 410
    assert reports_of(active_plan) == 1


@pytest.mark.parametrize("moment", [timedelta(days=14), timedelta(days=30)])
def test_an_expired_link_changes_nothing(active_plan: Any, commune: Any, client: Any, login: Callable[..., Any],
                                         issue: Callable[..., str], moment: timedelta) -> None:
    path = issue(commune.officer)
    login("yte")
    with time_machine.travel(utcnow() + moment, tick=False):
        assert state_of(link_at(path)) is LinkState.EXPIRED
        page = client.get(path)
        assert page.status_code == 410 and "Liên kết này đã hết hạn" in page.get_data(as_text=True)
        assert client.post(f"{path}/done").status_code == 410
    assert occurrence_of(active_plan).completed_at is None and link_at(path).used_at is None
    with time_machine.travel(utcnow() + timedelta(days=13, hours=23), tick=False):
        assert client.get(path).status_code == 200  # still inside its 14 days


def test_an_altered_link_is_unknown_and_changes_nothing(active_plan: Any, commune: Any, client: Any,
                                                        login: Callable[..., Any], issue: Callable[..., str]) -> None:
    path = issue(commune.officer)
    token = path.rsplit("/", 1)[1]
    login("yte")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:20], "x" * 200, token.upper()):
        for response in (client.get(f"/r/{bad}"), client.post(f"/r/{bad}/done")):
            assert response.status_code == 410
            assert "Liên kết này không hợp lệ" in response.get_data(as_text=True)
    assert occurrence_of(active_plan).completed_at is None and link_at(path).used_at is None
    # The database holds only the hash: the token itself is stored nowhere.
    assert token not in {link.token_hash for link in db.session.scalars(sa.select(ActionLink))}


def test_someone_else_signed_in_is_refused_and_the_link_stays(active_plan: Any, commune: Any, client: Any,
                                                              login: Callable[..., Any],
                                                              issue: Callable[..., str]) -> None:
    path = issue(commune.officer)
    login("truongtram")  # the unit head could mark it done on the task page, but this link is the officer's
    for response in (client.get(path), client.post(f"{path}/done")):
        text = response.get_data(as_text=True)
        assert response.status_code == 403
        assert "Liên kết này được gửi cho Nguyễn Văn Y" in text and "đăng nhập bằng tài khoản đó" in text
    assert occurrence_of(active_plan).completed_at is None and link_at(path).used_at is None
    client.post("/logout")
    login("yte")
    assert client.post(f"{path}/done").status_code == 302


def test_a_recipient_out_of_scope_cannot_act(active_plan: Any, commune: Any, client: Any, login: Callable[..., Any],
                                             issue: Callable[..., str]) -> None:
    # A link for an officer of another commune (a wrong audience, or a role moved since the reminder).
    foreign = issue(commune.other_officer)
    login("ytekhac")
    page = client.get(foreign)
    assert page.status_code == 403 and "Đánh dấu hoàn thành" not in page.get_data(as_text=True)
    assert client.post(f"{foreign}/done").status_code == 403
    assert occurrence_of(active_plan).completed_at is None and link_at(foreign).used_at is None

    # The officer loses the role after the reminder went out: the link opens nothing any more.
    client.post("/logout")
    path = issue(commune.officer)
    (assignment,) = db.session.scalars(sa.select(RoleAssignment).where(RoleAssignment.person_id == commune.officer.id))
    revoke_role(None, assignment)
    db.session.commit()
    login("yte")
    assert client.post(f"{path}/done").status_code == 403
    assert occurrence_of(active_plan).completed_at is None and link_at(path).used_at is None


def test_revoked_links_and_a_new_password_end_the_links(active_plan: Any, commune: Any, client: Any,
                                                        login: Callable[..., Any], issue: Callable[..., str]) -> None:
    first, second = issue(commune.officer), issue(commune.officer)
    assert revoke_links(occurrence_id=active_plan.occurrence.id) == 2
    db.session.commit()
    third = issue(commune.officer)
    set_password(None, commune.officer, "another-pass-456")
    db.session.commit()
    login("yte", "another-pass-456")
    for path in (first, second, third):
        response = client.get(path)
        assert response.status_code == 410 and "Liên kết này đã bị thu hồi" in response.get_data(as_text=True)
    assert occurrence_of(active_plan).completed_at is None


def test_a_link_is_used_once_even_by_two_requests(active_plan: Any, commune: Any, issue: Callable[..., str]) -> None:
    link = link_at(issue(commune.officer))
    assert consume(link, "done") is True
    assert consume(link, "done") is False  # the conditional UPDATE: the second finds it used
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionLink)
                             .where(ActionLink.used_at.is_not(None))) == 1


def test_a_refused_action_gives_the_link_back(active_plan: Any, commune: Any, client: Any,
                                              login: Callable[..., Any], issue: Callable[..., str]) -> None:
    path = issue(commune.officer)
    login("yte")
    too_long = client.post(f"{path}/done", data={"note": "x" * 2001})
    assert too_long.status_code == 422 and "Tối đa 2000 ký tự" in too_long.get_data(as_text=True)
    # Done on the task page meanwhile: the link's action loses, and the link is not used up by the loss.
    client.post(f"/occurrences/{active_plan.occurrence.id}/done", data={"note": "xong", "confirm": "y"})
    lost = client.post(f"{path}/done")
    assert lost.status_code == 409 and "đã được Nguyễn Văn Y đánh dấu hoàn thành" in lost.get_data(as_text=True)
    assert link_at(path).used_at is None and reports_of(active_plan) == 1


def test_acknowledging_stops_the_escalation_ladder_until_the_deadline_moves(
        active_plan: Any, commune: Any, client: Any, login: Callable[..., Any], issue: Callable[..., str]) -> None:
    run("sweep", at("2024-09-26 08:00"))  # +1: the unit head and the focal officer
    assert recipients(rows(kind="escalation")) == ["ldtbxh", "truongtram"]
    # The chair cannot mark the task done, but can acknowledge it from the escalation's link.
    path = issue(commune.focal)
    login("ldtbxh")
    page = client.get(path).get_data(as_text=True)
    assert "Đã nắm, sẽ đôn đốc" in page and "Xác nhận: đã hoàn thành" not in page
    assert client.post(f"{path}/acknowledge").status_code == 302
    occurrence = occurrence_of(active_plan)
    assert occurrence.acknowledged_by_id == commune.focal.id and occurrence.completed_at is None
    assert link_at(path).used_for == "acknowledge"

    before = len(rows())
    assert run("sweep", at("2024-10-01 08:00"))["by_rule"] == {}  # +3, the chair: not sent
    assert run("sweep", at("2024-10-07 08:00"))["by_rule"] == {}  # +7, the district: not sent
    assert len(rows()) == before

    # A new deadline (an approved extension) starts the ladder again.
    request = request_extension(commune.officer, occurrence, new_due_on=occurrence.due_on + timedelta(days=7),
                                reason="Chờ số liệu")
    from tracker.operations.occurrences import decide_extension
    decide_extension(commune.chair, request, approve=True)
    db.session.commit()
    assert run("sweep", at("2024-10-07 08:00"))["inserted"] > 0


def test_a_returned_report_clears_the_acknowledgement(active_plan: Any, commune: Any, client: Any,
                                                      login: Callable[..., Any], issue: Callable[..., str]) -> None:
    path = issue(commune.officer)
    login("yte")
    client.post(f"{path}/done", data={"note": "xong"})
    (report,) = db.session.scalars(sa.select(Report))
    review_report(commune.focal, report, accept=False, comment="Thiếu số liệu")
    db.session.commit()
    occurrence = occurrence_of(active_plan)
    assert occurrence.completed_at is None and occurrence.acknowledged_due_on is None
    assert "+3:admin_chair" in run("sweep", at("2024-10-01 08:00"))["by_rule"]


def test_the_sweep_skips_escalation_only_for_the_acknowledged_occurrence(
        active_plan: Any, commune: Any, make_task: Callable[..., Any]) -> None:
    from tracker.operations.plans import add_task

    other = add_task(None, active_plan.plan, title="Rà soát hộ nghèo", lead_unit=commune.health,
                     due_dates=[active_plan.occurrence.due_on])
    db.session.commit()
    acknowledge(commune.officer, occurrence_of(active_plan), now=at("2024-09-26 07:00"))
    db.session.commit()
    run("sweep", at("2024-10-01 08:00"))
    other_occurrence = db.session.scalar(sa.select(Occurrence.id).where(Occurrence.task_id == other.id))
    escalated = {n.occurrence_id for n in rows(kind="escalation")}
    assert escalated == {other_occurrence}
    assert acknowledge(commune.officer, occurrence_of(active_plan)) is False  # the same due date: nothing new


def test_a_queued_escalation_is_not_sent_once_acknowledged(active_plan: Any, commune: Any) -> None:
    run("sweep", at("2024-09-26 08:00"))
    acknowledge(commune.focal, occurrence_of(active_plan), now=at("2024-09-26 08:30"))
    db.session.commit()
    run("dispatch", at("2024-09-26 09:00"))
    escalations = rows(kind="escalation")
    assert len(escalations) == 4  # the unit head and the focal officer, in the app and by e-mail
    assert {(n.status.value, n.last_error) for n in escalations} == {
        ("skipped", "not sent: acknowledged from a reminder")}


def test_two_taps_at_once_leave_one_completion(app: Any, backend: str, active_plan: Any, commune: Any,
                                               issue: Callable[..., str]) -> None:
    from tracker.models import Person
    from tracker.operations.action_links import mark_done_from_link
    from tracker.operations.errors import DomainError

    token = issue(commune.officer).rsplit("/", 1)[1]
    officer_id = commune.officer.id  # read here: the threads must not touch the test's session
    barrier = threading.Barrier(2)
    won: list[int] = []
    lost: list[BaseException] = []

    def tap() -> None:
        with app.app_context():
            try:
                officer = db.session.get(Person, officer_id)
                barrier.wait(timeout=10)
                mark_done_from_link(officer, token, note="xong")
                db.session.commit()
                won.append(1)
            except (DomainError, sa.exc.OperationalError) as exc:
                db.session.rollback()
                lost.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1 and len(lost) == 1
    if backend == "postgresql":  # the loser waits for the winner's row lock, then finds the task done
        assert isinstance(lost[0], DomainError)
    assert reports_of(active_plan) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "occurrence.complete")) == 1
    assert link_at(f"/r/{token}").used_for == "done"
