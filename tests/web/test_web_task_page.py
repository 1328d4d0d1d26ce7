"""The task (occurrence) page: a report must say something, errors keep the form, the roles and the input."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Report


def _reports(occ_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.occurrence_id == occ_id))


def test_a_number_error_keeps_the_roles_the_forms_and_the_input_of_a_person_who_commented(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    assert client.post(f"/occurrences/{occ_id}/comments", data={"body": "Đang làm"}).status_code == 302
    response = client.post(f"/occurrences/{occ_id}/report", data={
        "body": "Đã tiêm cho 120 trẻ", f"value_{web_data.indicator.id}": "hai phẩy"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Việc của tôi" in html
    assert 'data-testid="report-form"' in html
    assert "Đã tiêm cho 120 trẻ" in html and 'value="hai phẩy"' in html
    assert _reports(occ_id) == 0
