"""Uploading a plan: a draft with its tasks and fan-out; bad files, duplicates and permissions change nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from tests.importer_web.conftest import PLAN_004, counts, finish_import, plan_bytes
from tests.importer_web.plans import COMMUNE_PLAN
from tracker.extensions import db
from tracker.models import Occurrence, Plan, PlanDocument, PlanStatus, Task, UnitKind


def _zip_bomb(size: int = 16 << 20) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(size >> 20):
                member.write(b"\0" * (1 << 20))
    return buffer.getvalue()


def test_upload_page_offers_the_units_where_the_person_manages_plans(login, client, commune):
    login("ldtbxh")
    page = client.get("/plans/import").get_data(as_text=True)
    assert "Nhập kế hoạch" in page
    assert f'<option selected value="{commune.xa.id}">Xã Cao Ngọc</option>' in page or "Xã Cao Ngọc</option>" in page
    assert "Xã Bên Cạnh" not in page and "Huyện Thử Nghiệm" not in page
    plans = client.get("/plans").get_data(as_text=True)
    assert 'data-testid="import-plan"' in plans and "/plans/import" in plans


def test_upload_of_plan_004_makes_a_draft_with_tasks_and_fan_out(login, client, upload, commune, make_unit):
    make_unit("Thôn 2", UnitKind.VILLAGE, parent=commune.xa)
    db.session.commit()
    login("ldtbxh")
    response = upload("KH giam ngheo 2024.txt", plan_bytes(PLAN_004))
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(Plan))
    assert response.headers["Location"].endswith(f"/plans/{plan.id}/review")
    assert plan.status == PlanStatus.DRAFT and plan.issuing_unit_id == commune.xa.id
    assert plan.document.filename == "KH giam ngheo 2024.txt" and plan.document.sha256
    tasks = plan.tasks
    villages = [t for t in tasks if t.section and t.section.code == "III.2.11"]
    assert {t.lead_unit.name for t in villages} == {"Thôn 1", "Thôn 2"}  # "Các Thôn, làng": one per village
    assert all(t.source_text for t in tasks)
    assert db.session.scalar(sa.select(sa.func.count(Occurrence.id))) == 0  # a draft schedules nothing

    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert review.count('data-testid="import-row"') == len(tasks)
    assert '<mark class="deadline">trước ngày 25/9/2024</mark>' in review
    assert 'class="confidence confidence-sure"' in review and 'class="confidence confidence-new"' in review
    assert "Trạm Y tế xã" in review and "Đề nghị" not in review.split("<h2>")[0]


def test_upload_by_an_officer_is_forbidden(login, client, upload, commune):
    login("yte")
    assert client.get("/plans/import").status_code == 403
    before = counts()
    response = upload("kh.txt", plan_bytes(PLAN_004))
    assert response.status_code == 403
    assert counts() == before
    assert 'data-testid="import-plan"' not in client.get("/plans").get_data(as_text=True)


def test_upload_for_a_unit_outside_the_persons_scope_is_refused(login, client, upload, commune):
    login("ldtbxh")
    before = counts()
    response = upload("kh.txt", plan_bytes(PLAN_004), unit=commune.other_xa)
    assert response.status_code == 422
    assert "Hãy chọn một trong các phương án." in response.get_data(as_text=True)
    assert counts() == before


BAD_FILES = {
    "empty": ("rong.txt", b"", "Tệp rỗng"),
    "binary": ("anh.docx", bytes(range(256)) * 64, "Không nhận dạng được định dạng tệp"),
    "zip bomb": ("bom.docx", _zip_bomb(), "nén"),
    "truncated docx": ("cut.docx", None, "bị hỏng hoặc không đầy đủ"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_get_a_clear_message_and_write_nothing(login, client, upload, commune, case):
    name, data, message = BAD_FILES[case]
    if data is None:
        from tests.importer.builders import docx_from_lines

        whole = docx_from_lines(COMMUNE_PLAN.splitlines())
        data = whole[: len(whole) // 2]
    login("ldtbxh")
    before = counts()
    response = upload(name, data)
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    assert message in page and 'data-testid="form-error"' in page
    assert counts() == before


def test_password_protected_pdf_is_refused(login, client, upload, commune):
    from tests.importer.builders import DEJAVU, pdf_from_lines

    if not DEJAVU.exists():
        pytest.skip(f"{DEJAVU} is absent (apt: fonts-dejavu-core)")
    login("ldtbxh")
    before = counts()
    response = upload("mat-khau.pdf", pdf_from_lines(COMMUNE_PLAN.splitlines(), encrypt="secret"))
    assert response.status_code == 422
    assert "mật khẩu" in response.get_data(as_text=True)
    assert counts() == before


def test_a_file_without_a_name_is_refused(login, client, commune):
    login("ldtbxh")
    response = client.post("/plans/import", data={"issuing_unit_id": str(commune.xa.id)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Hãy chọn tệp kế hoạch." in response.get_data(as_text=True)


def test_the_same_document_again_is_offered_as_an_update(login, client, app, upload, commune):
    login("ldtbxh")
    assert upload("kh.txt", plan_bytes(PLAN_004)).status_code == 302
    plan_id = db.session.scalar(sa.select(Plan.id))
    before = counts()
    again = upload("kh-ban-sao.txt", plan_bytes(PLAN_004))
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert f"/plans/{plan_id}/review" in page and f"/plans/{plan_id}/reimport" in page
    assert counts() == before  # no second plan, no second document

    tasks_before = db.session.scalar(sa.select(sa.func.count(Task.id)))
    reimported = finish_import(client, app, client.post(f"/plans/{plan_id}/reimport"))
    assert reimported.status_code == 302 and reimported.headers["Location"].endswith(f"/plans/{plan_id}/review")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Task.id))) == tasks_before
    assert counts()["plan_documents"] == before["plan_documents"]  # the same bytes are kept once


def test_the_same_plan_in_another_file_is_offered_as_an_update_then_refills_the_draft(login, client, upload, commune):
    login("ldtbxh")
    assert upload("kh.txt", COMMUNE_PLAN.encode()).status_code == 302
    plan = db.session.scalar(sa.select(Plan))
    first_document = plan.document_id
    changed = COMMUNE_PLAN.replace("5. ", "5. ").replace("4. Đề nghị Hội Chữ thập đỏ xã\n", "") \
        .replace("- Vận động nguồn lực hỗ trợ hộ nghèo khi có dịch.\n", "")
    before = counts()
    response = upload("kh-sua.txt", changed.encode())
    assert response.status_code == 409
    assert "cùng số và ngày ban hành" in response.get_data(as_text=True)
    assert counts() == before
    response = upload("kh-sua.txt", changed.encode(), update=True)
    assert response.status_code == 302
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 1
    assert plan.document_id != first_document and plan.document.filename == "kh-sua.txt"
    assert not any(t.section and t.section.code == "II.4" for t in plan.tasks)
    assert db.session.scalar(sa.select(sa.func.count(PlanDocument.id))) == 2  # both files kept


def test_reimporting_into_an_active_plan_is_a_conflict(login, client, upload, commune):
    login("ldtbxh")
    upload("kh.txt", plan_bytes(PLAN_004))
    plan_id = db.session.scalar(sa.select(Plan.id))
    assert client.post(f"/plans/{plan_id}/confirm").status_code == 302
    again = upload("kh.txt", plan_bytes(PLAN_004))
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert f"/plans/{plan_id}/reimport" not in page and f"/plans/{plan_id}" in page
    before = counts()
    response = upload("kh.txt", plan_bytes(PLAN_004), update=True)
    assert response.status_code == 422  # the worker's refusal, shown on the job's page
    assert "Kế hoạch đã đưa vào thực hiện" in response.get_data(as_text=True)
    assert counts() == before


def test_a_two_hundred_page_pdf_is_read_into_a_draft(login, client, upload, commune):
    from tests.importer.builders import DEJAVU, lines_of, pdf_from_lines

    if not DEJAVU.exists():
        pytest.skip(f"{DEJAVU} is absent (apt: fonts-dejavu-core)")
    appendix = [f"Phụ lục trang {i // 45}: số liệu rà soát hộ nghèo thôn {i % 12}, năm 2024." for i in range(200 * 46)]
    data = pdf_from_lines(lines_of(plan_bytes(PLAN_004).decode("utf-8")) + appendix)
    login("ldtbxh")
    response = upload("kh-200-trang.pdf", data)
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(Plan))
    assert plan.document.extraction["pages"] >= 200
    assert any(t.section and t.section.code == "III.2.6" for t in plan.tasks)
