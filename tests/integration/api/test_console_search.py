"""Console search across everything: every kind of field, folding, number forms, notes,
status filter, counts, ranking and permissions; SLA badges on the lines of lists."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from functools import partial

from helpdesk.domain import Status
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import (
    CaseUpdate,
    CustomerIn,
    CustomerUpdate,
    MessageIn,
    OrganizationIn,
    OrganizationUpdate,
)
from helpdesk.services import cases, customers, messages, organizations, search
from helpdesk.sla.timers import fire_due
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

ROW = re.compile(r'<tr data-row data-href="/console/cases/(\d+)">')
TOTAL = re.compile(r'id="(?:search|queue)-count" data-total="(\d+)"')


def found(api: Api, q: str, status: str = "") -> list[int]:
    """The case ids the search page lists, in order; checks the heading's count."""
    response = api.client.get("/console/search", params={"q": q, "status": status})
    assert response.status_code == 200, response.text[:300]
    ids = [int(i) for i in ROW.findall(response.text)]
    total = TOTAL.search(response.text)
    assert total is not None, response.text[:300]
    assert int(total.group(1)) == len(ids), (q, ids)
    return ids


def _world(api: Api) -> dict[str, int]:
    """Three cases of one customer (two in team A, one in team B) and one of another."""
    org = api.run(organizations.create_organization, SYSTEM, OrganizationIn(name="Công ty Đông Á"))
    dao = CustomerIn(
        name="Nguyễn Thị Đào", emails=["dao@donga.vn"], phone="0903 123 456", organization_id=org.id
    )
    api.run(customers.create_customer, SYSTEM, dao)
    printer = api.make_case(
        api.team_a,
        subject="Máy in bị kẹt giấy",
        body="Máy in ở tầng 3 không chạy từ sáng.",
        customer_email="dao@donga.vn",
    )
    api.run(messages.reply, SYSTEM, printer.id, MessageIn(body="Chúng tôi đã cử kỹ thuật viên."))
    api.run(messages.add_note, SYSTEM, printer.id, MessageIn(body="Mật mã tủ mạng là 4242"))
    invoice = api.make_case(
        api.team_b,
        subject="Hỏi về HÓA ĐƠN tháng 5",
        body="Đơn hàng số 98765 chưa giao. Invoice question.",
        customer_email="dao@donga.vn",
        tags=["billing"],
    )
    login = api.make_case(
        api.team_a,
        subject="Không đăng nhập được",
        body="Sau khi đổi mật khẩu, máy in văn phòng cũng không in được.",
        customer_email="other@example.vn",
    )
    return {"printer": printer.id, "invoice": invoice.id, "login": login.id, "org": org.id}


def test_search_finds_every_field_ranks_filters_counts_and_respects_scope(api: Api) -> None:
    ids = _world(api)
    printer, invoice, login = ids["printer"], ids["invoice"], ids["login"]
    console_sign_in(api, "manager")
    # Every kind of field, folded (diacritics and đ → d) and in any case
    assert found(api, "dao@donga.vn") == [invoice, printer]  # address; newest first
    assert found(api, "0903123456") == [invoice, printer]  # phone, typed without spaces
    assert found(api, "0903 123 456") == [invoice, printer]
    assert found(api, "DONG A") == [invoice, printer]  # organization
    assert found(api, "Đào") == [invoice, printer]  # customer name
    assert found(api, "ky thuat vien") == [printer]  # our reply
    assert found(api, "tang 3 khong chay") == [printer]  # the customer's message
    assert found(api, "hoá đơn") == [invoice]  # subject, another spelling of the accent
    assert found(api, "billing") == [invoice]  # tag
    assert found(api, "don hang 98765") == [invoice]
    assert found(api, "4242") == [printer]  # an internal note, for staff
    assert found(api, "không có gì như vậy") == []
    # The number in every form, first; a bare number also finds it as text
    for form in (str(login), f"#{login}", f"HD-{login}", f"hd{login}", f"HD-{login:06d}"):
        assert found(api, form)[0] == login, form
    assert found(api, "98765") == [invoice]
    # Ranking: the subject before the conversation, even for an older case
    assert found(api, "may in") == [printer, login]
    # Pages: the same order, cut; past the end, nothing but the same total
    for number, expected in ((1, [printer]), (2, [login]), (3, [])):
        paged = api.run(partial(search.search_cases, SYSTEM, "may in", page=number, per_page=1))
        assert ([c.id for c in paged.items], paged.total, paged.pages) == (expected, 2, 2)
    # Status filter: every status by default
    case = api.run(cases.get_case, SYSTEM, invoice)
    api.run(
        cases.update_case, SYSTEM, invoice, CaseUpdate(version=case.version, status=Status.SOLVED)
    )
    assert found(api, "dao@donga.vn") == [invoice, printer]
    assert found(api, "dao@donga.vn", status="solved") == [invoice]
    assert found(api, "dao@donga.vn", status="active") == [printer]
    assert found(api, "dao@donga.vn", status="open") == [printer]
    # Permissions: agent B sees team B only, agent A team A (and cases without a team)
    console_sign_in(api, "agent_b")
    assert found(api, "dao@donga.vn") == [invoice]
    assert found(api, "may in") == []
    console_sign_in(api, "agent_a")
    assert found(api, "dao@donga.vn") == [printer]
    assert found(api, f"HD-{invoice}") == []
    # A customer (the portal's principal) never finds a case by an internal note
    customer_id = api.run(cases.get_case, SYSTEM, printer).customer_id
    customer = Principal(kind="customer", id=customer_id)
    assert [c.id for c in api.run(search.search_cases, customer, "4242").items] == []
    assert [c.id for c in api.run(search.search_cases, customer, "ky thuat").items] == [printer]


