"""Each page issues a bounded number of SQL statements, whatever the data size (no N+1).

Pages are requested at two data sizes; the statement count must not grow with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g

from tracker.extensions import db

PAGES: list[tuple[str, str]] = [
    ("yte", "/tasks"),
    ("yte", "/occurrences/{occ}"),
    ("yte", "/profile"),
    ("yte", "/notifications"),
    ("yte", "/plans"),
    ("yte", "/plans/{plan}"),
    ("chutich", "/overview"),
    ("chutich", "/overview?unit={xa}"),
    ("chutich", "/overview?unit={xa}&show=done"),
    ("chutich", "/overview/print"),
    ("chutich", "/overview.xlsx"),
    ("chutich", "/occurrences/{occ}"),
    ("tinh", "/rollup"),
    ("tinh", "/rollup?unit={district}"),
    ("tinh", "/rollup?unit={xa}&year=2024"),
    ("tinh", "/rollup/phu-luc.xlsx?unit={xa}"),
    ("tinh", "/plans/{plan}"),
    ("tinh", "/rollup?unit={xa}&plan={plan}&period=2024-H2"),
    ("tinh", "/reports"),
    ("tinh", "/reports?plan={plan}&period=2024&rollup={district}"),
    ("tinh", "/reports/report.docx?plan={plan}&period=2024&rollup={district}"),
    ("chutich", "/reports?plan={plan}&period=2024"),
    ("chutich", "/reports/phu-luc.xlsx?plan={plan}&period=2024"),
    ("chutich", "/reports?unit={xa}&period=2024"),
    ("quantri", "/admin/units?unit={xa}"),
    ("quantri", "/admin/people"),
]


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def _report_and_return(officer: Any, chair: Any, occurrence: Any, i: int) -> None:
    """A report with a file, returned by the chair: the occurrence is open again with one more report."""
    from tracker.operations.occurrences import UploadedFile, add_comment, review_report, submit_report

    report = submit_report(officer, occurrence, body=f"Lần {i}",
                           attachments=[UploadedFile(f"lan-{i}.pdf", "application/pdf", b"%PDF-1.4")])
    review_report(chair, report, accept=False, comment="Bổ sung")
    add_comment(officer, occurrence, f"Ý kiến {i}")


def _ids(data: Any) -> dict[str, int]:
    c = data.commune
    return {"occ": data.occurrence.id, "plan": data.plan.id, "district": c.district.id, "xa": c.xa.id,
            "indicator": data.indicator.id, "officer": c.officer.id, "head": c.head.id, "chair": c.chair.id}


def _grow(ids: dict[str, int], n: int, make_unit: Callable[..., Any], make_task: Callable[..., Any],
          make_person: Callable[..., Any]) -> None:
    """Add n units with tasks (some done, some late), people, comments, reports and reminders."""
    from types import SimpleNamespace

    from tracker.clock import utcnow
    from tracker.models import (
        Channel,
        DeliveryStatus,
        Indicator,
        Notification,
        NotificationKind,
        Occurrence,
        OrgUnit,
        Person,
        Plan,
        Role,
    )
    from tracker.notify.outbox import enqueue
    from tracker.operations.indicators import set_target
    from tracker.operations.occurrences import submit_report
    from tracker.operations.plans import activate_plan, create_plan

    get = db.session.get
    c = SimpleNamespace(xa=get(OrgUnit, ids["xa"]), district=get(OrgUnit, ids["district"]),
                        officer=get(Person, ids["officer"]), head=get(Person, ids["head"]),
                        chair=get(Person, ids["chair"]))
    data = SimpleNamespace(plan=get(Plan, ids["plan"]), indicator=get(Indicator, ids["indicator"]),
                           occurrence=get(Occurrence, ids["occ"]))
    for i in range(n):
        unit = make_unit(f"Thôn {i + 10}", "village", parent=c.xa)
        officer = make_person(f"thon{i}", roles=[(Role.OFFICER, unit)])
        for k in range(3):
            task = make_task(data.plan, unit, title=f"Nhiệm vụ {i}-{k}", due=date(2024, 9, 1) + timedelta(days=k * 40),
                             report_to_unit=c.xa, section_code=f"IV.{i}")
            occ = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
            if k == 0:
                submit_report(officer, occ, body="Xong", values={data.indicator.id: str(i)})
        set_target(None, data.indicator, unit=unit, year=2024, value=i + 1)
        other_district_commune = make_unit(f"Xã Mới {i}", "commune", parent=c.district)
        # Another commune's own plan (a commune's plan cannot hand the next commune tasks): more rows elsewhere.
        other_plan = create_plan(None, title=f"Kế hoạch xã mới {i}", issuing_unit=other_district_commune, year=2024)
        make_task(other_plan, other_district_commune, title=f"Việc xã mới {i}", due=date(2024, 8, 1))
        activate_plan(None, other_plan)
        # The measured occurrence gathers comments, returned reports and reminders.
        _report_and_return(c.officer, c.chair, data.occurrence, i + 1)
        enqueue(NotificationKind.REMINDER, [c.officer, c.head, officer], key=f"grow-{i}",
                occurrence_id=data.occurrence.id, channels=[Channel.IN_APP, Channel.EMAIL])
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.SENT, sent_at=utcnow()))
    db.session.commit()


def _measure(client: Any, login: Callable[[str], Any], values: dict[str, int]) -> dict[tuple[str, str], int]:
    counts = {}
    current = None
    for username, template in PAGES:
        if username != current:
            client.post("/logout")
            login(username)
            current = username
        path = template.format(**values)
        db.session.remove()  # every request starts cold, as in a fresh web process
        g.pop("_login_user", None)  # the test shares one app context (and `g`) across requests
        with counting() as statements:
            response = client.get(path)
        assert response.status_code == 200, (username, path, response.status_code)
        counts[(username, template)] = len(statements)
    return counts


def test_pages_issue_a_bounded_number_of_queries(client, login, web_data, make_unit, make_task, make_person):
    from tracker.clock import utcnow
    from tracker.models import Channel, DeliveryStatus, Notification, NotificationKind
    from tracker.notify.outbox import enqueue

    # Both sizes hold at least one of everything a page lists, so only the amount differs.
    enqueue(NotificationKind.REMINDER, [web_data.commune.officer], key="small", occurrence_id=web_data.occurrence.id,
            channels=[Channel.IN_APP])
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.SENT, sent_at=utcnow()))
    _report_and_return(web_data.commune.officer, web_data.commune.chair, web_data.occurrence, 0)
    db.session.commit()
    ids = _ids(web_data)
    small = _measure(client, login, ids)
    _grow(ids, 6, make_unit, make_task, make_person)
    large = _measure(client, login, ids)
    grown = {page: (small[page], large[page]) for page in small if large[page] > small[page]}
    print("\nstatements per page (small, large):", {f"{u} {p}": (small[(u, p)], large[(u, p)]) for u, p in small})
    assert not grown, f"statement count grows with the data (small, large): {grown}"
    assert max(large.values()) <= 25, large


@contextmanager
def counting_with_commits() -> Iterator[list[str]]:
    """Statements in order, with "COMMIT" where the request's transaction commits."""
    events: list[str] = []

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        events.append(statement)

    def commit(conn: Any) -> None:
        events.append("COMMIT")

    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    sa.event.listen(db.engine, "commit", commit)
    try:
        yield events
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)
        sa.event.remove(db.engine, "commit", commit)


