"""``Idempotency-Key`` on the API's writes (SQLite and PostgreSQL): a repeat gets
the first answer and changes nothing; the same key with another body is a 422;
racing twins make one change; the header is in the OpenAPI schema."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from helpdesk.idempotency import IdempotencyKey
from helpdesk.tables import Case, Message
from tests.integration.api.conftest import Api

NEW_CASE = {
    "subject": "Không đăng nhập được",
    "body": "Tôi không đăng nhập được vào tài khoản.",
    "customer_email": "lan@example.vn",
}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def count(api: Api, table: Any) -> int:
    result: int = api.run(table.count().run)
    return result


def test_a_repeated_create_makes_one_case_and_replays_the_first_answer(api: Api) -> None:
    # Given a case created with a key
    first = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("create-1"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # When the same request comes again (a retry after a lost answer)
    again = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("create-1"))
    # Then it gets the same answer, marked as replayed, and no second case exists
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert count(api, Case) == 1
    # And a new key is a new case
    other = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("create-2"))
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert count(api, Case) == 2


def test_the_same_key_with_another_body_is_a_422(api: Api) -> None:
    api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("k-1"))
    changed = {**NEW_CASE, "subject": "Một yêu cầu khác"}
    reused = api.post("/api/v1/cases", role="agent_a", json=changed, headers=keyed("k-1"))
    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["code"] == "idempotency_key_reused"
    assert count(api, Case) == 1


def test_keys_belong_to_their_caller(api: Api) -> None:
    mine = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("shared"))
    theirs = api.post("/api/v1/cases", role="manager", json=NEW_CASE, headers=keyed("shared"))
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]


def test_a_replay_is_given_only_to_an_authenticated_caller(api: Api) -> None:
    api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("secret-ish"))
    anonymous = api.post("/api/v1/cases", role="anonymous", json=NEW_CASE,
                         headers=keyed("secret-ish"))  # fmt: skip
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"


def test_invalid_keys_are_refused_before_anything_is_done(api: Api) -> None:
    for key in ("", " leading-space", "x" * 256, "tab\there"):
        response = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed(key))
        assert response.status_code == 400, key
        assert response.json()["code"] == "idempotency_key_invalid"
    assert count(api, Case) == 0
    longest = api.post("/api/v1/cases", role="agent_a", json=NEW_CASE, headers=keyed("x" * 255))
    assert longest.status_code == 201


def test_a_refusal_that_changed_nothing_is_not_kept(api: Api) -> None:
    # Given a request refused by the domain (no such team): nothing was changed
    bad = {**NEW_CASE, "team_id": 999}
    refused = api.post("/api/v1/cases", role="admin", json=bad, headers=keyed("try-1"))
    assert refused.status_code == 422
    # Then its key is not kept: the repeat is decided again, not replayed
    again = api.post("/api/v1/cases", role="admin", json=bad, headers=keyed("try-1"))
    assert again.status_code == 422
    assert "idempotent-replayed" not in again.headers
    assert count(api, IdempotencyKey) == 0
    assert count(api, Case) == 0


def test_a_repeated_reply_adds_one_message(api: Api) -> None:
    case = api.make_case(api.team_a)
    url = f"/api/v1/cases/{case.id}/messages"
    reply = {"body": "Chúng tôi đã đặt lại mật khẩu cho Quý khách."}
    first = api.post(url, role="agent_a", json=reply, headers=keyed("reply-1"))
    again = api.post(url, role="agent_a", json=reply, headers=keyed("reply-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    replies = api.run(
        Message.count().where((Message.case == case.id) & (Message.kind == "reply")).run
    )
    assert replies == 1


def test_a_repeated_delete_replays_its_204(api: Api) -> None:
    rule = api.post(
        "/api/v1/routing/rules",
        json={"name": "VIP", "conditions": {}, "actions": {"team_id": api.team_a}},
    )
    assert rule.status_code == 201, rule.text
    url = f"/api/v1/routing/rules/{rule.json()['id']}"
    first = api.request("admin", "DELETE", url, headers=keyed("del-1"))
    again = api.request("admin", "DELETE", url, headers=keyed("del-1"))
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    unkeyed = api.request("admin", "DELETE", url)
    assert unkeyed.status_code == 404


def test_racing_twins_make_one_case(api: Api) -> None:
    # Given two identical requests with one key, sent at the same time
    async def twins() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        headers = {**api.headers("agent_a"), **keyed("race-1")}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return list(
                await asyncio.gather(
                    *(client.post("/api/v1/cases", json=NEW_CASE, headers=headers) for _ in "ab")
                )
            )

    responses = api.run(twins)
    # Then exactly one case exists; the other answer is a replay or "in use"
    assert count(api, Case) == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), [r.text for r in responses]
    loser = [r for r in responses if r.status_code == 409 or "idempotent-replayed" in r.headers]
    assert len(loser) == 1
    if loser[0].status_code == 409:
        assert loser[0].json()["code"] == "idempotency_key_in_use"
    else:
        winner = next(r for r in responses if r is not loser[0])
        assert loser[0].content == winner.content


def test_the_public_web_form_endpoint_takes_a_key(api: Api) -> None:
    form = {"name": "Lan", "email": "lan@example.vn", "subject": "Hỏi", "message": "Xin chào"}
    first = api.client.post("/api/v1/public/webform", json=form, headers=keyed("form-1"))
    again = api.client.post("/api/v1/public/webform", json=form, headers=keyed("form-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert count(api, Case) == 1


def test_the_schema_documents_the_header_on_every_write(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    writes, reads = 0, 0
    exempt = {("post", "/api/v1/agents/{agent_id}/tokens")}  # a token is never stored
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            if (method, path) in exempt:
                assert "Idempotency-Key" not in names, f"{method} {path}"
            elif method in ("post", "put", "patch", "delete"):
                writes += 1
                assert "Idempotency-Key" in names, f"{method} {path}"
            else:
                reads += 1
                assert "Idempotency-Key" not in names, f"{method} {path}"
    assert writes > 20
    assert reads > 20
    create = schema["paths"]["/api/v1/cases"]["post"]["parameters"]
    header = next(p for p in create if p["name"] == "Idempotency-Key")
    assert header["required"] is False
    assert header["schema"]["maxLength"] == 255
