"""Authentication, the one error shape, malformed and unknown input, languages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_login.utils import _create_identifier

from tests.api.conftest import ApiClient, error_body
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken, Comment, Plan


def _sign_in(client, person) -> None:
    """Give the test client a browser session for `person`, as the sign-in page would."""
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()  # Flask-Login's "strong" session protection checks it
    from tracker.auth import SESSION_KEY, start_session

    with client.application.test_request_context():
        selector = start_session(person, remember=False, remote_addr=None, user_agent=None).row.selector
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(person.id)
        session["_fresh"] = True
        session["_id"] = identifier
        session[SESSION_KEY] = selector


def test_no_token_is_401_in_vietnamese(client, commune):
    response = client.get("/api/v1/occurrences")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="tracker"'
    assert error_body(response) == {
        "errors": {"_general": ["Hãy gửi mã truy cập API: Authorization: Bearer TOKEN."]}, "code": "unauthorized"}


def test_no_token_in_english(client, commune):
    response = client.get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert error_body(response) == {
        "errors": {"_general": ["Send an API token: Authorization: Bearer TOKEN."]}, "code": "unauthorized"}


@pytest.mark.parametrize("header", ["Bearer trk_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "trk_abc"])
def test_invalid_tokens_are_401(client, commune, header):
    response = client.get("/api/v1/me", headers={"Authorization": header, "Accept-Language": "en"})
    assert response.status_code == 401
    assert error_body(response) == {
        "errors": {"_general": ["The API token is invalid, has expired or has been revoked."]}, "code": "unauthorized"}


def test_revoked_token_and_disabled_person_are_401(client, commune, token_for):
    token = token_for(commune.officer)
    api = ApiClient(client, token)
    assert api.get("/api/v1/me").status_code == 200
    db.session.scalar(sa.select(ApiToken)).revoked_at = utcnow()
    db.session.commit()
    assert api.get("/api/v1/me").status_code == 401
    fresh = ApiClient(client, token_for(commune.officer))
    commune.officer.is_active = False
    db.session.commit()
    assert fresh.get("/api/v1/me").status_code == 401


def test_an_expired_token_is_401_and_the_profile_says_so(client, commune):
    from datetime import timedelta

    import time_machine

    from tracker.operations.people import create_api_token

    token, clear = create_api_token(None, commune.officer, "Excel", lifetime=timedelta(days=30))
    db.session.commit()
    api = ApiClient(client, clear, "en")
    assert api.get("/api/v1/me").status_code == 200
    with time_machine.travel(token.expires_at + timedelta(minutes=1), tick=False):
        response = api.get("/api/v1/me")
        assert response.status_code == 401
        assert error_body(response)["errors"] == {
            "_general": ["The API token is invalid, has expired or has been revoked."]}
        _sign_in(client, commune.officer)
        page = client.get("/profile").get_data(as_text=True)
        assert 'data-testid="token-expired"' in page and "Excel" in page


def test_token_use_is_recorded(client, commune, token_for):
    ApiClient(client, token_for(commune.officer)).get("/api/v1/me")
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None


def test_a_session_may_read_but_never_change(client, commune, active_plan):
    _sign_in(client, commune.officer)
    assert client.get("/api/v1/me").get_json()["username"] == "yte"
    response = client.post(f"/api/v1/occurrences/{active_plan.occurrence.id}/comments", json={"body": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert error_body(response)["errors"] == {
        "_general": ["Changes through the API need a token: send Authorization: Bearer TOKEN."]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_bearer_token_wins_over_a_session_and_needs_no_csrf(client, commune, active_plan, token_for):
    _sign_in(client, commune.focal)
    api = ApiClient(client, token_for(commune.officer))
    assert api.get("/api/v1/me").get_json()["username"] == "yte"
    response = api.post(f"/api/v1/occurrences/{active_plan.occurrence.id}/comments", json={"body": "qua API"})
    assert response.status_code == 201
    assert response.get_json()["author_id"] == commune.officer.id


def test_malformed_json(api_as, commune, active_plan):
    api = api_as(commune.officer)
    response = api.post(f"/api/v1/occurrences/{active_plan.occurrence.id}/comments", data='{"body": "x",',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_body(response) == {"errors": {"_general": ["Nội dung yêu cầu không phải JSON hợp lệ."]},
                                    "code": "malformed_json"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_body_that_is_not_an_object(api_as, commune, active_plan):
    response = api_as(commune.officer, "en").post(f"/api/v1/occurrences/{active_plan.occurrence.id}/comments",
                                                  json=["x"])
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"_general": ["Invalid input type."]}, "code": "invalid"}


def test_unknown_fields_are_refused_and_nothing_changes(api_as, commune):
    response = api_as(commune.focal).post("/api/v1/plans", json={
        "title": "Kế hoạch", "issuing_unit_id": commune.xa.id, "status": "active", "owner": "me"})
    assert response.status_code == 422
    assert error_body(response) == {
        "errors": {"status": ["Trường không hợp lệ."], "owner": ["Trường không hợp lệ."]}, "code": "invalid"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_wrong_types_in_english(api_as, commune):
    response = api_as(commune.focal, "en").post("/api/v1/plans", json={
        "title": 12, "issuing_unit_id": "abc", "year": True, "number": None})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {
        "title": ["Not a valid text."], "issuing_unit_id": ["Not a valid integer."],
        "year": ["Not a valid integer."]}


def test_unknown_route_and_wrong_method(api_as, commune):
    api = api_as(commune.officer, "en")
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_body(response)["code"] == "not_found"
    response = api.put("/api/v1/me", json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert error_body(response)["code"] == "method_not_allowed"


def test_vietnamese_is_the_default_and_english_is_available(api_as, commune, active_plan):
    path = f"/api/v1/occurrences/{active_plan.occurrence.id}/extension-requests"
    vi = api_as(commune.officer).post(path, json={"requested_due_on": "2024-09-01", "reason": "x"})
    en = api_as(commune.officer, "en").post(path, json={"requested_due_on": "2024-09-01", "reason": "x"})
    assert error_body(vi) == {"errors": {"requested_due_on": ["Thời hạn mới phải sau thời hạn hiện tại (25/09/2024)."]},
                              "code": "invalid"}
    assert error_body(en) == {"errors": {"requested_due_on": ["The new deadline must be after the current one "
                                                              "(25/09/2024)."]}, "code": "invalid"}
