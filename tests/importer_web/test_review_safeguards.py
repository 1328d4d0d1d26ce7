"""The importer's safeguards: the issuing unit comes from the document (or is asked for first), a known plan is
not drafted twice, "các thôn" stays inside the issuing unit, a blocking warning stops the confirmation (in the
operation, and above the button on the page), and a document that assigns nothing is refused."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from tests.importer_web.conftest import PLAN_004, counts, finish_import, plan_bytes
from tracker.extensions import db
from tracker.models import OrgUnit, Plan, PlanStatus, Task, UnitKind
from tracker.operations import drafts
from tracker.operations.errors import ValidationFailed
from tracker.operations.plan_import import import_plan

PLAN_000 = "000_48636eaaef47ce67.txt"  # UBND xã Nhật Quang, 56/KH-UBND of 15/8/2023
SHOPPING_LIST = ("DANH SÁCH ĐI CHỢ\nNgày 05/12/2026\n\n1. Thịt lợn: 2 kg\n2. Rau cải: 3 bó\n3. Trứng gà: 10 quả\n"
                 "4. Nước mắm: 1 chai\nGhi chú: mua trước ngày 07/12/2026.\n").encode()


def _post(client: Any, name: str, data: bytes, issuing_unit_id: Any) -> Any:
    """Upload, let the worker read the job, and return the job page's final answer."""
    form = {"file": (io.BytesIO(data), name), "issuing_unit_id": str(issuing_unit_id)}
    response = client.post("/plans/import", data=form, content_type="multipart/form-data")
    return finish_import(client, current_app._get_current_object(), response)


def _village_tasks(plan: Plan) -> list[Task]:
    return [t for t in plan.tasks if t.lead_unit is not None and t.lead_unit.kind == UnitKind.VILLAGE]


# --- (a) the issuing unit -------------------------------------------------------------------------------------

def test_an_administrator_gets_the_unit_the_document_names_not_the_country(login, client, commune):
    login("quantri")  # administrator of the whole province: many units to choose from
    page = client.get("/plans/import").get_data(as_text=True)
    assert '<option selected value="-1">' in page or '<option value="-1" selected>' in page
    assert "Đơn vị ghi ở phần đầu văn bản" in page

    response = _post(client, "kh.txt", plan_bytes(PLAN_004), -1)
    assert response.status_code == 302, response.get_data(as_text=True)
    plan = db.session.scalar(sa.select(Plan))
    assert plan.issuing_unit_id == commune.xa.id  # "UBND xã Cao Ngọc", not the province


def test_a_document_naming_none_of_the_persons_units_asks_for_the_issuer_first(login, client, commune):
    login("quantri")
    before = counts()
    response = _post(client, "nq.txt", plan_bytes(PLAN_000), -1)  # Nhật Quang is not in this tree
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "hãy chọn" in page.lower() and "– Chọn đơn vị ban hành –" in page
    assert 'value="-1"' not in page  # the choice is now the person's to make
    assert counts() == before
    # Choosing the placeholder is refused; choosing a unit imports.
    assert _post(client, "nq.txt", plan_bytes(PLAN_000), 0).status_code == 422
    assert _post(client, "nq.txt", plan_bytes(PLAN_000), commune.other_xa.id).status_code == 302


def test_the_issuer_is_matched_only_within_the_actors_scope(commune, make_unit):
    elsewhere = make_unit("Tỉnh Khác", UnitKind.PROVINCE)
    make_unit("Xã Nhật Quang", UnitKind.COMMUNE, parent=elsewhere)
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        import_plan(commune.admin, filename="nq.txt", data=plan_bytes(PLAN_000))
    assert refused.value.field == "issuing_unit"


def test_a_single_issuing_unit_stays_preselected(login, client, commune):
    login("ldtbxh")  # the commune's focal officer: one commune (and the office he works in)
    page = client.get("/plans/import").get_data(as_text=True)
    assert 'value="-1"' not in page and "Xã Cao Ngọc" in page


# --- (b) a known plan is not drafted twice -------------------------------------------------------------------

def test_the_same_file_under_an_ancestor_is_the_known_plan(login, client, commune):
    first = import_plan(commune.focal, filename="kh.txt", data=plan_bytes(PLAN_004), issuing_unit=commune.xa)
    db.session.commit()
    login("quantri")
    before = counts()
    response = _post(client, "kh.txt", plan_bytes(PLAN_004), commune.province.id)  # the wrong, broader unit
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f"/plans/{first.plan.id}/review" in page and 'data-testid="open-existing"' in page
    assert counts() == before


