"""Every error is an RFC 7807 problem, and bad input is a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from helpdesk.api import exception_handlers
from tests.integration.api.conftest import Api

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """``response`` is a problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://helpdesk.invalid/problems/{code}"
    assert body["title"]
    assert isinstance(body["detail"], str)
    return body


def test_malformed_json_is_400(api: Api) -> None:
    for raw in [b"{bad", b"", b"[1,", b'{"subject": "x",}', b'"\\ud800"']:
        response = api.post(
            "/api/v1/cases", content=raw, headers={"content-type": "application/json"}
        )
        body = assert_problem(response, 400, "invalid_request")
        assert body["errors"]


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"subject": 5, "body": "x", "customer_email": "a@b.vn"}, "subject"),
        ({"subject": "x", "body": "x", "customer_email": "a@b.vn", "bogus": 1}, "data"),
        ({"subject": "x", "body": "x", "customer_email": "a@b.vn", "priority": "asap"}, "priority"),
        ({"subject": "", "body": "x", "customer_email": "a@b.vn"}, "subject"),
        ({"subject": "x", "body": "x", "customer_email": "not-an-address"}, "customer_email"),
        ({"subject": "x", "body": "x", "customer_id": 2**70}, "customer_id"),
        ({"subject": "x", "body": "x", "customer_id": -1}, "customer_id"),
        ({"subject": "x", "body": "x", "customer_id": "one"}, "customer_id"),
        ({"subject": "x" * 501, "body": "x", "customer_email": "a@b.vn"}, "subject"),
        ({"subject": "x", "body": "x", "tags": ["has space"]}, "tags[0]"),
        ([1, 2, 3], "data"),
        (None, "data"),
    ],
)
def test_body_that_does_not_match_the_schema_is_400_with_the_field(
    api: Api, payload: Any, key: str
) -> None:
    response = api.post("/api/v1/cases", json=payload)
    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"][0]["source"] == "body"
    assert body["errors"][0]["key"] == key


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases?limit=0",
        "/api/v1/cases?limit=201",
        "/api/v1/cases?limit=ten",
        "/api/v1/cases?status=lost",
        "/api/v1/cases?assignee_id=99999999999999999999999",
        "/api/v1/cases?team_id=-5",
        "/api/v1/customers?after_id=9223372036854775808",
        "/api/v1/agents?active_only=maybe",
        "/api/v1/cases/99999999999999999999999",
        "/api/v1/cases/0",
        "/api/v1/cases/-1/messages",
        "/api/v1/attachments/9223372036854775808",
        "/api/v1/customers/2147483648",
    ],
)
def test_query_and_path_out_of_range_or_wrong_type_are_400(api: Api, url: str) -> None:
    body = assert_problem(api.get(url), 400, "invalid_request")
    assert body["errors"][0]["source"] in ("query", "path")


def test_nul_characters_are_refused_on_both_engines(api: Api) -> None:
    assert_problem(api.get("/api/v1/cases", params={"text": "a\x00b"}), 400, "invalid_request")
    assert_problem(api.get("/api/v1/customers?text=%00"), 400, "invalid_request")
    body = {"subject": "a\u0000b", "body": "x", "customer_email": "a@b.vn"}
    assert_problem(api.post("/api/v1/cases", json=body), 400, "invalid_request")
    # An escaped backslash followed by "u0000" is not a NUL: accepted.
    fine = {"subject": "path C:\\u0000", "body": "x", "customer_email": "a@b.vn"}
    assert api.post("/api/v1/cases", json=fine).status_code == 201


def test_domain_refusal_is_422(api: Api) -> None:
    response = api.post("/api/v1/cases", json={"subject": "x", "body": "y"})
    assert_problem(response, 422, "validation_error")
    team = api.post(
        "/api/v1/cases",
        json={"subject": "x", "body": "y", "customer_email": "a@b.vn", "team_id": 4242},
    )
    assert_problem(team, 422, "validation_error")


def test_unknown_route_and_non_integer_id_are_404(api: Api) -> None:
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(api.get("/api/v1/cases/abc"), 404, "not_found")


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    response = api.request("admin", "DELETE", "/api/v1/cases/1")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


def test_huge_body_is_413(api: Api) -> None:
    response = api.post(
        "/api/v1/cases",
        content=b'{"subject": "' + b"x" * (11 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload_too_large")


def test_problem_carries_the_instance_path(api: Api) -> None:
    body = assert_problem(api.get("/api/v1/cases/777"), 404, "not_found")
    assert body["instance"] == "/api/v1/cases/777"


def test_unexpected_exception_is_a_logged_500_problem(
    server_errors: list[Any],
) -> None:
    # A bare app with the same mapping and a handler with a bug.
    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = Litestar([boom], exception_handlers=exception_handlers())
    with TestClient(app) as client:
        response = client.get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert body["instance"] == "/boom"
    assert [r.getMessage() for r in server_errors] == ["unhandled error on GET /boom"]
    server_errors.clear()


def test_openapi_schema_declares_bearer_auth_and_problems(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    operations = [
        op
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/public/")
        for method, op in item.items()
        if method in ("get", "post", "patch", "put")
    ]
    # 64 + reports/satisfaction (portal) + reports/deflection (kb) + cases/{id}/mails
    # + agents/{id}/tokens (list) + agents/{id}/password (DELETE is not counted here)
    # + cases/bulk + views (list, create, read, change, its cases)
    assert len(operations) == 75
    for op in operations:
        assert op["security"] == [{"bearerToken": []}], op["operationId"]
        assert "401" in op["responses"]
        assert PROBLEM in op["responses"]["400"]["content"], op["operationId"]
        assert op.get("description"), op["operationId"]
    assert api.client.get("/schema").status_code == 200