def test_the_index_follows_changes_and_the_queue_heading_counts_the_results(api: Api) -> None:
    ids = _world(api)
    printer = ids["printer"]
    console_sign_in(api, "admin")
    customer_id = api.run(cases.get_case, SYSTEM, printer).customer_id
    # When the customer, the organization and the case change
    change = CustomerUpdate(name="Trần Văn Bảo", phone="+84 28 3999 1111", emails=["bao@x.vn"])
    api.run(customers.update_customer, SYSTEM, customer_id, change)
    rename = OrganizationUpdate(name="Tập đoàn Sông Hồng")
    api.run(organizations.update_organization, SYSTEM, ids["org"], rename)
    version = api.run(cases.get_case, SYSTEM, printer).version
    api.run(cases.update_case, SYSTEM, printer, CaseUpdate(version=version, subject="Quạt kêu to"))
    api.run(messages.add_customer_message, SYSTEM, printer, MessageIn(body="Xin gọi lại gấp"))
    # Then the search finds the new values, and not the old ones
    assert printer in found(api, "tran van bao")
    assert printer in found(api, "842839991111")
    assert printer in found(api, "bao@x.vn")
    assert printer in found(api, "song hong")
    assert found(api, "quat keu") == [printer]
    assert found(api, "goi lai gap") == [printer]
    assert printer not in found(api, "dao@donga.vn")
    assert printer not in found(api, "dong a")
    # The queue's heading counts what its filters find, not the whole queue
    page = api.client.get("/console/queues/all", params={"q": "không có gì như vậy"})
    assert TOTAL.search(page.text).group(1) == "0"  # type: ignore[union-attr]
    page = api.client.get("/console/queues/all", params={"q": "goi lai"})
    assert TOTAL.search(page.text).group(1) == "1"  # type: ignore[union-attr]
    assert [int(i) for i in ROW.findall(page.text)] == [printer]
    # Bad input is a page, never a crash
    bad = ({"q": "x" * 5000}, {"page": "-1", "q": "a"}, {"q": '"" AND OR {*}'}, {"q": "a\x00b"})
    for params in bad:
        assert api.client.get("/console/search", params=params).status_code == 200


def test_list_lines_carry_the_next_sla_target_with_its_due_time_and_state(api: Api) -> None:
    body = {
        "name": "Thường",
        "targets": {
            p: {"first_response": "PT1H", "resolution": "PT16H"}
            for p in ("low", "normal", "high", "urgent")
        },
    }
    assert api.post("/api/v1/sla/policies", json=body).status_code == 201
    late = api.make_case(api.team_a, subject="Trễ hạn")
    api.run(fire_due, datetime.now(UTC) + timedelta(days=30))  # at risk, then breached
    fresh = api.make_case(api.team_a, subject="Mới mở")
    console_sign_in(api, "agent_a")
    for url in ("/console/queues/all", f"/console/search?q=HD-{late.id}"):
        text = api.client.get(url).text
        line = text[text.index(f'data-href="/console/cases/{late.id}"') :]
        line = line[: line.index("</tr>")]
        assert 'data-sla="breached"' in line, url
        assert 'data-metric="first_response"' in line, url
        assert "Phản hồi đầu tiên" in html.unescape(line)
        assert re.search(r"hạn \d\d/\d\d/\d{4} \d\d:\d\d", html.unescape(line)), line
    text = api.client.get("/console/queues/all").text
    line = text[text.index(f'data-href="/console/cases/{fresh.id}"') :]
    assert 'data-sla="running"' in line[: line.index("</tr>")]
