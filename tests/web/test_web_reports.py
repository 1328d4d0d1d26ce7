"""The periodic report page: choose, preview, download; the figures are those of the roll-up page; each person
gets only what their scope allows."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from lxml import html

from tests.reports.conftest import seed_report_data


@pytest.fixture
def report_data(commune, make_plan, make_task, make_unit, make_person):
    return seed_report_data(commune, make_plan, make_task, make_unit, make_person)


def _numbers(text: str) -> list[str]:
    """"≤ 3,25 %" -> ["3,25"] (both sides write numbers the Vietnamese way)."""
    return re.findall(r"\d[\d.]*(?:,\d+)?", text)


def test_the_page_offers_plans_and_periods_and_previews_the_draft(login, report_data):
    client = login("chutich")
    page = client.get("/reports")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Báo cáo định kỳ" in body and "56/KH-UBND" in body and "6 tháng đầu năm" in body
    preview = client.get(f"/reports?plan={report_data.plan.id}&period=2024-H1")
    assert preview.status_code == 200
    tree = html.fromstring(preview.get_data(as_text=True))
    text = tree.text_content()
    for expected in ("ỦY BAN NHÂN DÂN XÃ CAO NGỌC", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "6 tháng đầu năm 2024",
                     "I. KẾT QUẢ THỰC HIỆN", "Các thôn, tổ dân phố", "Thôn 3", "Trường Tiểu học", "Phạm Văn Chủ Tịch"):
        assert expected in text, expected
    assert tree.xpath('//*[@data-testid="download-docx"]') and tree.xpath('//*[@data-testid="download-xlsx"]')


def test_the_downloads_are_the_document_and_its_appendix(login, report_data):
    client = login("chutich")
    query = f"plan={report_data.plan.id}&period=2024-H1&number=12/BC-UBND"
    docx = client.get(f"/reports/report.docx?{query}")
    assert docx.status_code == 200 and docx.mimetype.endswith("wordprocessingml.document")
    assert "bao-cao-" in docx.headers["Content-Disposition"]
    heading = Document(io.BytesIO(docx.data)).tables[0].rows[0].cells[0].text
    assert "Số: 12/BC-UBND" in heading
    xlsx = client.get(f"/reports/phu-luc.xlsx?{query}")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")


def test_dates_typed_make_the_period(login, report_data):
    client = login("chutich")
    page = client.get(f"/reports?plan={report_data.plan.id}&start=01/01/2024&end=31/03/2024")
    assert page.status_code == 200
    assert "Quý I năm 2024" in page.get_data(as_text=True)


def test_bad_input_gets_a_clear_vietnamese_message(login, report_data):
    client = login("chutich")
    bad = client.get(f"/reports?plan={report_data.plan.id}&period=2024-H3")
    assert bad.status_code == 422
    assert "không phải là kỳ báo cáo" in bad.get_data(as_text=True)
    dates = client.get(f"/reports?plan={report_data.plan.id}&start=31/02/2024&end=01/03/2024")
    assert dates.status_code == 422 and "dd/mm/yyyy" in dates.get_data(as_text=True)
    assert client.get("/reports/report.docx?plan=999999&period=2024").status_code == 404
    assert client.get(f"/reports/report.docx?plan={report_data.plan.id}&period=nope").status_code == 422


def test_english_is_available(login, report_data, client):
    login("chutich")
    client.post("/language", data={"lang": "en", "next": "/reports"})
    page = client.get(f"/reports?plan={report_data.plan.id}&period=2024-H3").get_data(as_text=True)
    assert "Periodic report" in page and "is not a period" in page


def test_an_officer_gets_their_unit_only_and_another_commune_nothing(login, client, report_data):
    login("yte")
    text = html.fromstring(client.get(f"/reports?plan={report_data.plan.id}&period=2024-H1")
                           .get_data(as_text=True)).text_content()
    assert "Trạm Y tế" in text and "Thôn 3" not in text and "Trường Tiểu học" not in text
    client.post("/logout")
    login("ytekhac")
    assert client.get(f"/reports?plan={report_data.plan.id}&period=2024-H1").status_code == 403
    assert client.get(f"/reports/report.docx?plan={report_data.plan.id}&period=2024-H1").status_code == 403


def test_a_chair_cannot_roll_up_the_district(login, report_data):
    client = login("chutich")
    c = report_data.commune
    assert client.get(f"/reports?plan={report_data.plan.id}&period=2024&rollup={c.district.id}").status_code == 403


def _rollup_page(client, unit, plan, period):
    page = client.get(f"/rollup?unit={unit.id}&plan={plan.id}&period={period}")
    assert page.status_code == 200
    tree = html.fromstring(page.get_data(as_text=True))
    rows = {}
    for tr in tree.xpath('//*[@data-testid="rollup"]//tr[@data-unit-id]'):
        name = tr.xpath("./td")[0].text_content().split("(")[0].strip()
        rows[name] = tuple(int(tr.xpath(f'.//*[@data-count="{k}"]')[0].text_content().strip())
                           for k in ("expected", "overdue", "open_not_due"))
    indicators = {}
    for tr in tree.xpath('//*[@data-testid="indicators"]//tr[@data-indicator]'):
        name = tr.xpath("./td")[0].text_content().strip()
        indicators[(name, tr.get("data-unit"))] = (_numbers(tr.xpath(".//*[@data-target]")[0].text_content()),
                                                   _numbers(tr.xpath(".//*[@data-actual]")[0].text_content()))
    return rows, indicators


def _docx_tables(data: bytes, unit_name: str):
    """The report's unit rows, its indicator table (targets of `unit_name`) and its appendix (the units below
    side by side), keyed as the roll-up page's rows are."""
    document = Document(io.BytesIO(data))
    units, indicators = {}, {}
    for table in document.tables:
        header = [c.text for c in table.rows[0].cells]
        if header[:3] == ["STT", "Đơn vị", "Đến hạn"]:
            for row in table.rows[1:]:
                cells = [c.text for c in row.cells]
                units[cells[1].split(" (")[0]] = (int(cells[2]), int(cells[5]), int(cells[6]))
        elif header[:2] == ["STT", "Chỉ tiêu"]:
            for row in table.rows[1:]:
                cells = [c.text for c in row.cells]
                indicators[(cells[1], unit_name)] = (_numbers(cells[3]), _numbers(cells[4]))
        elif header[:2] == ["STT", "Đơn vị"]:  # the appendix: three columns per indicator
            names = [re.sub(r" \([^)]*\)$", "", h) for h in header]
            for row in table.rows[2:]:
                cells = [c.text for c in row.cells]
                for column in range(2, len(cells), 3):
                    if cells[column] or cells[column + 1]:
                        indicators[(names[column], cells[1])] = (_numbers(cells[column]),
                                                                 _numbers(cells[column + 1]))
    return units, indicators


