"""Hostile input to the pages: odd ids, odd characters, odd dates, redirects and sessions.

Every case is a clear 4xx page in the person's language (or a harmless redirect), and nothing changes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, Comment, ExtensionRequest, Notification, Person

HUGE_IDS = [2**31, 2**63, 2**64 + 5, 10**30]


def _audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


@pytest.mark.parametrize("template", ["/occurrences/{id}", "/plans/{id}", "/attachments/{id}",
                                      "/plans/{id}/review", "/plans/{id}/document", "/admin/people/{id}",
                                      "/plans/{id}/tasks/1/source"])
def test_huge_and_odd_ids_in_paths_are_404(login, client, web_data, template):
    login("quantri")
    for ident in [*HUGE_IDS, 0, -1, "abc", "١٢", "%00"]:
        response = client.get(template.format(id=ident))
        assert response.status_code == 404, (template, ident)
        assert "Không tìm thấy" in response.get_data(as_text=True)


def test_huge_ids_in_posts_are_404_and_change_nothing(login, client, web_data):
    login("quantri")
    before = _audit_count()
    for ident in HUGE_IDS:
        for path, data in [(f"/occurrences/{ident}/comments", {"body": "x"}),
                           (f"/reports/{ident}/review", {"decision": "accept"}),
                           (f"/extensions/{ident}/decide", {"decision": "approve"}),
                           (f"/profile/tokens/{ident}/revoke", {}),
                           (f"/admin/outbox/{ident}/retry", {}),
                           (f"/admin/roles/{ident}/revoke", {}),
                           (f"/admin/units/{ident}/archive", {}),
                           (f"/admin/policies/{ident}/archive", {}),
                           (f"/admin/templates/{ident}/reset", {}),
                           (f"/plans/{ident}/confirm", {})]:
            response = client.post(path, data=data)
            assert response.status_code == 404, (path, response.status_code)
    assert _audit_count() == before


@pytest.mark.parametrize("query", ["/overview?unit={v}", "/overview?year={v}", "/rollup?unit={v}",
                                   "/rollup?year={v}", "/overview.xlsx?unit={v}", "/rollup/phu-luc.xlsx?unit={v}",
                                   "/admin/units?unit={v}", "/admin/outbox?page={v}"])
def test_odd_numbers_in_query_strings_are_400(login, client, web_data, query):
    login("quantri")
    for value in ["²", "١", "-1", "1.5", "abc", " 1", *[str(i) for i in HUGE_IDS]]:
        response = client.get(query.format(v=value))
        assert response.status_code in (400, 404), (query, value, response.status_code)
        assert response.mimetype == "text/html"


def test_an_outbox_page_beyond_the_end_is_empty_not_an_error(login, client, web_data):
    login("quantri")
    assert client.get("/admin/outbox?page=2147483647").status_code == 200


def test_huge_unit_ids_in_admin_forms_are_refused(login, client, web_data):
    login("quantri")
    before = _audit_count()
    for ident in HUGE_IDS:
        response = client.post("/admin/units", data={"name": "Thôn 9", "kind": "village", "parent_id": str(ident)})
        assert response.status_code == 422, ident
        assert "Hãy chọn đơn vị." in response.get_data(as_text=True)
    assert _audit_count() == before


@pytest.mark.parametrize("text", ["a\x00b", "chuông\x07", "esc\x1b[31m"])
def test_control_characters_in_form_text_are_refused(login, client, web_data, text):
    login("yte")
    response = client.post(f"/occurrences/{web_data.occurrence.id}/comments", data={"body": text})
    assert response.status_code == 422
    assert "Văn bản chứa ký tự không được phép." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_control_characters_in_a_sign_in_are_refused_without_counting_a_failure(client, web_data):
    response = client.post("/login", data={"username": "yte\x00", "password": "secret-pass-1"})
    assert response.status_code == 422
    assert "Văn bản chứa ký tự không được phép." in response.get_data(as_text=True)


def test_new_lines_and_tabs_in_form_text_are_kept(login, client, web_data):
    login("yte")
    response = client.post(f"/occurrences/{web_data.occurrence.id}/comments", data={"body": "Dòng 1\r\n\tDòng 2"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Comment.body)) == "Dòng 1\r\n\tDòng 2"


def test_bytes_that_are_not_utf8_in_form_text_are_stored_harmlessly(login, client, web_data):
    login("yte")
    response = client.post(f"/occurrences/{web_data.occurrence.id}/comments", data=b"body=a%ED%A0%80b%FF",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302  # no surrogate ever reaches the database
    db.session.scalar(sa.select(Comment.body)).encode("utf-8")


@pytest.mark.parametrize("name", ["a\x00b.pdf", "hoa-don\u202efdp.pdf", "xoa\x7f.pdf"])
def test_file_names_with_control_or_direction_characters_are_refused(login, client, web_data, name):
    login("yte")
    response = client.post(f"/occurrences/{web_data.later.id}/report", content_type="multipart/form-data",
                           data={"body": "Kèm tệp", "attachments": [(io.BytesIO(b"%PDF-1.4 x"), name)]})
    assert response.status_code == 422
    assert "Tên tệp chứa ký tự không được phép." in response.get_data(as_text=True)
    db.session.expire_all()
    assert web_data.later.completed_at is None


@pytest.mark.parametrize("typed", ["31/12/9999", "01/01/0001", "31/12/2101", "1989-12-31"])
def test_implausible_new_deadlines_are_refused(login, client, web_data, typed):
    login("yte")
    response = client.post(f"/occurrences/{web_data.later.id}/extension", data={"new_due_on": typed, "reason": "x"})
    assert response.status_code == 422
    assert "Hãy nhập một ngày từ 01/01/1990 đến 31/12/2100." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ExtensionRequest.id))) == 0


@pytest.mark.parametrize("typed", ["00/00/0000", "31/02/2031", "2031-13-01", "tomorrow", "31/12/2031 08:00"])
def test_malformed_new_deadlines_are_refused(login, client, web_data, typed):
    login("yte")
    response = client.post(f"/occurrences/{web_data.later.id}/extension", data={"new_due_on": typed, "reason": "x"})
    assert response.status_code == 422
    assert "Hãy nhập ngày theo dạng dd/mm/yyyy." in response.get_data(as_text=True)


def test_retrying_a_message_never_redirects_off_site(login, client, web_data):
    from tracker.models import Channel, DeliveryStatus, NotificationKind
    from tracker.notify.outbox import enqueue

    enqueue(NotificationKind.PASSWORD_RESET, [web_data.commune.officer], key="k1", channels=[Channel.EMAIL],
            payload={"reset_url": "http://127.0.0.1/x", "full_name": "Y"})
    notification = db.session.scalar(sa.select(Notification))
    notification.status = DeliveryStatus.DEAD
    db.session.commit()
    login("quantri")
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]:
        response = client.post(f"/admin/outbox/{notification.id}/retry", data={"next": target})
        assert response.status_code == 302
        _assert_same_site(response.headers["Location"])
        assert response.headers["Location"].startswith("/admin/outbox")
        notification.status = DeliveryStatus.DEAD
        db.session.commit()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil",
                                    "http:/evil.example", "/%2F%2Fevil.example", " //evil.example",
                                    "javascript:alert(1)", "/\t/evil.example"])
def test_open_redirects_after_sign_in_and_forms_are_ignored(login, client, web_data, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "yte", "password": "secret-pass-1"})
    assert response.status_code == 302
    _assert_same_site(response.headers["Location"])
    response = client.post(f"/occurrences/{web_data.occurrence.id}/comments", data={"body": "ổn", "next": target})
    assert response.status_code == 302
    _assert_same_site(response.headers["Location"])
    response = client.post("/language", data={"lang": "en", "next": target})
    _assert_same_site(response.headers["Location"])


def _assert_same_site(location: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
    assert not any(ord(c) < 0x21 for c in location), location


def test_signing_in_starts_a_fresh_session(client, web_data):
    with client.session_transaction() as session:
        session["csrf_token"] = "planted-by-someone-else"
        session["lang"] = "en"
        session["planted"] = "x"
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "planted-by-someone-else"
        assert session["lang"] == "en"  # the language chosen before signing in stays
        assert session["_user_id"] == str(web_data.commune.officer.id)


def test_signing_out_forgets_the_session(login, client, web_data):
    login("yte")
    with client.session_transaction() as session:
        session["csrf_token"] = "old"
    client.post("/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session and session.get("csrf_token") != "old"
    assert client.get("/tasks").status_code == 302


def test_a_deactivated_person_is_signed_out_at_once(login, client, web_data):
    login("yte")
    assert client.get("/tasks").status_code == 200
    person = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    person.is_active = False
    db.session.commit()
    response = client.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/occurrences/{web_data.occurrence.id}/comments", data={"body": "x"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"})
    assert response.status_code == 401


def test_a_deactivated_persons_calendar_link_stops_working(login, client, web_data):
    login("yte")
    client.post("/profile/calendar")
    html = client.get("/profile").get_data(as_text=True)
    start = html.index("/calendar/")
    url = html[start:html.index(".ics", start) + 4]
    assert client.get(url).status_code == 200
    web_data.commune.officer.is_active = False
    db.session.commit()
    assert client.get(url).status_code == 404


def test_double_submit_of_a_report_is_a_conflict_the_second_time(login, client, web_data):
    login("yte")
    path = f"/occurrences/{web_data.later.id}/report"
    assert client.post(path, data={"body": "Lần một"}).status_code == 302
    before = _audit_count()
    response = client.post(path, data={"body": "Lần hai"})
    assert response.status_code == 409
    assert "Nhiệm vụ này đã được Nguyễn Văn Y đánh dấu hoàn thành lúc" in response.get_data(as_text=True)
    assert _audit_count() == before


def test_a_cancelled_task_cannot_be_reported_or_extended(login, client, web_data):
    from tracker.operations.occurrences import cancel_occurrence

    cancel_occurrence(None, web_data.later, reason="Không còn cần")
    db.session.commit()
    login("yte")
    before = _audit_count()
    for path, data in [(f"/occurrences/{web_data.later.id}/report", {"body": "x"}),
                       (f"/occurrences/{web_data.later.id}/done", {"note": "x", "confirm": "y"}),
                       (f"/occurrences/{web_data.later.id}/extension", {"new_due_on": "31/12/2031", "reason": "x"})]:
        response = client.post(path, data=data)
        assert response.status_code == 409, path
        assert "Nhiệm vụ này đã bị hủy." in response.get_data(as_text=True)
    assert _audit_count() == before


def test_script_in_unit_names_plan_titles_and_reports_is_shown_as_text(login, client, web_data, make_unit,
                                                                         make_plan, make_task):
    from tracker.operations.occurrences import submit_report
    from tracker.operations.plans import activate_plan

    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'>'
    unit = make_unit(f"Thôn {payload}", "village", parent=web_data.commune.xa)
    plan = make_plan(web_data.commune.xa, title=f"Kế hoạch {payload}", number=f"1/{payload}")
    task = make_task(plan, unit, title=f"Việc {payload}", due=date(2024, 9, 1), report_to_unit=web_data.commune.xa)
    activate_plan(None, plan)
    submit_report(web_data.commune.officer, web_data.occurrence, body=f"Báo cáo {payload}")
    db.session.commit()
    from tracker.models import Occurrence

    occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
    login("chutich")
    for path in [f"/occurrences/{occurrence.id}", f"/occurrences/{web_data.occurrence.id}", f"/plans/{plan.id}",
                 "/plans", "/overview", "/overview/print", f"/rollup?unit={web_data.commune.xa.id}"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]


def test_excel_exports_survive_control_characters_an_imported_document_carried(login, client, web_data, make_task):
    from tracker.models import Occurrence

    task = make_task(web_data.plan, web_data.commune.village, title="Dòng\x0bngắt\x0ctrang\x01", due=date(2024, 9, 2),
                     report_to_unit=web_data.commune.xa)
    db.session.commit()
    assert db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id)) is not None
    login("chutich")
    for path in ["/overview.xlsx", f"/rollup/phu-luc.xlsx?unit={web_data.commune.xa.id}"]:
        response = client.get(path)
        assert response.status_code == 200, path
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(response.data))
        cells = [c.value for ws in workbook for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        if path == "/overview.xlsx":
            assert "Dòng ngắt trang" in cells


@pytest.mark.parametrize("title", ['=HYPERLINK("http://127.0.0.1/x","Bấm vào")', "+1+cmd|' /C calc'!A0",
                                   "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"])
def test_excel_exports_write_formula_like_titles_as_text(login, client, web_data, make_task, title):
    """An officer's task title that looks like a formula is text in the chair's Excel, never a live formula."""
    from openpyxl import load_workbook

    make_task(web_data.plan, web_data.commune.village, title=title, due=date(2024, 9, 2),
              report_to_unit=web_data.commune.xa)
    db.session.commit()
    login("chutich")
    for path in ["/overview.xlsx", f"/rollup/phu-luc.xlsx?unit={web_data.commune.xa.id}"]:
        response = client.get(path)
        assert response.status_code == 200, path
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in xml for xml in sheets), path  # no formula anywhere in the file
        workbook = load_workbook(io.BytesIO(response.data))
        cells = [c for ws in workbook for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        shown = " ".join(title.split())
        found = [c for c in cells if c.value == shown]
        if path == "/overview.xlsx":
            assert found, path
        for cell in found:
            assert cell.data_type == "s" and cell.quotePrefix, path


def test_signing_out_also_ends_keep_me_signed_in(client, web_data):
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1", "remember": "y"})
    assert "tracker_remember=" in " ".join(response.headers.getlist("Set-Cookie"))
    response = client.post("/logout")
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("tracker_remember=")]
    assert cleared and ("Max-Age=0" in cleared[0] or "1970" in cleared[0])
    assert client.get("/tasks").status_code == 302
