"""Bearer authentication: 401s, and what the principal cache does and does not promise."""

from __future__ import annotations

import pytest

from helpdesk.api.auth import PrincipalCache, principal_cache
from helpdesk.policy import Principal
from helpdesk.tables import ApiToken
from tests.integration.api.conftest import Api


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer hd_not-a-real-token",
        "Bearer not-even-prefixed",
        "Bearer hd_" + "x" * 5000,
    ],
)
def test_missing_or_invalid_token_is_401_with_www_authenticate(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"


def test_authentication_comes_before_input_validation(api: Api) -> None:
    response = api.client.post("/api/v1/cases", content=b"{not json")
    assert response.status_code == 401


def test_public_endpoints_need_no_token(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    assert api.client.get("/schema/openapi.json").status_code == 200


def test_a_warm_cache_costs_no_authentication_query(api: Api) -> None:
    principal_cache(api.app).clear()
    with api.count_queries() as cold:
        assert api.get("/api/v1/agents/me", role="agent_a").status_code == 200
    with api.count_queries() as warm:
        assert api.get("/api/v1/agents/me", role="agent_a").status_code == 200
    assert len(cold) - len(warm) >= 2  # the token, then the agent and their teams
    assert not any("api_tokens" in q for q in warm)


def test_a_revoked_token_works_until_the_cache_entry_expires(api: Api) -> None:
    # Given a cache with a clock we control, and agent A's token in it
    now = [1000.0]
    api.app.state["api_principal_cache"] = PrincipalCache(ttl=10, clock=lambda: now[0])
    assert api.get("/api/v1/agents/me", role="agent_a").status_code == 200

    # When the token is revoked directly in the database (e.g. by another process)
    async def revoke() -> None:
        await ApiToken.update({ApiToken.revoked: True}).where(
            ApiToken.agent == api.agent_ids["agent_a"]
        )

    api.run(revoke)

    # Then it keeps working for up to the TTL (the documented trade-off)...
    now[0] += 9.9
    assert api.get("/api/v1/agents/me", role="agent_a").status_code == 200
    # ...and not a moment longer.
    now[0] += 0.2
    assert api.get("/api/v1/agents/me", role="agent_a").status_code == 401


def test_principal_cache_is_bounded_and_expires() -> None:
    now = [0.0]
    cache = PrincipalCache(ttl=5, max_entries=3, clock=lambda: now[0])
    for n in range(5):
        cache.put(f"d{n}", Principal(kind="agent", id=n))
    assert len(cache) == 3
    assert cache.get("d0") is None  # the oldest were dropped
    assert cache.get("d4") == Principal(kind="agent", id=4)
    now[0] = 5.0
    assert cache.get("d4") is None
    assert len(cache) == 2
