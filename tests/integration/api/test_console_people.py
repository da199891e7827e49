"""The console's people pages: a customer's page and its edits, an organization's page,
and a new case opened by an agent for a customer who phoned or came in.

Given/When/Then in the test bodies; texts are checked in Vietnamese (the default).
"""

from __future__ import annotations

import html
import re
from typing import Any

from httpx import Response

from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.routing.assign import route_case
from helpdesk.schemas import CaseUpdate, CustomerIn, OrganizationIn
from helpdesk.services import cases, customers, organizations
from helpdesk.services.customer_addresses import mark_address_verified
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.tables import Case, Customer, CustomerEmail, Job, Message, SurveyResponse
from tests.integration.api._portal_setup import sign_in as portal_sign_in
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

NOTES = "Khách khó tính, chỉ gọi sau 14h"
DAY = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def post(api: Api, url: str, token: str, **data: str) -> Response:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def text_of(response: Response) -> str:
    return html.unescape(response.text)


async def _rows(table: Any, *where: Any) -> list[dict[str, Any]]:
    query = table.select()
    for clause in where:
        query = query.where(clause)
    return list(await query)


def rows(api: Api, table: Any, *where: Any) -> list[dict[str, Any]]:
    return api.run(_rows, table, *where)


def _customer(api: Api, name: str, email: str, organization: int | None = None) -> Any:
    data = CustomerIn(name=name, emails=[email], organization_id=organization)
    return api.run(customers.create_customer, SYSTEM, data)


def _close(api: Api, case_id: int) -> None:
    api.run(cases.update_case, SYSTEM, case_id, CaseUpdate(version=1, status=Status.CLOSED))


async def _rate(case_id: int, customer_id: int) -> None:
    await SurveyResponse.insert(
        SurveyResponse(
            case=case_id, customer=customer_id, solve_key="1", rating=4, comment="Rất nhanh"
        )
    )


def test_a_customer_page_shows_edits_and_keeps_the_rules(api: Api) -> None:
    # Given Hoa, with a proven address, a case of team A (closed), one open of team A and
    # one of team B, and a satisfaction answer
    hoa = _customer(api, "Lê Thị Hoa", "hoa@khach.vn")
    api.run(mark_address_verified, "hoa@khach.vn")
    closed = api.make_case(api.team_a, customer_email="hoa@khach.vn", subject="Hóa đơn tháng 5")
    _close(api, closed.id)
    open_a = api.make_case(api.team_a, customer_email="hoa@khach.vn", subject="Đổi mật khẩu")
    of_b = api.make_case(api.team_b, customer_email="hoa@khach.vn", subject="Hợp đồng mới")
    api.run(_rate, closed.id, hoa.id)
    org = api.run(organizations.create_organization, SYSTEM, OrganizationIn(name="Công ty Sen"))
    url = f"/console/customers/{hoa.id}"

    # When the agent of team A opens her page
    token = console_sign_in(api, "agent_a")
    page = api.client.get(url)

    # Then it shows her cases of every status the agent may see, newest first, and no other
    assert page.status_code == 200
    body = text_of(page)
    assert body.index(open_a.reference) < body.index(closed.reference)
    assert 'data-status="closed"' in body
    assert of_b.reference not in body
    assert 'data-address="hoa@khach.vn" data-verified="yes"' in body
    assert "Rất nhanh" in body  # the satisfaction answer
    assert DAY.search(body)  # dates as dd/mm/yyyy
    assert f'href="/console/cases/new?customer={hoa.id}"' in body
    # (a manager sees the case of team B too)
    console_sign_in(api, "manager")
    assert of_b.reference in api.client.get(url).text

    # When the agent edits her phone, notes and organization, and adds an address
    token = console_sign_in(api, "agent_a")
    form = {"name": "Lê Thị Hoa", "phone": "0903 111 222", "locale": "vi", "notes": NOTES}
    assert post(api, url, token, organization=str(org.id), **form).status_code == 303
    assert post(api, f"{url}/addresses", token, address="Hoa.Moi@Khach.vn").status_code == 303

    # Then the page shows them; the typed address is unverified and marked as typed by staff
    body = text_of(api.client.get(url))
    assert "0903 111 222" in body
    assert NOTES in body
    assert f'href="/console/organizations/{org.id}"' in body
    assert 'data-address="hoa.moi@khach.vn" data-verified="no"' in body
    [added] = rows(api, CustomerEmail, CustomerEmail.address == "hoa.moi@khach.vn")
    assert added["verified_at"] is None
    assert added["added_by_staff"] is True

    # And the last proven address cannot be removed by an agent; bad input is a form error
    refused = post(api, f"{url}/addresses/remove", token, address="hoa@khach.vn")
    assert refused.status_code == 409
    assert "hoa@khach.vn" in rows(api, CustomerEmail, CustomerEmail.customer == hoa.id)[0].values()
    assert post(api, url, token, **{**form, "locale": "xx"}).status_code == 422
    bad_address = post(api, f"{url}/addresses", token, address="không phải địa chỉ")
    assert bad_address.status_code == 422
    assert 'value="không phải địa chỉ"' in text_of(bad_address)  # kept, and the rest as saved
    assert 'name="name" required maxlength="200" value="Lê Thị Hoa"' in text_of(bad_address)
    assert api.client.get("/console/customers/999999").status_code == 404
    assert api.client.get(url, params={"cursor": "không-phải"}).status_code == 422
    # An agent may not merge customers (the policy keeps it for managers and admins)
    assert post(api, f"{url}/merge", token, target=str(hoa.id)).status_code == 403

    # And the notes never reach the customer: not in the portal, not in the API's customer
    cookie = portal_sign_in(api, hoa)
    portal = api.client.get(f"/support/requests/{open_a.id}", headers={"Cookie": cookie})
    assert portal.status_code == 200
    assert NOTES not in text_of(portal)
    assert NOTES not in api.client.get("/support/requests", headers={"Cookie": cookie}).text
    assert "notes" not in api.get(f"/api/v1/customers/{hoa.id}", role="admin").json()


