"""Pagination of lists and a bounded number of SQL statements whatever the page holds."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.api.conftest import count_queries, error_body
from tracker.extensions import db
from tracker.models import Occurrence, Task
from tracker.operations.occurrences import request_extension, submit_report
from tracker.operations.plans import activate_plan, add_task


def _plan_with_tasks(commune, make_plan, n: int):
    plan = make_plan(commune.xa, number=f"{n}/KH-UBND")
    units = [commune.health, commune.school, commune.labour, commune.village]
    for i in range(n):
        add_task(None, plan, title=f"Nhiệm vụ {i + 1:03d}", lead_unit=units[i % len(units)],
                 section_code=f"II.{i % 7}", report_to_unit=commune.xa if i % 2 else None,
                 due_dates=[date(2024, 1, 1) + timedelta(days=i)])
    activate_plan(None, plan)
    db.session.commit()
    return plan


def test_pages_and_the_pagination_header(api_as, commune, make_plan):
    _plan_with_tasks(commune, make_plan, 7)
    api = api_as(commune.focal)
    first = api.get("/api/v1/occurrences?page_size=3")
    assert [o["task"]["title"] for o in first.get_json()] == ["Nhiệm vụ 001", "Nhiệm vụ 002", "Nhiệm vụ 003"]
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 7, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 1, "next_page": 2}
    last = api.get("/api/v1/occurrences?page_size=3&page=3")
    assert [o["task"]["title"] for o in last.get_json()] == ["Nhiệm vụ 007"]
    assert json.loads(last.headers["X-Pagination"]) == {
        "total": 7, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 3, "previous_page": 2}
    beyond = api.get("/api/v1/occurrences?page_size=3&page=9")
    assert beyond.get_json() == []
    assert json.loads(beyond.headers["X-Pagination"])["total"] == 7


def test_page_size_is_bounded(api_as, commune, app):
    api = api_as(commune.focal, "en")
    response = api.get("/api/v1/occurrences?page_size=201&page=0")
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"page_size": ["Must be between 1 and 200."],
                                               "page": ["Must be between 1 and 2147483647."]}, "code": "invalid"}
    app.config["API_PAGE_SIZE_MAX"] = 20
    assert error_body(api.get("/api/v1/plans?page_size=21"))["errors"] == {"page_size": ["Must be at most 20."]}


@pytest.mark.parametrize("path", [
    "/api/v1/occurrences?page_size=100",
    "/api/v1/plans/{plan}/tasks?page_size=100",
    "/api/v1/reports?page_size=100",
    "/api/v1/extension-requests?page_size=100",
])
def test_lists_issue_the_same_queries_for_5_and_50_items(api_as, commune, make_plan, path):
    api = api_as(commune.officer)
    counts = []
    for n in (5, 50):
        plan = _plan_with_tasks(commune, make_plan, n)
        for occurrence in db.session.scalars(select(Occurrence).join(Task).where(Task.plan_id == plan.id)):
            if occurrence.lead_unit_id != commune.health.id:
                continue
            if "reports" in path:
                submit_report(commune.officer, occurrence, body="x")
            if "extension" in path:
                request_extension(commune.officer, occurrence, new_due_on=date(2025, 1, 1), reason="x")
        db.session.commit()  # expires every loaded object: the request loads what it dumps
        url = path.format(plan=plan.id)
        with count_queries() as statements:
            response = api.get(url)
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()) >= n // 5
        # The token's last use is written at most once a minute (the first request here, not the second).
        counts.append(len([s for s in statements if not s.startswith("UPDATE api_tokens")]))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, (counts, statements)
