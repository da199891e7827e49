"""The console's lists: the bulk bar changes the ticked cases; saved views keep a list."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in


def flash(api: Api, url: str) -> str:
    page = api.client.get(url)
    match = re.search(r'class="flash flash-(\w+)"[^>]*>([^<]*)<', page.text)
    assert match, page.text[:500]
    return f"{match.group(1)}: {html.unescape(match.group(2))}"


def test_the_bulk_bar_changes_the_ticked_cases_and_says_which_did_not_change(api: Api) -> None:
    mine = [api.make_case(api.team_a, subject=f"Giao hàng chậm {n}") for n in range(3)]
    other_team = api.make_case(api.team_b, subject="Của nhóm B")
    token = console_sign_in(api, "agent_a")
    page = api.client.get("/console/queues/all")
    for case in mine:
        assert f'name="case" value="{case.id}" form="bulk-form"' in page.text

    answer = api.client.post(
        "/console/cases/bulk",
        data={
            "_csrf": token,
            "case": [str(c.id) for c in mine] + [str(other_team.id)],
            "assignee": str(api.agent_ids["agent_a"]),
            "status": "pending",
            "priority": "",  # no change
            "team": "",
            "add_tags": "giao-hang, cham",
            "next": "/console/queues/all?status=any",
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/queues/all?status=any"
    message = flash(api, answer.headers["location"])
    assert message.startswith("error: Đã thay đổi 3 yêu cầu. Không thay đổi: ")
    assert other_team.reference in message  # named, with the reason, never changed
    for case in mine:
        now = api.get(f"/api/v1/cases/{case.id}").json()
        assert (now["status"], now["priority"]) == ("pending", "normal")
        assert now["assignee_id"] == api.agent_ids["agent_a"]
        assert sorted(now["tags"]) == ["cham", "giao-hang"]
    assert api.get(f"/api/v1/cases/{other_team.id}").json()["status"] == "new"

    # a merge without its confirmation box changes nothing
    unconfirmed = api.client.post(
        "/console/cases/bulk",
        data={"_csrf": token, "case": [str(mine[1].id)], "merge_into": mine[0].reference},
        follow_redirects=False,
    )
    assert "Hãy chọn ít nhất một yêu cầu" in flash(api, unconfirmed.headers["location"])
    assert api.get(f"/api/v1/cases/{mine[1].id}").json()["status"] == "pending"
    merged = api.client.post(
        "/console/cases/bulk",
        data={
            "_csrf": token,
            "case": [str(mine[1].id), str(mine[2].id)],
            "merge_into": mine[0].reference,
            "confirm_merge": "yes",
        },
        follow_redirects=False,
    )
    assert flash(api, merged.headers["location"]) == "ok: Đã thay đổi 2 yêu cầu."
    assert api.get(f"/api/v1/cases/{mine[2].id}").json()["status"] == "closed"


def test_a_list_saved_as_a_view_opens_with_its_filters(api: Api) -> None:
    billing = api.make_case(api.team_a, subject="Xuất hoá đơn VAT")
    api.patch(f"/api/v1/cases/{billing.id}", json={"version": billing.version, "tags": ["vat"]})
    api.make_case(api.team_a, subject="Không đăng nhập được")
    token = console_sign_in(api, "agent_a")

    saved = api.client.post(
        "/console/views",
        data={
            "_csrf": token,
            "name": "Hoá đơn VAT",
            "queue": "team",
            "tag": "vat",
            "status": "any",
            "sort": "created",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    target = urlsplit(saved.headers["location"])
    assert target.path == "/console/queues/team"
    params = parse_qs(target.query)
    view_id = params.pop("view")[0]
    assert params == {"tag": ["vat"], "status": ["any"], "sort": ["created"]}
    page = api.client.get(saved.headers["location"])
    assert "<h1>Hoá đơn VAT" in page.text
    assert billing.reference in page.text
    assert "Không đăng nhập được" not in page.text
    opened = api.client.get(f"/console/views/{view_id}", follow_redirects=False)
    assert opened.headers["location"] == saved.headers["location"]

    # a plain agent cannot share a view; a second view of the same name is refused
    shared = api.client.post(
        "/console/views",
        data={"_csrf": token, "name": "Chung", "queue": "all", "shared": "on", "next": "/console/"},
        follow_redirects=False,
    )
    assert flash(api, shared.headers["location"]).startswith("error: Chưa lưu được chế độ xem")

    # deleting asks for the box first
    keep = api.client.post(
        f"/console/views/{view_id}/delete", data={"_csrf": token}, follow_redirects=False
    )
    assert "Hãy đánh dấu ô" in flash(api, keep.headers["location"])
    api.client.post(f"/console/views/{view_id}/delete", data={"_csrf": token, "confirm": "yes"})
    assert api.client.get(f"/console/views/{view_id}").status_code == 404
