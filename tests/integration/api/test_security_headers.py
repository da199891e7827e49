"""Security headers on every response: pages, errors, redirects, the API, downloads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

PAGES_AND_ERRORS = [
    "/console/login",  # a page
    "/console/",  # a redirect to sign in
    "/console/no-such-page",  # a face's 404 page
    "/support/",
    "/support/requests",  # a redirect to sign in
    "/support/requests/999999",
    "/support/kb",
    "/support/kb/articles/999999",  # a 404 of the public knowledge base
    "/support/request",  # the public web form
]


def assert_common(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", PAGES_AND_ERRORS)
def test_every_page_error_and_redirect_carries_the_headers(api: Api, path: str) -> None:
    api.client.cookies.clear()
    response = api.client.get(path, follow_redirects=False)
    assert_common(response)
    if response.headers.get("content-type", "").startswith("text/html"):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
    if path.startswith("/support"):
        assert response.headers["referrer-policy"] == "no-referrer"  # sign-in links carry tokens


def test_api_answers_and_their_errors_are_not_cached(api: Api) -> None:
    for response in (
        api.get("/api/v1/cases", "agent_a"),
        api.get("/api/v1/cases/999999", "agent_a"),  # 404
        api.get("/api/v1/cases", "anonymous"),  # 401
        api.get("/no/such/route"),  # the app's own 404, which no middleware sees
    ):
        assert_common(response)


def test_a_console_post_refused_for_csrf_carries_the_headers(api: Api) -> None:
    console_sign_in(api, "agent_a")
    response = api.client.post("/console/availability", data={"availability": "away"})
    assert response.status_code == 403
    assert_common(response)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_static_files_stay_cacheable(api: Api) -> None:
    response = api.client.get("/static/portal/portal.css")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("cache-control") != "no-store"
