"""Bulk changes to many cases and saved views, through the REST API."""

from __future__ import annotations

from tests.integration.api.conftest import Api


def audit_actions(api: Api, case_id: int) -> list[str]:
    return [entry["action"] for entry in api.get(f"/api/v1/cases/{case_id}/audit").json()]


def test_a_bulk_change_applies_to_each_case_it_may_and_says_why_not_for_the_others(
    api: Api,
) -> None:
    mine = [api.make_case(api.team_a, subject=f"Đơn hàng {n}") for n in range(3)]
    hidden = api.make_case(api.team_b, subject="Của nhóm B")
    closed = api.make_case(api.team_a, subject="Đã đóng")
    api.patch(f"/api/v1/cases/{closed.id}", json={"version": closed.version, "status": "closed"})
    api.patch(f"/api/v1/cases/{mine[0].id}", json={"version": mine[0].version, "tags": ["cu"]})

    response = api.post(
        "/api/v1/cases/bulk",
        "agent_a",
        json={
            "case_ids": [c.id for c in mine] + [hidden.id, closed.id, mine[0].id],
            "assignee_id": api.agent_ids["agent_a"],
            "status": "pending",
            "priority": "high",
            "add_tags": ["hoa-don"],
            "remove_tags": ["cu"],
        },
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["changed"] == [c.id for c in mine]  # each once, in the order named
    failures = {f["case_id"]: f["code"] for f in result["failed"]}
    assert failures == {hidden.id: "not_found", closed.id: "invalid_transition"}
    for case in mine:
        now = api.get(f"/api/v1/cases/{case.id}").json()
        assert (now["status"], now["priority"], now["tags"]) == ("pending", "high", ["hoa-don"])
        assert now["assignee_id"] == api.agent_ids["agent_a"]
        assert {"case.updated", "case.assigned"} <= set(audit_actions(api, case.id))
    untouched = api.get(f"/api/v1/cases/{hidden.id}").json()
    assert (untouched["status"], untouched["priority"]) == ("new", "normal")


def test_a_bulk_merge_moves_every_case_into_the_target(api: Api) -> None:
    target, *sources = [api.make_case(api.team_a, subject=f"Trùng {n}") for n in range(3)]

    result = api.post(
        "/api/v1/cases/bulk",
        "agent_a",
        json={"case_ids": [s.id for s in sources] + [target.id], "merge_into": target.id},
    ).json()

    assert result == {"changed": [s.id for s in sources], "failed": []}
    for source in sources:
        assert api.get(f"/api/v1/cases/{source.id}").json()["status"] == "closed"
    messages = api.get(f"/api/v1/cases/{target.id}/messages").json()
    assert [m["case_id"] for m in messages if m["kind"] == "customer"] == [target.id] * 3


def test_bulk_input_that_makes_no_sense_is_a_4xx(api: Api) -> None:
    case = api.make_case(api.team_a)
    mixed = {"case_ids": [case.id], "merge_into": case.id, "status": "solved"}
    assert api.post("/api/v1/cases/bulk", json=mixed).status_code == 422
    assert api.post("/api/v1/cases/bulk", json={"case_ids": [case.id]}).status_code == 422
    too_many = {"case_ids": list(range(1, 202)), "status": "open"}
    assert api.post("/api/v1/cases/bulk", json=too_many).status_code == 400
    assert (
        api.post("/api/v1/cases/bulk", json={"case_ids": [], "status": "open"}).status_code == 400
    )


def test_saved_views_personal_and_shared(api: Api) -> None:
    in_a = api.make_case(api.team_a, subject="Hoá đơn tháng 11")
    in_b = api.make_case(api.team_b, subject="Hoá đơn nhóm B")
    for case in (in_a, in_b):
        api.patch(f"/api/v1/cases/{case.id}", json={"version": case.version, "tags": ["hoa-don"]})
    definition = {"queue": "all", "filters": {"tag": "hoa-don"}, "sort": "created"}

    personal = api.post(
        "/api/v1/views", "agent_a", json={"name": "Hoá đơn của tôi", "definition": definition}
    )
    assert personal.status_code == 201, personal.text
    view = personal.json()
    assert (view["shared"], view["editable"], view["definition"]["sort"]) == (
        False,
        True,
        "created",
    )
    assert api.get(f"/api/v1/views/{view['id']}", "agent_b").status_code == 404
    duplicate = {"name": "Hoá đơn của tôi", "definition": definition}
    assert api.post("/api/v1/views", "agent_a", json=duplicate).status_code == 409
    shared_by_agent = {"name": "Chung", "shared": True, "definition": definition}
    assert api.post("/api/v1/views", "agent_a", json=shared_by_agent).status_code == 403

    shared = api.post("/api/v1/views", "manager", json=shared_by_agent).json()
    names = [v["name"] for v in api.get("/api/v1/views", "agent_a").json()]
    assert names == ["Hoá đơn của tôi", "Chung"]  # own views first
    seen_by_agent = api.get(f"/api/v1/views/{shared['id']}", "agent_a").json()
    assert seen_by_agent["editable"] is False
    assert api.request("agent_a", "DELETE", f"/api/v1/views/{shared['id']}").status_code == 403

    # the manager's shared view lists, for agent A, only what agent A may see
    listed = api.get(f"/api/v1/views/{shared['id']}/cases", "agent_a").json()
    assert [c["id"] for c in listed["items"]] == [in_a.id]
    by_manager = api.get(f"/api/v1/views/{shared['id']}/cases", "manager").json()
    assert [c["id"] for c in by_manager["items"]] == [in_a.id, in_b.id]  # "created": oldest first

    renamed = api.patch(f"/api/v1/views/{view['id']}", "agent_a", json={"name": "Hoá đơn"})
    assert renamed.json()["name"] == "Hoá đơn"
    assert api.request("agent_a", "DELETE", f"/api/v1/views/{view['id']}").status_code == 204
    assert api.get(f"/api/v1/views/{view['id']}", "agent_a").status_code == 404