@pytest.mark.parametrize("period", ["2024-H1", "2024"])
def test_the_reports_figures_are_the_roll_up_pages(login, client, report_data, period):
    c, plan = report_data.commune, report_data.plan
    # A province viewer: the district's communes side by side.
    login("tinh")
    rows, indicators = _rollup_page(client, c.district, plan, period)
    docx = client.get(f"/reports/report.docx?plan={plan.id}&period={period}&rollup={c.district.id}")
    assert docx.status_code == 200
    units, report_indicators = _docx_tables(docx.data, c.district.name)
    assert units == rows and rows["Xã Cao Ngọc"][0] > 0
    assert report_indicators == indicators and indicators
    # The commune's chair: the plan's report against the roll-up of the commune.
    client.post("/logout")
    login("chutich")
    rows, indicators = _rollup_page(client, c.xa, plan, period)
    preview = html.fromstring(client.get(f"/reports?plan={plan.id}&period={period}").get_data(as_text=True))
    summary = {k: int(preview.xpath(f'//*[@data-testid="preview-summary"]//*[@data-count="{k}"]')[0].text_content())
               for k in ("total", "overdue", "not_due")}
    assert summary["overdue"] == sum(r[1] for r in rows.values())
    assert summary["not_due"] == sum(r[2] for r in rows.values())
    assert summary["total"] == sum(r[0] + r[2] for r in rows.values())
    _, report_indicators = _docx_tables(client.get(f"/reports/report.docx?plan={plan.id}&period={period}").data,
                                        c.xa.name)
    assert report_indicators == indicators


def test_the_roll_up_page_links_to_the_report_for_its_plan_and_period(login, report_data):
    client = login("tinh")
    c, plan = report_data.commune, report_data.plan
    tree = html.fromstring(client.get(f"/rollup?unit={c.district.id}&plan={plan.id}&period=2024-H1")
                           .get_data(as_text=True))
    link = tree.xpath('//*[@data-testid="rollup-report-link"]')[0].get("href")
    assert link == f"/reports?plan={plan.id}&period=2024-H1&rollup={c.district.id}"
    assert client.get(link).status_code == 200
    assert client.get(f"/rollup?unit={c.district.id}&period=2024-H7").status_code == 422
