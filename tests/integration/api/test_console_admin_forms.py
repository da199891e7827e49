"""The settings forms people fill in (issue 14): every bad field at once, beside
it, in the reader's language; countries by name; times and dates as people
write them; a calendar's preview; deletes that ask first and say what depends
on the thing (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.rules import RuleActions
from helpdesk.routing.schemas import RuleIn
from helpdesk.services import agents
from helpdesk.sla import services as sla
from helpdesk.sla.schemas import PolicyIn
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

CALENDARS = "/console/admin/sla/calendars"
DEVELOPER_TEXT = re.compile(r"Expected `|\$\.|invalid form|is not a valid (time|date)|HH:MM")
OFFICE = {f"hours_{d}": "8h-12h, 13h30-17h30" for d in ("mon", "tue", "wed", "thu", "fri")}


def post(api: Api, url: str, token: str, **data: Any) -> Any:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def in_english(api: Api) -> None:
    api.client.cookies.set("helpdesk_lang", "en")


def messages(html: str) -> dict[str, str]:
    """Each field's message as the page shows it beside the field."""
    found = re.findall(r'data-error-for="([\w-]+)">([^<]+)</span>', html)
    return dict(found)


def test_every_bad_field_is_reported_at_once_in_vietnamese_and_english(api: Api) -> None:
    token = console_sign_in(api, "admin")
    agent = {"name": "", "email": "không-phải-email", "capacity": "nhiều", "role": "agent"}

    # Vietnamese (the default): all three fields, each with its own message
    refused = post(api, "/console/admin/agents", token, **agent)
    assert refused.status_code == 422
    shown = messages(refused.text)
    assert shown == {
        "name": "Vui lòng điền trường này.",
        "email": "Nhập một địa chỉ email, ví dụ lan@congty.vn.",
        "capacity": "Nhập một số nguyên.",
    }
    assert 'value="không-phải-email"' in refused.text  # what was typed is kept
    assert 'value="nhiều"' in refused.text
    assert 'aria-invalid="true" aria-describedby="error-email"' in refused.text
    assert not DEVELOPER_TEXT.search(refused.text)

    # The calendar form: five bad fields, five messages, nothing saved
    calendar = {
        **OFFICE, "name": "", "hours_mon": "8h-25h", "timezone": "Sao Hỏa",
        "country": "Vietnamm", "closed_dates": "31/02/2027", "makeup_days": "09/01/2027 8 giờ",
    }  # fmt: skip
    bad = post(api, CALENDARS, token, **calendar)
    assert bad.status_code == 422
    vi = messages(bad.text)
    assert set(vi) == {"name", "hours_mon", "timezone", "country", "closed_dates", "makeup_days"}
    assert (
        vi["closed_dates"]
        == "“31/02/2027” không phải là ngày: hãy viết theo dạng dd/mm/yyyy, ví dụ 16/02/2027."
    )
    assert vi["country"] == "Hãy chọn một quốc gia trong danh sách."
    assert 'value="8h-25h"' in bad.text
    assert not DEVELOPER_TEXT.search(bad.text)
    assert api.run(sla.list_calendars, SYSTEM) == []

    # The policy form: a bad name and two bad targets at once
    policy = {"name": "", "t_low_resolution_m": "75", "t_high_first_response_h": "hai"}
    en_policy = post(api, "/console/admin/sla/policies?lang=en", token, **policy)
    assert en_policy.status_code == 422
    assert messages(en_policy.text) == {
        "t_low_resolution_m": "Enter a whole number from 0 to 59.",
        "t_high_first_response_h": "Enter a whole number from 0 to 87600.",
        "name": "This field is required.",
    }
    assert "Please check the form" in en_policy.text

    # English, chosen by the agent: the same agent form in English
    in_english(api)
    english = post(api, "/console/admin/agents", token, **agent)
    assert messages(english.text) == {
        "name": "This field is required.",
        "email": "Enter an email address, such as lan@congty.vn.",
        "capacity": "Enter a whole number.",
    }
    en_calendar = messages(post(api, CALENDARS, token, **calendar).text)
    assert en_calendar["hours_mon"] == "“8h-25h” is not a period: write it as 8:00-12:00 or 8h-12h."
    assert en_calendar["timezone"] == "Unknown time zone: use a name such as Asia/Ho_Chi_Minh."

    # A rule naming a team that does not exist: a sentence, not the service's detail
    rule = post(api, "/console/admin/rules", token, name="Sai", team="999999")
    assert rule.status_code == 422
    assert "This team does not exist any more." in rule.text
    assert "999999 does not exist" not in rule.text


