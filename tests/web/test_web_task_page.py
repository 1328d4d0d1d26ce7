"""The task (occurrence) page: a report must say something, errors keep the form, the roles and the input."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, Occurrence, Report

EMPTY = ("Báo cáo đang trống: hãy ghi kết quả thực hiện, nhập ít nhất một số liệu hoặc đính kèm tệp. Nếu không có "
         "gì để báo cáo, hãy dùng &#34;Đánh dấu hoàn thành không kèm báo cáo&#34;.")


def _reports(occ_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.occurrence_id == occ_id))


def _open(occ_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Occurrence, occ_id).completed_at is None


def _beside(html: str, name: str, message: str) -> bool:
    """The message is the first thing shown after the input named `name` (and before the next input)."""
    match = re.search(rf'<(?:input|textarea)[^>]*name="{re.escape(name)}"[^>]*>(.*?)(?=<(?:input|textarea|button))',
                      html, re.S)
    return match is not None and f'<p class="field-error">{message}</p>' in match.group(1)


def _second_indicator(web_data, name: str):
    from tracker.operations.indicators import create_indicator, set_target

    indicator = create_indicator(None, web_data.plan, name=name, unit_of_measure="lượt")
    set_target(None, indicator, unit=web_data.commune.health, year=2030, value="300")
    db.session.commit()
    return indicator


def test_a_number_error_keeps_the_roles_the_forms_and_the_input_of_a_person_who_commented(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    assert client.post(f"/occurrences/{occ_id}/comments", data={"body": "Đang làm"}).status_code == 302
    response = client.post(f"/occurrences/{occ_id}/report", data={
        "body": "Đã tiêm cho 120 trẻ", f"value_{web_data.indicator.id}": "hai phẩy"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Việc của tôi" in html
    assert 'data-testid="report-form"' in html and 'data-testid="extension-form"' in html
    assert "Đã tiêm cho 120 trẻ</textarea>" in html and 'value="hai phẩy"' in html
    assert _beside(html, f"value_{web_data.indicator.id}", "hai phẩy không phải là số.")
    assert _reports(occ_id) == 0 and _open(occ_id)


def test_a_person_who_asked_for_more_time_keeps_the_report_form_after_an_error(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/extension", data={"new_due_on": "31/12/2031", "reason": "Chờ"})
    assert response.status_code == 302
    response = client.post(f"/occurrences/{occ_id}/report", data={f"value_{web_data.indicator.id}": "1,2,3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Việc của tôi" in html and 'data-testid="report-form"' in html
    assert _beside(html, f"value_{web_data.indicator.id}", "1,2,3 không phải là số.")


def test_an_empty_report_is_refused_beside_the_text_and_changes_nothing(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = client.post(f"/occurrences/{occ_id}/report", data={"body": "   ", f"value_{web_data.indicator.id}": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _beside(html, "body", EMPTY)
    assert 'data-testid="form-error"' in html and "Chưa lưu được: hãy sửa 1 lỗi dưới đây." in html
    assert _reports(occ_id) == 0 and _open(occ_id)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before


def test_a_figure_alone_is_a_report_on_the_web(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/report", data={f"value_{web_data.indicator.id}": "1,9"})
    assert response.status_code == 302
    assert _reports(occ_id) == 1 and not _open(occ_id)


def test_every_error_is_shown_beside_its_input_with_a_summary_on_top(login, client, web_data):
    visits = _second_indicator(web_data, "Lượt khám cho người nghèo")
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/report", data={
        "body": "Đã làm", f"value_{web_data.indicator.id}": "abc", f"value_{visits.id}": "ba trăm"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _beside(html, f"value_{web_data.indicator.id}", "abc không phải là số.")
    assert _beside(html, f"value_{visits.id}", "ba trăm không phải là số.")
    assert "Chưa lưu được: hãy sửa 2 lỗi dưới đây." in html
    assert f'href="#value_{visits.id}"' in html  # the summary links to each input
    assert _reports(occ_id) == 0


def test_an_error_of_the_operation_is_shown_beside_its_input_with_the_reason_kept(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/extension",
                           data={"new_due_on": "01/01/2030", "reason": "Chờ số liệu của các thôn"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _beside(html, "new_due_on", "Thời hạn mới phải sau thời hạn hiện tại (15/12/2030).")
    assert "Chờ số liệu của các thôn</textarea>" in html and 'value="01/01/2030"' in html


def test_done_without_a_report_needs_the_ticked_confirmation(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/done", data={"note": "Không phát sinh"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _beside(html, "confirm", "Hãy đánh dấu vào ô xác nhận.")
    assert 'data-testid="done-without-report" open' in html  # the folded form is open again, note kept
    assert "Không phát sinh</textarea>" in html
    assert _reports(occ_id) == 0 and _open(occ_id)
    response = client.post(f"/occurrences/{occ_id}/done", data={"note": "", "confirm": "y"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã đánh dấu hoàn thành, không kèm báo cáo." in html
    assert not _open(occ_id)


def test_the_form_asks_only_for_the_units_indicators_with_short_labels(login, client, web_data):
    sentence = ("Mục tiêu giảm nghèo đến cuối năm 2024 Tỷ lệ hộ nghèo toàn xã giảm còn dưới 2,03% theo chuẩn "
                "nghèo đa chiều giai đoạn 2022 - 2025")
    long_one = _second_indicator(web_data, sentence)
    login("yte")
    html = client.get(f"/occurrences/{web_data.later.id}").get_data(as_text=True)
    assert html.count('data-testid="figure"') == 2
    label = re.search(rf'<label for="value_{long_one.id}">([^<]*)</label>', html).group(1)
    assert label.endswith("… (lượt)") and len(label) < 75
    assert sentence in html  # the plan's whole wording, in the hint
    login("hieutruong")  # the school: no target for it, but it gave the figure before
    html = client.get(f"/occurrences/{web_data.school.id}").get_data(as_text=True)
    assert 'data-testid="report-form"' not in html  # done: no form
    from tracker.models import Role
    from tracker.operations.people import assign_role

    assign_role(None, web_data.commune.officer, web_data.commune.village, Role.OFFICER)
    db.session.commit()
    login("yte")
    html = client.get(f"/occurrences/{web_data.village.id}").get_data(as_text=True)
    assert 'data-testid="report-form"' in html and 'data-testid="figure"' not in html  # the village has none


def test_the_status_and_the_two_actions_come_before_the_details(login, client, web_data):
    login("yte")
    html = client.get(f"/occurrences/{web_data.later.id}").get_data(as_text=True)
    positions = [html.index(marker) for marker in (
        'data-testid="task-status"', 'data-testid="action-bar"', 'href="#report"', 'href="#extension"',
        'data-testid="report-form"', 'data-testid="task-details"', 'id="comments"')]
    assert positions == sorted(positions)
