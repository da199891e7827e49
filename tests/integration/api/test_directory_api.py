"""Customers, organizations, agents and teams over HTTP."""

from __future__ import annotations

from tests.integration.api.conftest import Api


def test_organization_crud_and_list(api: Api) -> None:
    body = {"name": "Công ty ABC", "domains": ["ABC.vn", "abc.com.vn"], "shared_visibility": True}
    # Sharing visibility is for admins (helpdesk.policy.Action.SHARE_ORGANIZATION)
    refused = api.post("/api/v1/organizations", role="agent_a", json=body)
    assert refused.status_code == 403
    created = api.post("/api/v1/organizations", role="admin", json=body)
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["domains"] == ["abc.com.vn", "abc.vn"]
    assert api.get(f"/api/v1/organizations/{org['id']}", role="agent_b").json() == org

    changed = api.patch(
        f"/api/v1/organizations/{org['id']}", json={"notes": "Khách lớn", "domains": ["abc.vn"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["notes"] == "Khách lớn"
    assert changed.json()["domains"] == ["abc.vn"]

    other = api.post("/api/v1/organizations", json={"name": "XYZ", "domains": ["abc.vn"]})
    assert other.status_code == 409
    assert other.json()["code"] == "conflict"

    for n in range(3):
        api.post("/api/v1/organizations", json={"name": f"Org {n}"})
    first = api.get("/api/v1/organizations", params={"limit": 2}).json()
    assert len(first) == 2
    rest = api.get("/api/v1/organizations", params={"after_id": first[-1]["id"]}).json()
    assert [o["id"] for o in first + rest] == sorted(o["id"] for o in first + rest)
    assert len(first + rest) == 4
    assert api.get("/api/v1/organizations/424242").status_code == 404


def test_customer_crud_search_360_and_merge(api: Api) -> None:
    org = api.post("/api/v1/organizations", json={"name": "Minh Phát", "domains": ["minhphat.vn"]})
    created = api.post(
        "/api/v1/customers",
        role="agent_a",
        json={"name": "Trần Văn Bình", "emails": ["Binh@MinhPhat.vn"], "phone": "0901 234 567"},
    )
    assert created.status_code == 201, created.text
    binh = created.json()
    assert binh["emails"] == ["binh@minhphat.vn"]
    assert binh["organization_id"] == org.json()["id"]  # from the address's domain

    duplicate = api.post("/api/v1/customers", json={"name": "B", "emails": ["binh@minhphat.vn"]})
    assert duplicate.status_code == 409

    changed = api.patch(
        f"/api/v1/customers/{binh['id']}",
        role="agent_b",
        json={"phone": "0988 000 111", "emails": ["binh@minhphat.vn", "binh.tran@gmail.com"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["emails"] == ["binh@minhphat.vn", "binh.tran@gmail.com"]

    found = api.get("/api/v1/customers", params={"text": "tran van binh"}).json()
    assert [c["id"] for c in found] == [binh["id"]]
    assert api.get("/api/v1/customers", params={"text": "0988"}).json()[0]["id"] == binh["id"]

    case = api.make_case(api.team_a, customer_email="binh@minhphat.vn")
    view = api.get(f"/api/v1/customers/{binh['id']}/360", role="agent_a")
    assert view.status_code == 200, view.text
    assert view.json()["organization"]["name"] == "Minh Phát"
    assert [c["id"] for c in view.json()["cases"]] == [case.id]
    assert view.json()["open_count"] == 1
    # The 360 view holds only the cases the caller may see.
    assert api.get(f"/api/v1/customers/{binh['id']}/360", role="agent_b").json()["cases"] == []

    dup = api.post("/api/v1/customers", json={"name": "Bình", "emails": ["binh2@example.vn"]})
    unconfirmed = api.post(
        f"/api/v1/customers/{dup.json()['id']}/merge",
        role="manager",
        json={"target_id": binh["id"]},
    )
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["code"] == "confirmation_required"
    merged = api.post(
        f"/api/v1/customers/{dup.json()['id']}/merge",
        role="manager",
        json={"target_id": binh["id"], "confirm_customers": [dup.json()["id"], binh["id"]]},
    )
    assert merged.status_code == 200, merged.text
    assert "binh2@example.vn" in merged.json()["emails"]
    assert api.get(f"/api/v1/customers/{dup.json()['id']}").json()["merged_into_id"] == binh["id"]
    self_merge = api.post(f"/api/v1/customers/{binh['id']}/merge", json={"target_id": binh["id"]})
    assert self_merge.status_code == 422
    assert api.get("/api/v1/customers/424242").status_code == 404


def test_customer_list_pages_by_id(api: Api) -> None:
    ids = [
        api.post("/api/v1/customers", json={"name": f"K{n}", "emails": [f"k{n}@x.vn"]}).json()["id"]
        for n in range(5)
    ]
    first = api.get("/api/v1/customers", params={"limit": 3}).json()
    second = api.get("/api/v1/customers", params={"limit": 3, "after_id": first[-1]["id"]}).json()
    assert [c["id"] for c in first + second] == ids


def test_agents_directory_profile_availability_and_tokens(api: Api) -> None:
    created = api.post(
        "/api/v1/agents",
        json={"name": "Phạm Hà", "email": "Ha@Support.test", "languages": ["vi", "en"]},
    )
    assert created.status_code == 201, created.text
    ha = created.json()
    assert ha["email"] == "ha@support.test"
    assert ha["role"] == "agent"
    assert (
        api.post("/api/v1/agents", json={"name": "X", "email": "ha@support.test"}).status_code
        == 409
    )

    listed = api.get("/api/v1/agents", role="agent_a").json()
    assert {a["email"] for a in listed} >= {"ha@support.test", "agent_a@support.test"}
    me = api.get("/api/v1/agents/me", role="agent_a").json()
    assert me["id"] == api.agent_ids["agent_a"]
    assert me["team_ids"] == [api.team_a]

    away = api.put(
        f"/api/v1/agents/{me['id']}/availability", role="agent_a", json={"availability": "away"}
    )
    assert away.status_code == 200, away.text
    assert away.json()["availability"] == "away"

    # A new token of the agent works at once.
    token = api.post(f"/api/v1/agents/{me['id']}/tokens", role="agent_a", json={"name": "CLI"})
    assert token.status_code == 201, token.text
    assert token.json()["token"].startswith("hd_")
    whoami = api.client.get(
        "/api/v1/agents/me", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    assert whoami.json()["id"] == me["id"]
    assert api.post(f"/api/v1/agents/{me['id']}/tokens", role="agent_a").status_code == 201

    promoted = api.patch(f"/api/v1/agents/{ha['id']}", json={"role": "manager", "capacity": 5})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "manager"
    assert api.get("/api/v1/agents/424242").status_code == 404


def test_deactivating_an_agent_locks_their_token_out_at_once_in_this_process(api: Api) -> None:
    assert api.get("/api/v1/agents/me", role="agent_b").status_code == 200  # now cached
    off = api.patch(f"/api/v1/agents/{api.agent_ids['agent_b']}", json={"active": False})
    assert off.status_code == 200
    locked = api.get("/api/v1/agents/me", role="agent_b")
    assert locked.status_code == 401
    assert locked.headers["www-authenticate"].startswith("Bearer")


def test_teams_crud_and_membership_takes_effect_at_once(api: Api) -> None:
    created = api.post(
        "/api/v1/teams",
        json={
            "name": "Billing",
            "description": "Hoá đơn",
            "member_ids": [api.agent_ids["agent_b"]],
        },
    )
    assert created.status_code == 201, created.text
    billing = created.json()
    assert billing["member_ids"] == [api.agent_ids["agent_b"]]
    assert api.post("/api/v1/teams", json={"name": "Billing"}).status_code == 409
    unknown = api.post("/api/v1/teams", json={"name": "Ghosts", "member_ids": [424242]})
    assert unknown.status_code == 422

    names = [t["name"] for t in api.get("/api/v1/teams", role="agent_a").json()]
    assert names == sorted(names)
    assert api.get(f"/api/v1/teams/{billing['id']}", role="agent_a").json() == billing

    # Agent B does not see a case of team A...
    case = api.make_case(api.team_a)
    assert api.get(f"/api/v1/cases/{case.id}", role="agent_b").status_code == 404
    # ...until an admin adds them to team A (the token cache is cleared).
    added = api.patch(
        f"/api/v1/teams/{api.team_a}",
        json={"member_ids": [api.agent_ids["agent_a"], api.agent_ids["agent_b"]]},
    )
    assert added.status_code == 200
    assert api.get(f"/api/v1/cases/{case.id}", role="agent_b").status_code == 200
    assert api.get("/api/v1/teams/424242").status_code == 404