def test_countries_times_and_dates_as_people_write_them(api: Api) -> None:
    token = console_sign_in(api, "admin")
    form = api.client.get(CALENDARS).text.split('name="country"', 1)[1].split("</select>")[0]
    options = re.findall(r'<option value="(\w*)"( selected)?>([^<]+)</option>', form)
    assert options[:2] == [("", "", "Không theo ngày nghỉ lễ"), ("VN", " selected", "Việt Nam")]
    assert len(options) > 100
    assert ("VI", "", "Quần đảo Virgin thuộc Hoa Kỳ") in options

    data = {
        **OFFICE, "name": "Hà Nội", "country": "Vietnam", "hours_tue": "08:00-12:00, 13:00-17:30",
        "hours_sat": "8h-11h30", "timezone": "Asia/Ho_Chi_Minh", "official_makeup_days": "on",
        "closed_dates": "16/02/2027\n2027-02-17\n18-02-2027",
        "makeup_days": "20/02/2027 8h-12h\n27-02-2027 mon",
    }  # fmt: skip
    assert post(api, CALENDARS, token, **data).status_code == 303
    assert (
        post(api, CALENDARS, token, **{**data, "name": "HCM", "country": "Việt Nam"}).status_code
        == 303
    )
    by_name = {c.name: c for c in api.run(sla.list_calendars, SYSTEM)}
    hanoi = by_name["Hà Nội"].definition
    assert (hanoi["country"], by_name["HCM"].definition["country"]) == ("VN", "VN")
    assert hanoi["hours"]["mon"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "13:30", "end": "17:30"},
    ]
    assert hanoi["hours"]["sat"] == [{"start": "08:00", "end": "11:30"}]
    assert hanoi["closed_dates"] == ["2027-02-16", "2027-02-17", "2027-02-18"]
    assert hanoi["makeup_days"] == [
        {"date": "2027-02-20", "hours_of": None, "periods": [{"start": "08:00", "end": "12:00"}]},
        {"date": "2027-02-27", "hours_of": "mon", "periods": None},
    ]
    page = api.client.get(f"{CALENDARS}/{by_name['Hà Nội'].id}").text
    assert "16/02/2027\n17/02/2027\n18/02/2027</textarea>" in page  # dd/mm/yyyy back
    assert "20/02/2027 08:00-12:00" in page
    assert '<option value="VN" selected>Việt Nam</option>' in page
    # A country typed by name stays chosen when another field is refused
    again = post(api, CALENDARS, token, **{**data, "name": "", "country": "viet nam"})
    assert again.status_code == 422
    assert '<option value="VN" selected>Việt Nam</option>' in again.text

    in_english(api)
    english = api.client.get(f"{CALENDARS}/{by_name['Hà Nội'].id}").text
    assert '<option value="VN" selected>Vietnam</option>' in english


def test_the_preview_of_a_vietnamese_calendar_shows_tet_2027(api: Api) -> None:
    token = console_sign_in(api, "admin")
    data = {**OFFICE, "name": "Văn phòng", "country": "VN", "official_makeup_days": "on",
            "makeup_days": "20/02/2027 8h-12h", "closed_dates": "11/02/2027"}  # fmt: skip
    assert post(api, CALENDARS, token, **data).status_code == 303
    [calendar] = api.run(sla.list_calendars, SYSTEM)
    page = api.client.get(f"{CALENDARS}/{calendar.id}?from=01/02/2027").text
    preview = page.split("data-preview", 1)[1]
    working = re.findall(
        r"<tr><td>(\d\d/\d\d/\d{4})</td><td>([^<]+)</td><td>([^<]+)</td></tr>", preview
    )
    # Monday 1 to Wednesday 3 February, then Tết (4–10) and the closed 11th: Friday the 12th
    assert [day for day, _, _ in working[:5]] == [
        "01/02/2027", "02/02/2027", "03/02/2027", "12/02/2027", "15/02/2027"
    ]  # fmt: skip
    assert len(working) == 10
    assert working[0][1:] == ("Thứ Hai", "08:00–12:00, 13:30–17:30")
    special = preview.split('data-table="special-days"', 1)[1]
    assert "06/02/2027" in special
    assert "Tết Nguyên Đán" in special
    assert "Giỗ Tổ Hùng Vương" in special  # 16/04/2027
    assert 'data-kind="closed"><td>11/02/2027' in special
    assert 'data-kind="makeup"><td>20/02/2027</td><td>Thứ Bảy</td>' in special
    assert "2028" in special  # twelve months ahead: Tết 2028 too

    in_english(api)
    english = api.client.get(f"{CALENDARS}/{calendar.id}?from=01/02/2027").text
    assert "Lunar New Year" in english.split("data-preview", 1)[1]


