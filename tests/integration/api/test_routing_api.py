"""The routing endpoints: rules CRUD and team strategy, as an admin would use them."""

from __future__ import annotations

from tests.integration.api.conftest import Api


def test_an_admin_manages_rules_through_the_api(api: Api) -> None:
    body = {
        "name": "Hóa đơn",
        "conditions": {"keywords": ["hóa đơn"], "channels": ["email"]},
        "actions": {"team_id": api.team_a, "add_tags": ["billing"]},
    }
    made = api.post("/api/v1/routing/rules", json=body)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule["position"] == 1
    assert rule["conditions"]["keywords"] == ["hóa đơn"]
    assert rule["actions"]["team_id"] == api.team_a

    changed = api.patch(f"/api/v1/routing/rules/{rule['id']}", json={"position": 5})
    assert changed.json()["position"] == 5
    assert [r["id"] for r in api.get("/api/v1/routing/rules").json()] == [rule["id"]]

    assert api.request("admin", "DELETE", f"/api/v1/routing/rules/{rule['id']}").status_code == 204
    missing = api.get(f"/api/v1/routing/rules/{rule['id']}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_unknown_keys_and_bad_references_are_refused(api: Api) -> None:
    typo = {"name": "x", "conditions": {"channel": ["email"]}, "actions": {}}
    assert api.post("/api/v1/routing/rules", json=typo).status_code == 400
    unknown_action = {"name": "x", "actions": {"set_team": 1}}
    assert api.post("/api/v1/routing/rules", json=unknown_action).status_code == 400
    no_team = {"name": "x", "actions": {"team_id": 9999}}
    response = api.post("/api/v1/routing/rules", json=no_team)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert api.get("/api/v1/routing/rules").json() == []


def test_an_admin_sets_a_team_strategy(api: Api) -> None:
    url = f"/api/v1/teams/{api.team_a}/routing"
    assert api.get(url).json()["strategy"] == "manual"
    settings = {"strategy": "least_loaded", "required_skill": "vat", "prefer_case_language": False}
    out = api.put(url, json=settings).json()
    assert (out["strategy"], out["required_skill"], out["prefer_case_language"]) == (
        "least_loaded",
        "vat",
        False,
    )
    assert api.put(url, json={"strategy": "fastest"}).status_code == 400
    assert api.get("/api/v1/teams/9999/routing").status_code == 404
