"""The front door: the home page sends people to their page, which shows their tasks."""


def _sign_in(client, username, password="secret-pass-1"):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=True)


def test_home_page_answers_anonymous_visitors_with_a_sign_in_form(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Đăng nhập" in response.get_data(as_text=True)


def test_home_page_shows_an_officer_their_tasks(client, active_plan):
    _sign_in(client, "yte")
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in response.get_data(as_text=True)


def test_switching_language_is_saved_on_the_person_and_audited(client, active_plan, commune):
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import AuditEvent

    _sign_in(client, "yte")
    client.post("/language", data={"lang": "en", "next": "/tasks"})
    db.session.expire_all()
    assert commune.officer.locale == "en"
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "person.set_locale"))