def test_deletes_ask_first_and_name_what_depends_on_the_thing(api: Api) -> None:
    token = console_sign_in(api, "admin")
    assert post(api, CALENDARS, token, **OFFICE, name="Lịch Tết", country="VN").status_code == 303
    [calendar] = api.run(sla.list_calendars, SYSTEM)
    for name in ("Khách VIP", "Mặc định"):
        api.run(sla.create_policy, SYSTEM, PolicyIn(name=name, targets={}, calendar_id=calendar.id))
    url = f"{CALENDARS}/{calendar.id}/delete"

    # The list links to a confirmation page, which names the policies and offers no delete
    assert f'href="{url}"' in api.client.get(CALENDARS).text
    asked = api.client.get(url)
    assert asked.status_code == 200
    assert (
        "2 chính sách SLA đang dùng lịch này: Khách VIP, Mặc định. Hãy đổi chúng trước."
        in asked.text
    )
    assert 'name="confirm"' not in asked.text
    # A delete posted anyway is refused with the same sentence, not the service's detail
    refused = post(api, url, token, confirm="yes")
    assert refused.status_code == 409
    assert "Khách VIP, Mặc định" in refused.text
    assert "is used by a policy" not in refused.text
    in_english(api)
    assert (
        "2 SLA policies use this calendar: Khách VIP, Mặc định. Change them first."
        in api.client.get(url).text
    )
    assert len(api.run(sla.list_calendars, SYSTEM)) == 1

    # Once the policies are gone: a post without the confirmation only asks
    for policy in api.run(sla.list_policies, SYSTEM):
        policy_url = f"/console/admin/sla/policies/{policy.id}/delete"
        assert "Delete the SLA policy “" in api.client.get(policy_url).text
        assert post(api, policy_url, token, confirm="yes").status_code == 303
    unconfirmed = post(api, url, token)
    assert (unconfirmed.status_code, unconfirmed.headers["location"]) == (303, url)
    assert 'name="confirm" value="yes"' in api.client.get(url).text
    assert post(api, url, token, confirm="yes").status_code == 303
    assert api.run(sla.list_calendars, SYSTEM) == []

    # A routing rule: asked, then deleted
    rule = api.run(
        routing.create_rule, SYSTEM, RuleIn(name="Hóa đơn", actions=RuleActions(team_id=api.team_a))
    )
    rule_url = f"/console/admin/rules/{rule.id}/delete"
    assert "Delete the routing rule “Hóa đơn”?" in api.client.get(rule_url).text
    assert post(api, rule_url, token).status_code == 303
    assert len(api.run(routing.list_rules, SYSTEM)) == 1
    assert post(api, rule_url, token, confirm="yes").status_code == 303
    assert api.run(routing.list_rules, SYSTEM) == []

    # Deactivating an agent: the form asks first, naming the rule that assigns to them
    agent_id = api.agent_ids["agent_b"]
    api.run(
        routing.create_rule,
        SYSTEM,
        RuleIn(name="Khách Nhật", actions=RuleActions(assignee_id=agent_id)),
    )
    agent_url = f"/console/admin/agents/{agent_id}"
    version = re.search(r'name="version" value="(\w+)"', api.client.get(agent_url).text)
    assert version is not None
    form = {"name": "Agent B", "role": "agent", "capacity": "5", "version": version.group(1)}
    asked_again = post(api, agent_url, token, **form)  # "active" left unticked
    assert asked_again.status_code == 200
    assert (
        "Routing rules that assign to them (skipped while they are inactive): Khách Nhật"
        in asked_again.text
    )
    assert 'name="confirm_deactivate" value="yes"' in asked_again.text
    assert api.run(agents.get_agent, SYSTEM, agent_id).active
    assert post(api, agent_url, token, **form, confirm_deactivate="yes").status_code == 303
    assert not api.run(agents.get_agent, SYSTEM, agent_id).active

    # Managers read settings but are never asked to delete
    console_sign_in(api, "manager")
    assert api.client.get(rule_url).status_code in (403, 404)