@contextmanager
def counting_with_parameters() -> Iterator[list[tuple[str, str]]]:
    """Each statement with its parameters: the same pair twice is the same rows read twice."""
    executed: list[tuple[str, str]] = []

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        executed.append((statement, repr(parameters)))

    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield executed
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def test_mark_done_runs_a_few_statements_and_none_after_its_commit(client, login, web_data):
    """"Mark done" (the web form, CSRF aside) reads what it checks once, writes, commits, and redirects: no
    statement reloads after the commit what it just changed. Six statements: the signed-in person with
    roles and their units, the occurrence with its task, plan and the units the checks need (one each), the
    guarded UPDATE, the report, the status counts' upsert (tracker.operations.summaries), and the audit event,
    written unlinked (the sequencer links it into its hash chain later). The page the redirect leads to reads
    no row twice."""
    login("yte")
    occurrence_id = web_data.occurrence.id
    db.session.remove()
    g.pop("_login_user", None)
    with counting_with_commits() as events:
        response = client.post(f"/occurrences/{occurrence_id}/done", data={"note": "Xong", "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    statements = [e for e in events if e != "COMMIT" and not e.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert "COMMIT" in events
    after = events[events.index("COMMIT") + 1:]
    assert [s for s in after if s != "COMMIT"] == []
    assert len(statements) <= 6, "\n".join(statements)

    db.session.remove()
    g.pop("_login_user", None)
    with counting_with_parameters() as executed:
        page = client.get(response.headers["Location"])
    assert page.status_code == 200
    repeated = [s for s in set(executed) if executed.count(s) > 1]
    assert not repeated, repeated