def test_merging_customers_asks_for_a_confirmation_naming_both(api: Api) -> None:
    # Given two customers of no organization, and a manager on the first one's page
    first = _customer(api, "Trần Văn Bảo", "bao@khach.vn")
    second = _customer(api, "Trần V. Bảo", "bao.tran@khach.vn")
    token = console_sign_in(api, "manager")
    url = f"/console/customers/{first.id}/merge"

    # When he asks to merge it into the second, the page asks him to confirm
    asked = post(api, url, token, target=str(second.id))
    assert asked.status_code == 409
    assert f'name="confirm_customers" value="{first.id},{second.id}"' in asked.text
    assert "Trần V. Bảo" in text_of(asked)

    # Then confirming merges them, and the first page says where it went
    done = post(api, url, token, target=str(second.id), confirm_customers=f"{first.id},{second.id}")
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/customers/{second.id}"
    merged_page = api.client.get(f"/console/customers/{first.id}").text
    assert f'href="/console/customers/{second.id}"' in merged_page
    assert f'action="/console/customers/{first.id}"' not in merged_page  # no more edits
    assert post(api, url, token, target="abc").status_code == 422


def test_the_organization_pages_search_show_and_edit_by_policy(api: Api) -> None:
    # Given An Bình (a member with a case) and Sen, which shares cases with its members
    org = api.run(
        organizations.create_organization,
        SYSTEM,
        OrganizationIn(name="Công ty An Bình", domains=["anbinh.vn"], notes="Khách lớn"),
    )
    member = _customer(api, "Phạm Minh", "minh@anbinh.vn")
    case = api.make_case(api.team_a, customer_email="minh@anbinh.vn", subject="Máy in hỏng")
    shared = api.run(
        organizations.create_organization,
        SYSTEM,
        OrganizationIn(name="Sen Group", domains=["sen.vn"], shared_visibility=True),
    )

    # When the agent of team A searches the organizations by name and by domain
    token = console_sign_in(api, "agent_a")
    by_name = api.client.get("/console/organizations", params={"q": "an bình"})
    by_domain = api.client.get("/console/organizations", params={"q": "SEN.VN"})

    # Then each search finds its organization only
    assert f'data-organization="{org.id}"' in by_name.text
    assert f'data-organization="{shared.id}"' not in by_name.text
    assert f'data-organization="{shared.id}"' in by_domain.text
    assert f'data-organization="{org.id}"' not in by_domain.text

    # And the page of An Bình lists its member (a link) and the member's case
    page = text_of(api.client.get(f"/console/organizations/{org.id}"))
    assert f'href="/console/customers/{member.id}"' in page
    assert case.reference in page
    assert "Khách lớn" in page
    assert "anbinh.vn" in page

    # When the agent changes the domains of Sen, which shares its cases: refused (admins only)
    url = f"/console/organizations/{shared.id}"
    assert post(api, url, token, name="Sen Group", domains="sen.vn khac.vn").status_code == 403

    # And a manager edits An Bình's name, domains and notes
    token = console_sign_in(api, "manager")
    edit = {"name": "An Bình Group", "domains": "anbinh.vn\nanbinh.com.vn", "notes": "VIP"}
    assert post(api, f"/console/organizations/{org.id}", token, **edit).status_code == 303
    saved = api.run(organizations.get_organization, SYSTEM, org.id)
    assert (saved.name, saved.domains, saved.notes) == (
        "An Bình Group",
        ["anbinh.com.vn", "anbinh.vn"],
        "VIP",
    )
    bad = post(api, f"/console/organizations/{org.id}", token, name="X", domains="không hợp lệ")
    assert bad.status_code == 422
    assert "không hợp lệ" in text_of(bad)


def _sla_policy(api: Api) -> None:
    targets = {"first_response": "PT1H", "resolution": "PT16H"}
    body = {"name": "Điện thoại", "targets": dict.fromkeys(("low", "normal", "high"), targets)}
    assert api.post("/api/v1/sla/policies", json=body).status_code == 201