def test_the_same_number_and_date_under_another_unit_of_the_line_is_the_known_plan(commune, make_unit):
    nhat_quang = make_unit("Xã Nhật Quang", UnitKind.COMMUNE, parent=commune.district)
    first = import_plan(None, filename="nq.txt", data=plan_bytes(PLAN_000), issuing_unit=nhat_quang)
    assert first.plan is not None and first.plan.number == "56/KH-UBND"
    again = import_plan(None, filename="nq.docx.txt", data=plan_bytes(PLAN_000) + b"\n\n",
                        issuing_unit=commune.district)
    assert again.duplicate_of is not None and again.duplicate_of.id == first.plan.id
    assert again.duplicate_reason == "same_number" and again.plan is None
    # A commune elsewhere in the tree is another line: its plan of the same number is its own.
    other = import_plan(None, filename="nq2.txt", data=plan_bytes(PLAN_000) + b"\n", issuing_unit=commune.other_xa)
    assert other.duplicate_of is None and other.plan is not None


# --- (c) "các thôn" stays inside the issuing unit --------------------------------------------------------------

def test_cac_thon_fans_out_to_the_issuers_own_villages_only(commune, make_unit):
    make_unit("Thôn Bên Cạnh", UnitKind.VILLAGE, parent=commune.other_xa)
    own = import_plan(None, filename="kh.txt", data=plan_bytes(PLAN_004), issuing_unit=commune.xa)
    villages = _village_tasks(own.plan)
    assert villages and {t.lead_unit.parent_id for t in villages} == {commune.xa.id}

    # Filed under the district, "các thôn" finds no village of the district's own: nothing goes to the
    # communes' villages, and the row waits for the reviewer.
    above = import_plan(None, filename="kh-huyen.txt", data=plan_bytes(PLAN_004) + b"\n",
                        issuing_unit=commune.district)
    assert _village_tasks(above.plan) == []
    blocking = drafts.blocking_warnings(above.plan)
    assert any(w["code"] == "fanout_empty" and "thôn" in w["phrase"].lower() for _t, w in blocking)


# --- (d) blocking warnings -------------------------------------------------------------------------------------

def test_a_blocking_warning_stops_the_confirmation_until_the_row_is_resolved(commune):
    draft = import_plan(commune.focal, filename="kh.txt", data=plan_bytes(PLAN_004), issuing_unit=commune.xa).plan
    blocking = drafts.blocking_warnings(draft)
    assert blocking  # "Các tổ chức chính trị xã hội": the fixture commune has none
    with pytest.raises(ValidationFailed) as refused:
        drafts.confirm_draft(commune.focal, draft)
    assert "cảnh báo" in refused.value.render() or "warning" in refused.value.render()
    assert draft.status == PlanStatus.DRAFT
    for task, _warning in blocking:
        drafts.update_draft_task(commune.focal, task, lead_unit=commune.labour)
    assert drafts.blocking_warnings(draft) == []
    assert drafts.confirm_draft(commune.focal, draft) > 0 and draft.status == PlanStatus.ACTIVE


def test_the_review_page_shows_blocking_warnings_above_a_disabled_confirm_button(login, client, commune):
    draft = import_plan(commune.focal, filename="kh.txt", data=plan_bytes(PLAN_004), issuing_unit=commune.xa).plan
    db.session.commit()
    login("ldtbxh")
    page = client.get(f"/plans/{draft.id}/review").get_data(as_text=True)
    warnings_at = page.index('data-testid="blocking-warnings"')
    button_at = page.index('data-testid="confirm"')
    assert warnings_at < button_at
    assert "Các tổ chức chính trị xã hội" in page[warnings_at:button_at]
    assert 'data-testid="confirm" disabled' in page
    refused = client.post(f"/plans/{draft.id}/confirm")
    assert refused.status_code == 422 and "cảnh báo" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Plan, draft.id).status == PlanStatus.DRAFT


# --- (e) a document that assigns nothing ----------------------------------------------------------------------

def test_a_document_assigning_nothing_is_refused_with_a_message_saying_so(login, client, commune):
    login("ldtbxh")
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        import_plan(commune.focal, filename="di-cho.txt", data=SHOPPING_LIST, issuing_unit=commune.xa)
    assert "Không tìm thấy nhiệm vụ nào được giao" in refused.value.render()
    db.session.rollback()
    response = _post(client, "di-cho.txt", SHOPPING_LIST, commune.xa.id)
    assert response.status_code == 422
    assert "Không tìm thấy nhiệm vụ nào được giao" in response.get_data(as_text=True)
    assert counts() == before
    assert db.session.scalar(sa.select(sa.func.count(OrgUnit.id))) == before["org_units"]


def test_the_cli_refuses_to_activate_a_draft_with_a_blocking_warning(app, commune, tmp_path):
    path = tmp_path / "kh.txt"
    path.write_bytes(plan_bytes(PLAN_004))
    before = counts()
    result = app.test_cli_runner().invoke(
        args=["import-plan", str(path), "--issuer-unit", str(commune.xa.id), "--activate"])
    assert result.exit_code == 2 and "cảnh báo" in result.output, result.output
    db.session.rollback()
    assert counts() == before
