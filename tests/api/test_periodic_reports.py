"""GET /api/v1/plans/{id}/report and /api/v1/units/{id}/report: the periodic report as JSON, .docx or .xlsx."""

from __future__ import annotations

import io

import pytest
from docx import Document

from tests.reports.conftest import seed_report_data


@pytest.fixture
def report_data(commune, make_plan, make_task, make_unit, make_person):
    return seed_report_data(commune, make_plan, make_task, make_unit, make_person)


def test_plan_report(api_as, report_data):
    """The chair's draft as JSON; as .docx and .xlsx; a roll-up for the province viewer; scope refusals."""
    c, plan = report_data.commune, report_data.plan
    chair = api_as(c.chair)
    response = chair.get(f"/api/v1/plans/{plan.id}/report?period=2024-H1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["period"] == {"key": "2024-H1", "label": "6 tháng đầu năm 2024", "start": "2024-01-01",
                              "end": "2024-06-30"}
    assert body["next_period"]["key"] == "2024-H2"
    assert {k: body["summary"][k] for k in ("total", "on_time", "late", "overdue", "not_due")} == {
        "total": 7, "on_time": 2, "late": 2, "overdue": 3, "not_due": 0}
    assert body["heading"]["issuing_body"] == "ỦY BAN NHÂN DÂN\nXÃ CAO NGỌC"
    assert body["silent_units"] == ["Trường Tiểu học", "Thôn 3"]
    group = next(e for s in body["plans"][0]["sections"] for e in s["entries"] if e.get("members"))
    assert (group["reported"], group["total"]) == (2, 3)
    poor = next(i for i in body["indicators"] if i["name"] == "Số hộ nghèo")
    assert (poor["target"], poor["actual"], poor["reporting_units"]) == (40.0, 27.0, 2)
    assert {i["unit_name"] for i in body["overdue"]} == {"Trạm Y tế", "Trường Tiểu học", "Thôn 3"}
    assert body["returned"][0]["comment"] == "Thiếu số liệu thôn 3"
    assert body["rollup"] is None

    docx = chair.get(f"/api/v1/plans/{plan.id}/report?period=2024-H1&format=docx&number=12/BC-UBND")
    assert docx.status_code == 200 and docx.mimetype.endswith("wordprocessingml.document")
    assert "Số: 12/BC-UBND" in Document(io.BytesIO(docx.data)).tables[0].rows[0].cells[0].text
    xlsx = chair.get(f"/api/v1/plans/{plan.id}/report?period=2024-H1&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")

    viewer = api_as(c.viewer).get(f"/api/v1/plans/{plan.id}/report?period=2024&rollup_unit_id={c.district.id}")
    assert viewer.status_code == 200
    rollup = viewer.get_json()["rollup"]
    assert {r["unit_name"] for r in rollup["rows"]} == {"Xã Cao Ngọc", "Xã Bên Cạnh"}
    assert {(f["name"], f["unit_id"], f["value"]) for f in rollup["figures"]} >= {("Số hộ nghèo", c.xa.id, 27.0)}

    officer = api_as(c.officer).get(f"/api/v1/plans/{plan.id}/report?period=2024-H1").get_json()
    assert {e["unit_name"] for s in officer["plans"][0]["sections"] for e in s["entries"]} == {"Trạm Y tế"}
    assert officer["indicators"] == []
    refused = api_as(c.other_officer).get(f"/api/v1/plans/{plan.id}/report?period=2024-H1")
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    above = chair.get(f"/api/v1/plans/{plan.id}/report?period=2024&rollup_unit_id={c.district.id}")
    assert above.status_code == 403


def test_plan_report_refuses_bad_input_in_one_shape(api_as, report_data):
    chair = api_as(report_data.commune.chair)
    plan = report_data.plan.id
    bad = chair.get(f"/api/v1/plans/{plan}/report?period=2024-H3")
    assert bad.status_code == 422
    assert bad.get_json() == {"code": "invalid", "errors": {"period": [
        "2024-H3 không phải là kỳ báo cáo: hãy ghi 2025 (năm), 2025-H1 (6 tháng đầu năm), 2025-Q3 (quý III) hoặc "
        "2025-01-01..2025-06-30 (khoảng ngày)."]}}
    english = api_as(report_data.commune.chair, "en").get(f"/api/v1/plans/{plan}/report?period=2024-H3")
    assert english.get_json()["errors"]["period"][0].startswith("2024-H3 is not a period")
    assert chair.get(f"/api/v1/plans/{plan}/report").status_code == 422  # no period
    assert chair.get(f"/api/v1/plans/{plan}/report?period=2024&format=pdf").status_code == 422
    assert chair.get(f"/api/v1/plans/{plan}/report?period=2024&colour=red").status_code == 422
    assert chair.get("/api/v1/plans/999999/report?period=2024").status_code == 404
    assert chair.get(f"/api/v1/plans/{plan}/report?period=2024&rollup_unit_id=999999").status_code == 404
    assert api_as(None).get(f"/api/v1/plans/{plan}/report?period=2024").status_code == 401


def test_unit_report(api_as, report_data):
    c = report_data.commune
    response = api_as(c.chair).get(f"/api/v1/units/{c.xa.id}/report?period=2024")
    assert response.status_code == 200
    body = response.get_json()
    assert [p["number"] for p in body["plans"]] == ["56/KH-UBND"]
    assert body["heading"]["subject"].startswith("Kết quả thực hiện Kế hoạch số 56/KH-UBND")  # one plan: its title
    empty = api_as(c.chair).get(f"/api/v1/units/{c.xa.id}/report?period=2019")
    assert empty.status_code == 422 and "period" in empty.get_json()["errors"]
    assert api_as(c.other_officer).get(f"/api/v1/units/{c.xa.id}/report?period=2024").status_code == 403
    docx = api_as(c.chair).get(f"/api/v1/units/{c.xa.id}/report?period=2024&format=docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