def test_an_agent_opens_phone_and_walk_in_cases_for_customers(api: Api) -> None:
    # Given an SLA policy and Nguyễn Thị Hoa, a known customer
    _sla_policy(api)
    known = _customer(api, "Nguyễn Thị Hoa", "hoa.nguyen@khach.vn")
    token = console_sign_in(api, "agent_a")

    # When the agent searches "nguyen hoa" without diacritics, the customer is found
    found = api.client.get("/console/cases/new", params={"q": "nguyen thi hoa"})
    assert f'data-found="{known.id}"' in found.text

    # When a new customer phones, known by their phone number only
    form = {
        "new_name": "Đỗ Văn Tâm", "new_phone": "0912 345 678", "channel": "phone",
        "subject": "Không vào được mạng", "body": "Từ sáng nay mạng nhà tôi mất.",
        "priority": "high", "team": str(api.team_a),
    }  # fmt: skip
    opened = post(api, "/console/cases/new", token, **form)

    # Then a phone case is opened for a new customer, with SLA targets and a routing job
    assert opened.status_code == 303
    case_id = int(opened.headers["location"].rsplit("/", 1)[1])
    [case] = rows(api, Case, Case.id == case_id)
    assert (case["channel"], case["priority"], case["team"]) == ("phone", "high", api.team_a)
    [tam] = rows(api, Customer, Customer.id == case["customer"])
    assert (tam["name"], tam["phone"]) == ("Đỗ Văn Tâm", "0912 345 678")
    [first] = rows(api, Message, Message.case == case_id)
    assert first["kind"] == "customer"
    assert first["body_text"] == form["body"]
    assert rows(api, CaseSlaTimer, CaseSlaTimer.case == case_id)
    assert rows(api, Job, Job.actor == "route_new_case")
    assert api.run(route_case, case_id) is True  # routing treats it as any new case
    page = text_of(api.client.get(f"/console/cases/{case_id}"))
    assert "Điện thoại" in page
    assert f'href="/console/customers/{tam["id"]}"' in page

    # When the same phone calls again with the known customer's address: that customer is used
    again = {**form, "new_email": "HOA.NGUYEN@khach.vn", "channel": "walk_in", "as_note": "on"}
    matched = post(api, "/console/cases/new", token, **again)
    assert matched.status_code == 303
    second_id = int(matched.headers["location"].rsplit("/", 1)[1])
    [second] = rows(api, Case, Case.id == second_id)
    assert second["customer"] == known.id
    assert second["channel"] == "walk_in"
    kinds = [m["kind"] for m in rows(api, Message, Message.case == second_id)]
    assert kinds == ["customer", "note"]
    assert len(rows(api, Customer)) == 2  # nobody new
    # (the same phone number alone finds the customer who has it)
    by_phone = post(api, "/console/cases/new", token, **{**form, "new_name": "Anh Tâm"})
    [third] = rows(api, Case, Case.id == int(by_phone.headers["location"].rsplit("/", 1)[1]))
    assert third["customer"] == tam["id"]
    assert len(rows(api, Customer)) == 2

    # And a case for a team the agent cannot see leads to the customer's page
    elsewhere = {"customer": str(known.id), "subject": "Hỏi giá", "body": "Giá gói cước?"}
    moved = post(api, "/console/cases/new", token, team=str(api.team_b), **elsewhere)
    assert moved.headers["location"] == f"/console/customers/{known.id}"

    # And incomplete forms are form errors that keep what was typed
    missing = post(api, "/console/cases/new", token, subject="Hỏi", body="Giá?")
    assert missing.status_code == 422
    assert "Chọn khách hàng" in text_of(missing)
    no_contact = post(api, "/console/cases/new", token, new_name="Ai đó", subject="S", body="B")
    assert no_contact.status_code == 422
    assert 'value="Ai đó"' in text_of(no_contact)
    wrong = post(api, "/console/cases/new", token, customer="x", subject="S", body="B")
    assert wrong.status_code == 422
    email = post(api, "/console/cases/new", token, channel="email", subject="S", body="B",
                 customer=str(known.id))  # fmt: skip
    assert email.status_code == 422
    # (odd values anywhere are form errors or "not found", never a server error)
    base = {"customer": str(known.id), "subject": "S", "body": "B"}
    for odd in (
        {"priority": "zzz"}, {"team": "2147483647"}, {"new_locale": "xx", "customer": ""},
        {"subject": "x" * 600}, {"body": " "}, {"customer": "99999999999"},
        {"customer": "2147483647"}, {"as_note": "on", "body": ""},
    ):  # fmt: skip
        assert 400 <= post(api, "/console/cases/new", token, **{**base, **odd}).status_code < 500
    profile = f"/console/customers/{known.id}"
    for odd in ({"organization": "99999"}, {"organization": "x"}, {"notes": "n" * 10_001}):
        assert 400 <= post(api, profile, token, name="Hoa", locale="vi", **odd).status_code < 500
