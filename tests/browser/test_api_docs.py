"""The browsable API documentation renders in a real browser under the strict Content-Security-Policy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_runs_under_the_content_security_policy(page_factory, shot):
    page = page_factory()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto("/api/docs")
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert page.locator(".opblock").count() > 10  # the operations of /api/openapi.json are listed
    assert refused == []
    shot(page, "api-docs")
