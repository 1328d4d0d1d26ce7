"""The OpenAPI document: it validates, every endpoint in it has a test, and its browser UI is served locally."""

from __future__ import annotations

import re

try:  # the `test` extra installs it; without it the structural checks below still run
    from openapi_spec_validator import validate
except ImportError:  # pragma: no cover
    validate = None

#: Every (method, path) of the document, with the tests that exercise it. A new endpoint fails
#: `test_every_documented_endpoint_is_tested` until it has a test and a line here.
TESTED_ENDPOINTS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/me"): "test_units_indicators_me::test_me",
    ("GET", "/api/v1/units"): "test_units_indicators_me::test_units_in_scope",
    ("POST", "/api/v1/units"): "test_units_indicators_me::test_admin_creates_a_unit",
    ("GET", "/api/v1/units/{unit_id}"): "test_units_indicators_me::test_get_unit",
    ("GET", "/api/v1/plans"): "test_plans::test_list_and_get_plans",
    ("POST", "/api/v1/plans"): "test_plans::test_create_plan_add_task_and_activate",
    ("GET", "/api/v1/plans/{plan_id}"): "test_plans::test_list_and_get_plans",
    ("GET", "/api/v1/plans/{plan_id}/tasks"): "test_plans::test_list_tasks",
    ("POST", "/api/v1/plans/{plan_id}/tasks"): "test_plans::test_create_plan_add_task_and_activate",
    ("POST", "/api/v1/plans/{plan_id}/activate"): "test_plans::test_create_plan_add_task_and_activate",
    ("GET", "/api/v1/occurrences"): "test_occurrences::test_filters_combine",
    ("GET", "/api/v1/occurrences/{occurrence_id}"): "test_occurrences::test_get_one",
    ("POST", "/api/v1/occurrences/{occurrence_id}/done"): "test_occurrences::test_mark_done",
    ("POST", "/api/v1/occurrences/{occurrence_id}/reports"):
        "test_occurrences::test_submit_report_multipart_with_files",
    ("GET", "/api/v1/occurrences/{occurrence_id}/comments"): "test_occurrences::test_comments",
    ("POST", "/api/v1/occurrences/{occurrence_id}/comments"): "test_occurrences::test_comments",
    ("POST", "/api/v1/occurrences/{occurrence_id}/extension-requests"): "test_occurrences::test_request_extension",
    ("GET", "/api/v1/reports"): "test_reports::test_list_and_get_reports",
    ("GET", "/api/v1/reports/{report_id}"): "test_reports::test_list_and_get_reports",
    ("POST", "/api/v1/reports/{report_id}/accept"): "test_reports::test_accept_report",
    ("POST", "/api/v1/reports/{report_id}/return"): "test_reports::test_return_report_reopens_the_occurrence",
    ("GET", "/api/v1/reports/{report_id}/attachments/{attachment_id}"):
        "test_occurrences::test_submit_report_multipart_with_files",
    ("GET", "/api/v1/extension-requests"): "test_reports::test_list_extension_requests",
    ("POST", "/api/v1/extension-requests/{request_id}/decision"): "test_reports::test_chair_approves_more_time",
    ("GET", "/api/v1/indicators"): "test_units_indicators_me::test_indicators",
    ("POST", "/api/v1/indicators"): "test_units_indicators_me::test_indicators",
    ("GET", "/api/v1/indicators/{indicator_id}"): "test_units_indicators_me::test_indicators",
    ("PUT", "/api/v1/indicators/{indicator_id}/targets/{unit_id}/{year}"): "test_units_indicators_me::test_indicators",
    ("GET", "/api/v1/plans/{plan_id}/report"): "test_periodic_reports::test_plan_report",
    ("GET", "/api/v1/units/{unit_id}/report"): "test_periodic_reports::test_unit_report",
}

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_validates(client):
    document = _document(client)
    if validate is not None:
        validate(document)  # raises on any violation of the OpenAPI 3.0 schema
    _check_structure(document)
    assert document["openapi"] == "3.0.3"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A token from your profile page or `tracker token create USERNAME`."}
    assert document["security"] == [{"bearerAuth": []}]


def _check_structure(document: dict) -> None:
    """What we rely on even without the validator: refs resolve, operations answer, path parameters exist."""

    def refs(node: object):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        target: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"unresolved {ref}"
            target = target[part]
    for path, item in document["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"{(\w+)}", path)) == declared, path
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert operation["responses"], (method, path)
                assert operation.get("summary"), (method, path)


def test_every_documented_endpoint_is_tested(client):
    documented = {
        (method.upper(), path)
        for path, item in _document(client)["paths"].items()
        for method in item if method in HTTP_METHODS
    }
    assert documented - set(TESTED_ENDPOINTS) == set(), "endpoints without a test: add tests and list them"
    assert set(TESTED_ENDPOINTS) - documented == set(), "listed endpoints the document no longer has"


def test_listed_tests_exist():
    from pathlib import Path

    here = Path(__file__).parent
    for endpoint, ref in TESTED_ENDPOINTS.items():
        module, test = ref.split("::")
        assert f"def {test}(" in (here / f"{module}.py").read_text(encoding="utf-8"), (endpoint, ref)


def test_error_shape_is_documented(client):
    error = _document(client)["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"errors", "code"}


def test_swagger_ui_is_served_from_our_static_files(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(assets) == ["/static/css/api-docs.css",  # our rules for a phone's width
                              "/static/vendor/swagger-ui/swagger-ui-bundle.js",
                              "/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                              "/static/vendor/swagger-ui/swagger-ui.css"]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > (100 if "/css/" in asset else 100_000)
        response.close()
    assert 'name="viewport"' in html


def test_sections_are_named_in_vietnamese_first(client):
    """The groups of /api/docs read Vietnamese first, English after; every operation sits in a declared group."""
    document = _document(client)
    tags = document["tags"]
    names = [tag["name"] for tag in tags]
    assert "Kế hoạch (Plans)" in names and "Báo cáo (Reports)" in names
    assert not any(name.startswith("api_") for name in names)
    vietnamese = re.compile(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", re.IGNORECASE)
    for tag in tags:
        head = tag["name"].split(" (")[0]
        assert vietnamese.search(head), tag
        assert vietnamese.search(tag["description"].split(" — ")[0]), tag
    used = {t for item in document["paths"].values() for op in item.values() if isinstance(op, dict)
            for t in op.get("tags", [])}
    assert used == set(names)
    assert document["info"]["title"].startswith("API Theo dõi nhiệm vụ")
