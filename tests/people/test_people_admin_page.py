"""Administration > People > import: template download, upload, preview, errors by row, confirm, re-import,
scope, and the confirm step's guards (CSRF, a plan that changed since its preview)."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa

from tests.people.conftest import csv_file, person_row, xlsx_file
from tracker.extensions import db
from tracker.models import AuditEvent, Person, Role


def upload(client: Any, name: str, data: bytes) -> Any:
    return client.post("/admin/people/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return unescape(match.group(1))


def confirm_data(html: str) -> dict[str, str]:
    return {name: hidden(html, name) for name in ("content", "filename", "digest")}


def people_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Person)) or 0)


def test_template_download_fill_preview_confirm_then_reimport_changes_nothing(coded: Any, client: Any,
                                                                             login: Any) -> None:
    from openpyxl import load_workbook

    login("quantri")
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Nhập người dùng từ Excel" in page and "/admin/people/template.xlsx" in page
    template = client.get("/admin/people/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(template.data))
    sheet = workbook.worksheets[0]
    sheet.append(person_row("truongthon", "Đỗ Văn Thôn", unit_name="Xã Cao Ngọc / Thôn 1", roles="Thủ trưởng đơn vị",
                            email="thon1@example.org"))
    sheet.append(person_row("yte", "Nguyễn Văn Y", unit_code="W26734", roles="Người xem", phone="0987654321"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = (people_count(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))

    preview = upload(client, "nguoi-dung.xlsx", buffer.getvalue())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:2000]
    assert re.search(r"data-testid=\"count-create\">1<", html), re.findall(r"count-\w+\">\d+|Dòng[^<]*", html)
    assert re.search(r"data-testid=\"count-update\">1<", html), re.findall(r"count-\w+\">\s*\d+", html)
    assert "Đỗ Văn Thôn" in html and "phone: 0987654321" in html
    db.session.expire_all()
    assert (people_count(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))) == before

    done = client.post("/admin/people/import/confirm", data=confirm_data(html))
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/people")
    listing = client.get("/admin/people").get_data(as_text=True)
    assert "Đã nhập nguoi-dung.xlsx: thêm mới 1, cập nhật 1, không đổi 0." in listing
    db.session.expire_all()
    thon = db.session.scalar(sa.select(Person).where(Person.username == "truongthon"))
    assert thon is not None and [(r.unit_id, r.role) for r in thon.roles] == [(coded.village.id, Role.UNIT_HEAD)]
    yte = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    assert yte.phone == "0987654321" and sorted(r.role for r in yte.roles) == [Role.OFFICER, Role.VIEWER]
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == coded.admin.id)))
    assert sorted(a for a in actions if a in ("people.import", "person.create", "person.update")) == [
        "people.import", "person.create", "person.update"]

    again = upload(client, "nguoi-dung.xlsx", buffer.getvalue()).get_data(as_text=True)
    assert "Không có gì thay đổi" in again and 'data-testid="import-confirm"' not in again
    assert re.search(r'data-testid="count-unchanged">2<', again)


def test_errors_are_listed_by_row_and_there_is_nothing_to_confirm(coded: Any, client: Any, login: Any) -> None:
    login("quantri")
    data = csv_file([person_row("a1", "Người A", unit_code="26734"),
                     person_row("a2", "Người B", unit_code="26999", roles="cán bộ; giám đốc"),
                     person_row("a1", "Người C", unit_code="W26734", email="khong-phai-email")])
    response = upload(client, "loi.csv", data)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Dòng 3: không tìm thấy đơn vị có mã 26999" in html
    assert "Dòng 3: vai trò không hợp lệ: giám đốc" in html
    assert "Dòng 4: Địa chỉ thư điện tử không hợp lệ." in html and "Dòng 4: tài khoản a1 đã có ở dòng 2" in html
    assert 'data-testid="import-confirm"' not in html
    assert people_count() == 9


def test_a_commune_admin_is_refused_another_communes_units(coded: Any, client: Any, login: Any) -> None:
    login("quantrixa")
    data = xlsx_file([person_row("x1", "Người X", unit_code="W26737"),
                      person_row("x2", "Người Y", unit_name="Trạm Y tế")])
    html = unescape(upload(client, "x.xlsx", data).get_data(as_text=True))
    assert "Dòng 2: bạn không có quyền quản trị Xã Bên Cạnh" in html and "Dòng 3" not in html
    forged = {"content": __import__("base64").b64encode(data).decode(), "filename": "x.xlsx", "digest": "0" * 64}
    refused = client.post("/admin/people/import/confirm", data=forged)
    assert refused.status_code == 422 and people_count() == 9


def test_people_who_are_not_admins_cannot_preview(coded: Any, client: Any, login: Any) -> None:
    login("chutich")
    assert upload(client, "x.csv", csv_file([person_row("x", "X", unit_code="W26734")])).status_code == 403
    assert client.get("/admin/people/template.xlsx").status_code == 403


def test_confirm_after_the_data_changed_shows_the_new_preview_and_writes_nothing(
        coded: Any, client: Any, login: Any, make_person: Any) -> None:
    login("quantri")
    html = upload(client, "a.csv", csv_file([person_row("moi", "Người Mới", unit_code="W26734")])).get_data(
        as_text=True)
    make_person("moi", full_name="Người Có Trước", roles=[(Role.OFFICER, coded.school)])
    db.session.commit()
    response = client.post("/admin/people/import/confirm", data=confirm_data(html))
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-testid="import-changed"' in page
    assert re.search(r'data-testid="count-update">1<', page)
    db.session.expire_all()
    moi = db.session.scalar(sa.select(Person).where(Person.username == "moi"))
    assert moi.full_name == "Người Có Trước" and len(moi.roles) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_confirm_without_its_csrf_token_is_refused(coded: Any, client: Any, app_config: Any) -> None:
    from tests.conftest import PASSWORD

    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "quantri", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    data = csv_file([person_row("moi", "Người Mới", unit_code="W26734")])
    page = client.get("/admin/people").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    html = client.post("/admin/people/import", data={"file": (io.BytesIO(data), "a.csv"), "csrf_token": form_token},
                       content_type="multipart/form-data").get_data(as_text=True)
    fields = confirm_data(html)
    assert client.post("/admin/people/import/confirm", data=fields).status_code == 400
    assert people_count() == 9
    ok = client.post("/admin/people/import/confirm", data={**fields, "csrf_token": form_token})
    assert ok.status_code == 302 and people_count() == 10


def test_a_file_larger_than_the_default_form_field_limit_still_confirms(coded: Any, client: Any,
                                                                          login: Any) -> None:
    """The confirm step carries the file back base64-encoded in the form; a file past Flask's 500 kB
    form-field default (here padded by a column the import ignores) still confirms."""
    login("quantri")
    header = [*__import__("tests.people.conftest", fromlist=["HEADER"]).HEADER, "Ghi chú"]
    rows = [[*person_row(f"dai{i}", f"Người Dài {i}", unit_code="W26734"), "x" * 20_000] for i in range(30)]
    data = csv_file(rows, header)
    assert len(data) > 500_000
    html = upload(client, "dai.csv", data).get_data(as_text=True)
    assert "Cột bỏ qua: Ghi chú" in html
    done = client.post("/admin/people/import/confirm", data=confirm_data(html))
    assert done.status_code == 302 and people_count() == 9 + 30


def test_parallel_confirms_of_one_preview_import_once(coded: Any, client: Any, login: Any, live_server: str) -> None:
    """Four confirms of the same preview at once, on a live threaded server: one imports, the others are
    sent back to a fresh preview (409) in which the people exist; one import event, one account each."""
    import threading

    import httpx

    from tests.conftest import PASSWORD

    login("quantri")
    data = csv_file([person_row(f"song{i}", f"Người Song {i}", unit_code="W26734") for i in range(20)])
    fields = confirm_data(upload(client, "song.csv", data).get_data(as_text=True))
    browsers = []
    try:
        for _ in range(4):
            browser = httpx.Client(base_url=live_server, timeout=60)
            assert browser.post("/login", data={"username": "quantri", "password": PASSWORD}).status_code == 302
            browsers.append(browser)
        barrier = threading.Barrier(len(browsers))
        statuses: list[int] = []

        def confirm(browser: httpx.Client) -> None:
            barrier.wait()
            statuses.append(browser.post("/admin/people/import/confirm", data=fields).status_code)

        threads = [threading.Thread(target=confirm, args=(b,)) for b in browsers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for browser in browsers:
            browser.close()
    assert sorted(statuses) == [302, 409, 409, 409], statuses
    db.session.expire_all()
    assert people_count() == 9 + 20
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "people.import")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "person.create",
                                    AuditEvent.actor_id == coded.admin.id)) == 20
