"""N parallel requests for one state transition leave exactly one change, one audit event and one notice.

A real threaded server on 127.0.0.1 (werkzeug) takes the requests from N threads released together by a
barrier, half through the API (bearer tokens) and half through the pages (signed-in sessions), from two
people of the same role. On PostgreSQL the requests really overlap in the database; on SQLite they queue on
its single writer. Either way: one winner (200/201 in the API, a redirect on the page), every other request
answers 409 with the state it found, and the database holds one report, one decision, one audit event.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import PASSWORD
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    Occurrence,
    Plan,
    PlanStatus,
    Report,
    Role,
)
from tracker.operations import occurrences as ops
from tracker.operations.people import create_api_token

N = 12  # parallel requests per race (the machines have 2 cores; more only queue longer)


@pytest.fixture
def clients(live_server: str) -> Iterator[Callable[..., httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(username: str | None = None, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "vi"} if token else {}
        client = httpx.Client(base_url=live_server, headers=headers, timeout=60, follow_redirects=False)
        if username:
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.text[:300]
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run every call at once (released together by a barrier) and return the responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if not isinstance(r, httpx.Response)]
    assert not errors, errors
    return results


def winners_and_losers(responses: list[httpx.Response], ok: set[int]) -> tuple[list[httpx.Response], Counter[int]]:
    won = [r for r in responses if r.status_code in ok]
    others = Counter(r.status_code for r in responses if r.status_code not in ok)
    return won, others


def _events(action_prefix: str, object_type: str, object_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.startswith(action_prefix), AuditEvent.object_type == object_type,
        AuditEvent.object_id == object_id)))


def _one_notice_each(occurrence_id: int) -> Counter[Any]:
    """Notifications about the occurrence by (kind, recipient, channel): each at most once."""
    rows = db.session.execute(sa.select(Notification.kind, Notification.recipient_id, Notification.channel)
                              .where(Notification.occurrence_id == occurrence_id)).all()
    counts = Counter(tuple(r) for r in rows)
    assert all(n == 1 for n in counts.values()), counts
    return Counter(kind for kind, _, _ in counts)


@pytest.fixture
def team(commune: Any, active_plan: Any, make_person: Callable[..., Any]) -> Any:
    """Two officers of the health station, the focal officer and the chair, each with an API token."""
    second = make_person("yte2", roles=[(Role.OFFICER, commune.health)], full_name="Đỗ Thị Hai")
    second_chair = make_person("phochutich", roles=[(Role.CHAIR, commune.xa)], full_name="Phó Chủ Tịch")
    tokens = {}
    for person in (commune.officer, second, commune.focal, commune.chair, second_chair):
        tokens[person.username] = create_api_token(None, person, "race")[1]
    db.session.commit()
    return tokens


def test_parallel_mark_done_makes_one_report(app: Flask, commune: Any, active_plan: Any, team: dict[str, str],
                                             clients: Callable[..., httpx.Client]) -> None:
    occ_id = active_plan.occurrence.id
    api = [clients(token=team["yte"]), clients(token=team["yte2"])]
    web = [clients("yte"), clients("yte2")]
    calls: list[Callable[[], httpx.Response]] = []
    for i in range(N):
        if i % 2:
            calls.append(lambda c=api[i % 4 // 2]: c.post(f"/api/v1/occurrences/{occ_id}/done", json={"note": "xong"}))
        else:
            calls.append(lambda c=web[i % 4 // 2]: c.post(f"/occurrences/{occ_id}/done",
                                                          data={"note": "xong", "confirm": "y"}))
    responses = race(calls)

    won, others = winners_and_losers(responses, {200, 302})
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert others == Counter({409: N - 1})
    api_losers = [r for r in responses if r.status_code == 409 and r.request.url.path.startswith("/api/")]
    page_losers = [r for r in responses if r.status_code == 409 and not r.request.url.path.startswith("/api/")]
    assert api_losers and page_losers
    for r in api_losers:
        assert r.json()["code"] == "conflict"
        assert "đã được" in r.json()["errors"]["_general"][0]  # "... đã được ... đánh dấu hoàn thành lúc ..."
    for r in page_losers:
        assert "đã được" in r.text and "hoàn thành" in r.text

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.occurrence_id == occ_id)) == 1
    assert _events("occurrence.complete", "occurrences", occ_id) == ["occurrence.complete"]
    _one_notice_each(occ_id)
    assert db.session.get(Occurrence, occ_id).completed_at is not None


def test_parallel_accept_and_return_make_one_decision(app: Flask, commune: Any, active_plan: Any,
                                                      team: dict[str, str],
                                                      clients: Callable[..., httpx.Client]) -> None:
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Báo cáo")
    db.session.commit()
    report_id, occ_id = report.id, active_plan.occurrence.id
    focal, chair = clients(token=team["ldtbxh"]), clients(token=team["chutich"])
    focal_web, chair_web = clients("ldtbxh"), clients("chutich")
    calls: list[Callable[[], httpx.Response]] = []
    for i in range(N):
        kind = i % 4
        if kind == 0:
            calls.append(lambda: focal.post(f"/api/v1/reports/{report_id}/accept", json={}))
        elif kind == 1:
            calls.append(lambda: chair.post(f"/api/v1/reports/{report_id}/return", json={"comment": "Thiếu số liệu"}))
        elif kind == 2:
            calls.append(lambda: focal_web.post(f"/reports/{report_id}/review", data={"decision": "accept"}))
        else:
            calls.append(lambda: chair_web.post(f"/reports/{report_id}/review",
                                                data={"decision": "return", "comment": "Thiếu số liệu"}))
    responses = race(calls)

    won, others = winners_and_losers(responses, {200, 302})
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert others == Counter({409: N - 1})
    events = _events("report.", "reports", report_id)
    assert len(events) == 1
    db.session.expire_all()
    stored = db.session.get(Report, report_id)
    assert events == [f"report.{'accept' if stored.review_status.value == 'accepted' else 'return'}"]
    kinds = _one_notice_each(occ_id)
    assert set(kinds) == {"report_accepted" if stored.review_status.value == "accepted" else "report_returned"}


def test_parallel_extension_decisions_make_one(app: Flask, commune: Any, active_plan: Any, team: dict[str, str],
                                               clients: Callable[..., httpx.Client]) -> None:
    occurrence = active_plan.occurrence
    request = ops.request_extension(commune.officer, occurrence, new_due_on=date(2024, 10, 15), reason="Chờ số liệu")
    db.session.commit()
    request_id, occ_id, due_before = request.id, occurrence.id, occurrence.due_on
    chair, vice = clients(token=team["chutich"]), clients(token=team["phochutich"])
    chair_web, vice_web = clients("chutich"), clients("phochutich")
    calls: list[Callable[[], httpx.Response]] = []
    for i in range(N):
        approve = i % 2 == 0
        if i % 4 < 2:
            api = chair if approve else vice
            calls.append(lambda a=api, ok=approve: a.post(f"/api/v1/extension-requests/{request_id}/decision",
                                                          json={"approve": ok, "note": "ý kiến"}))
        else:
            web = chair_web if approve else vice_web
            calls.append(lambda w=web, ok=approve: w.post(f"/extensions/{request_id}/decide",
                                                          data={"decision": "approve" if ok else "reject"}))
    responses = race(calls)

    won, others = winners_and_losers(responses, {200, 302})
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert others == Counter({409: N - 1})
    db.session.expire_all()
    stored = db.session.get(ExtensionRequest, request_id)
    assert stored.status in (ExtensionStatus.APPROVED, ExtensionStatus.REJECTED)
    assert [e for e in _events("extension.", "extension_requests", request_id) if e != "extension.request"] == [
        "extension.approve" if stored.status == ExtensionStatus.APPROVED else "extension.reject"]
    expected_due = date(2024, 10, 15) if stored.status == ExtensionStatus.APPROVED else due_before
    assert db.session.get(Occurrence, occ_id).due_on == expected_due
    assert set(_one_notice_each(occ_id)) == {"extension_decided"}


def test_parallel_extension_requests_leave_one_pending(app: Flask, commune: Any, active_plan: Any,
                                                       team: dict[str, str],
                                                       clients: Callable[..., httpx.Client]) -> None:
    occ_id = active_plan.occurrence.id
    api = [clients(token=team["yte"]), clients(token=team["yte2"])]
    calls = [lambda c=api[i % 2]: c.post(f"/api/v1/occurrences/{occ_id}/extension-requests",
                                         json={"requested_due_on": "2024-10-20", "reason": "Chờ số liệu"})
             for i in range(N)]
    responses = race(calls)
    won, others = winners_and_losers(responses, {201})
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert others == Counter({409: N - 1})
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExtensionRequest.id))
                             .where(ExtensionRequest.occurrence_id == occ_id)) == 1


def test_parallel_confirmations_activate_a_draft_once(app: Flask, commune: Any, make_plan: Callable[..., Any],
                                                      make_task: Callable[..., Any], team: dict[str, str],
                                                      clients: Callable[..., httpx.Client]) -> None:
    plan = make_plan(commune.xa, title="Kế hoạch nháp", number="77/KH-UBND")
    make_task(plan, commune.health, title="Báo cáo quý", recurrence="quarterly")
    make_task(plan, commune.school, title="Báo cáo năm", due=date(2024, 12, 15))
    db.session.commit()
    plan_id = plan.id
    focal, chair = clients(token=team["ldtbxh"]), clients(token=team["chutich"])
    focal_web, chair_web = clients("ldtbxh"), clients("chutich")
    calls: list[Callable[[], httpx.Response]] = []
    for i in range(N):
        if i % 2:
            c = (focal, chair)[i % 4 // 2]
            calls.append(lambda c=c: c.post(f"/api/v1/plans/{plan_id}/activate"))
        else:
            w = (focal_web, chair_web)[i % 4 // 2]
            calls.append(lambda w=w: w.post(f"/plans/{plan_id}/confirm"))
    responses = race(calls)

    won, others = winners_and_losers(responses, {200, 302})
    assert len(won) == 1, [(r.status_code, r.text[:200]) for r in responses]
    assert others == Counter({409: N - 1})
    db.session.expire_all()
    assert db.session.get(Plan, plan_id).status == PlanStatus.ACTIVE
    assert _events("plan.activate", "plans", plan_id) == ["plan.activate"]
    occurrences = db.session.scalar(sa.select(sa.func.count(Occurrence.id)).join(Occurrence.task)
                                    .where(sa.literal_column("tasks.plan_id") == plan_id))
    assert occurrences == 5  # four quarters and one deadline, created once


def test_parallel_cancellations_cancel_once(app: Flask, commune: Any, active_plan: Any) -> None:
    """Cancelling an occurrence has no page yet: N sessions of the domain operation race instead."""
    occ_id = active_plan.occurrence.id
    chair_id = commune.chair.id
    outcomes: list[str] = []
    barrier = threading.Barrier(N)

    def cancel() -> None:
        with app.app_context():
            from tracker.models import Person
            from tracker.operations.errors import Conflict

            actor = db.session.get(Person, chair_id)
            occurrence = db.session.get(Occurrence, occ_id)
            barrier.wait()
            try:
                ops.cancel_occurrence(actor, occurrence, "Không còn cần")
                db.session.commit()
                outcomes.append("won")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Counter(outcomes) == Counter({"won": 1, "conflict": N - 1})
    assert _events("occurrence.cancel", "occurrences", occ_id) == ["occurrence.cancel"]
