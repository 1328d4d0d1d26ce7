"""The JSON REST API (/api/v1), documented at /api/openapi.json and browsable at /api/docs.

One flask-smorest blueprint per resource. Authentication is `Authorization: Bearer TOKEN` (see common.py:
reads also accept a signed-in session, changes never do, so the API is exempt from CSRF). Errors have one
shape, `{"errors": {"field": ["message"]}, "code": "..."}`, in the language of Accept-Language (Vietnamese
by default). Lists take `page` and `page_size` and answer the totals in the X-Pagination header.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request

API_PREFIX = "/api/"
# What /api/docs says first, Vietnamese then English (the spec is built once, not per reader).
API_DESCRIPTION = """\
API JSON của hệ thống theo dõi nhiệm vụ (/api/v1). Xác thực bằng `Authorization: Bearer MÃ` (tạo mã ở trang
cá nhân). Lỗi có một dạng duy nhất `{"errors": {"trường": ["thông báo"]}, "code": "..."}`, bằng ngôn ngữ của
Accept-Language (mặc định tiếng Việt). Danh sách nhận `page`, `page_size` và trả tổng số trong tiêu đề
X-Pagination.

The tracker's JSON API (/api/v1). Authenticate with `Authorization: Bearer TOKEN` (make one on your profile
page). Errors have one shape, `{"errors": {"field": ["message"]}, "code": "..."}`, in the language of
Accept-Language (Vietnamese by default). Lists take `page` and `page_size` and answer the totals in the
X-Pagination header.
"""
SWAGGER_UI_STATIC = "vendor/swagger-ui/"


def init_api(app: Flask) -> None:
    """Initialise flask-smorest on `app` and register every API blueprint."""
    from tracker.blueprints.api import (
        extension_requests,
        indicators,
        me,
        occurrences,
        periodic_reports,
        plans,
        reports,
        units,
    )
    from tracker.extensions import api, csrf
    from tracker.schemas.base import ErrorSchema

    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", f"{app.static_url_path}/{SWAGGER_UI_STATIC}")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": API_DESCRIPTION},
        "security": [{"bearerAuth": []}],
    })
    api.ERROR_SCHEMA = ErrorSchema  # document the error shape we answer, not flask-smorest's
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "A token from your profile page or `tracker token create USERNAME`.",
    })
    modules = (me, units, plans, occurrences, reports, extension_requests, indicators, periodic_reports)
    for module in modules:
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    # flask-smorest lists each resource under its blueprint's name; name the groups as their operations are
    # tagged (ApiBlueprint.section). apispec offers no public way to rename a declared tag.
    sections = {module.blp.name: module.blp.section for module in modules}
    for tag in api.spec._tags:
        tag["name"] = sections.get(tag["name"], tag["name"])
    _answer_in_accept_language(app)


def _answer_in_accept_language(app: Flask) -> None:
    """API requests get the language of Accept-Language (Vietnamese when absent); pages keep theirs."""
    babel_state = app.extensions["babel"]
    page_selector = babel_state.locale_selector

    def select() -> str | None:
        if has_request_context() and request.path.startswith(API_PREFIX):
            return request.accept_languages.best_match(app.config["LANGUAGES"]) or app.config["BABEL_DEFAULT_LOCALE"]
        return page_selector() if page_selector else None

    babel_state.locale_selector = select
