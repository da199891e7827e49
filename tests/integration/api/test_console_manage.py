"""The manager and admin pages of the console: the SLA dashboard and its CSV, and
the settings forms (agents, teams, mailboxes, routing rules, SLA policies and
calendars), on SQLite and PostgreSQL.

Given/When/Then where it helps. Every form test checks the change through the
domain service, and that bad input comes back as the page with the reason
(422 or 409), never a 500 (the ``api`` fixture fails on any 500).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from agent_console._dashboard import ReportQuery, report_period
from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.domain import Priority
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.strategies import Strategy
from helpdesk.services import agents, teams
from helpdesk.sla import report_series
from helpdesk.sla import services as sla
from helpdesk.sla.policies import Metric
from helpdesk.sla.reports import GroupBy, SlaReport, report_csv, sla_report
from helpdesk.sla.timers import fire_due
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in
from tests.integration.sla._support import always_open_calendar, make_policy

CHECK_FORM = "Vui lòng kiểm tra lại biểu mẫu"


VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')


def post(api: Api, url: str, token: str, **data: Any) -> Any:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def shown_version(api: Api, url: str) -> str:
    """The version an edit form is shown with (its hidden field)."""
    match = VERSION.search(api.client.get(url).text)
    assert match, url
    return match.group(1)


def _period(api: Api, **query: str) -> tuple[datetime, datetime]:
    return report_period(ReportQuery(**query), api.app.state.settings.timezone)


def _seed_sla(api: Api) -> dict[str, int]:
    """A 24/7 policy (1 h first response, 8 h resolution); in team A a case answered
    at once and one answered late, in team B one never answered."""
    api.run(make_policy)
    met = api.make_case(api.team_a)
    late = api.make_case(api.team_a, priority=Priority.HIGH)
    silent = api.make_case(api.team_b)
    api.post(f"/api/v1/cases/{met.id}/messages", json={"body": "Chào anh, chúng tôi đang xem."})
    api.run(fire_due, datetime.now(UTC) + timedelta(days=2))
    api.post(f"/api/v1/cases/{late.id}/messages", json={"body": "Xin lỗi vì trả lời muộn."})
    return {"met": met.id, "late": late.id, "silent": silent.id}


def _row(html: str, table: str, group: str) -> dict[str, str]:
    """The cells (by data-cell) of one row of a dashboard table."""
    section = html.split(f'data-table="{table}"', 1)[1].split("</table>", 1)[0]
    row = section.split(f'data-group="{group}"', 1)[1].split("</tr>", 1)[0]
    return dict(re.findall(r'data-cell="([\w-]+)">([^<]*)<', row))


def _expected(group: Any) -> dict[str, str]:
    return {
        "cases": str(group.cases),
        "fr-met": str(group.first_response.met),
        "fr-missed": str(group.first_response.missed),
        "res-met": str(group.resolution.met),
        "res-missed": str(group.resolution.missed),
        "backlog": str(sum(group.backlog.values())),
    }


def test_the_dashboard_shows_the_report_apis_numbers(api: Api) -> None:
    # Given SLA data in two teams
    _seed_sla(api)
    start, end = _period(api)
    report: SlaReport = api.run(sla_report, SYSTEM, start, end, GroupBy.TEAM)
    assert report.totals.first_response.met >= 1
    assert report.totals.first_response.missed >= 1
    # When a manager opens the dashboard (last 30 days, by team)
    console_sign_in(api, "manager")
    page = api.client.get("/console/reports")
    # Then every row and the totals are the report's
    assert page.status_code == 200
    for group in [*report.groups, report.totals]:
        cells = _row(page.text, "team", group.key or "")
        assert {k: cells[k] for k in _expected(group)} == _expected(group), group.name
    # and the charts are inline SVG with a title and a description
    assert page.text.count('<svg class="chart"') == 4
    assert '<title id="chart-compliance-title">' in page.text
    assert '<desc id="chart-hist-first_response-desc">' in page.text
    assert "<polyline" in page.text
    assert 'data-kpi="cases">' + str(report.totals.cases) in page.text
    # and the per-day table adds up to the totals
    days = re.findall(r'data-cell="first_response">(\d+) / (\d+)<', page.text)
    assert sum(int(m) for m, _ in days) == report.totals.first_response.met
    assert sum(int(x) for _, x in days) == report.totals.first_response.missed
    # and the at-risk list shows the late cases
    assert 'data-table="at-risk"' in page.text
    assert 'href="/console/at-risk"' in page.text


def test_the_series_add_up_to_the_report_for_a_team(api: Api) -> None:
    _seed_sla(api)
    start, end = _period(api, period="7")
    by_team: SlaReport = api.run(sla_report, SYSTEM, start, end, GroupBy.TEAM)
    row = next(g for g in by_team.groups if g.key == str(api.team_a))

    days = api.run(report_series.compliance_by_day, SYSTEM, start, end, api.team_a)
    histogram = api.run(
        report_series.duration_histogram, SYSTEM, start, end, Metric.FIRST_RESPONSE, api.team_a
    )

    assert len(days) == 7
    assert sum(d.first_response.met for d in days) == row.first_response.met
    assert sum(d.first_response.missed for d in days) == row.first_response.missed
    assert sum(d.resolution.missed for d in days) == row.resolution.missed
    assert sum(d.cases for d in days) == row.cases
    # both answered within seconds of real time (the late one was breached by the sweep)
    assert histogram.total == sum(b.count for b in histogram.buckets) == 2
    assert histogram.buckets[0].count == 2
    assert (histogram.buckets[0].low_hours, histogram.buckets[0].high_hours) == (0, 0.5)
    assert row.first_response.missed == 1


def test_filters_groupings_and_a_bad_period(api: Api) -> None:
    _seed_sla(api)
    console_sign_in(api, "admin")
    by_agent = api.client.get(
        "/console/reports", params={"period": "90", "group": "priority", "team": api.team_a}
    )
    assert by_agent.status_code == 200
    assert 'data-table="priority"' in by_agent.text
    assert "Khẩn cấp" in by_agent.text or "Cao" in by_agent.text
    team_table = by_agent.text.split('data-table="team"', 1)[1].split("</table>", 1)[0]
    assert f'data-group="{api.team_a}"' in team_table
    assert f'data-group="{api.team_b}"' not in team_table
    custom = api.client.get(
        "/console/reports", params={"period": "custom", "start": "2026-01-01", "end": "2026-01-31"}
    )
    assert custom.status_code == 200
    bad = api.client.get(
        "/console/reports", params={"period": "custom", "start": "2026-02-01", "end": "hôm qua"}
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert "not a date" in bad.text


def test_the_csv_download_is_the_reports_csv(api: Api) -> None:
    _seed_sla(api)
    console_sign_in(api, "manager")

    params = {"period": "7", "group": "agent", "lang": "vi"}
    response = api.client.get("/console/reports/sla.csv", params=params)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="sla-agent-')
    start, end = _period(api, period="7")
    report = api.run(sla_report, SYSTEM, start, end, GroupBy.AGENT)
    assert response.text == report_csv(report, "vi")
    # a UTF-8 BOM (Excel on a Vietnamese PC reads UTF-8), then the header in the viewer's language
    assert response.content.startswith(b"\xef\xbb\xbf" + "Nhân viên hỗ trợ,".encode())
    assert response.text.startswith("\ufeffNhân viên hỗ trợ,Tên,Yêu cầu,Phản hồi đầu tiên: Đạt,")
    assert "\r\n" in response.text
    english = api.client.get("/console/reports/sla.csv", params={**params, "lang": "en"})
    assert english.text.startswith("\ufeffAgent,Name,Cases,First response: Met,")


def test_an_admin_adds_and_changes_an_agent(api: Api) -> None:
    token = console_sign_in(api, "admin")
    created = post(
        api, "/console/admin/agents", token, name="Lê Văn Tâm", email="tam@support.test",
        role="agent", capacity="5", skills="billing, vip", languages=["vi", "en"],
        teams=[str(api.team_a), str(api.team_b)],
    )  # fmt: skip
    assert created.status_code == 303
    agent = next(a for a in api.run(agents.list_agents, SYSTEM) if a.email == "tam@support.test")
    assert agent.team_ids == sorted([api.team_a, api.team_b])
    assert (agent.capacity, agent.skills, agent.languages) == (5, ["billing", "vip"], ["vi", "en"])

    url = f"/console/admin/agents/{agent.id}"
    updated = post(
        api, url, token, name="Lê Văn Tâm", role="manager", capacity="7", languages=["vi"],
        teams=[str(api.team_b)], version=shown_version(api, url), confirm_deactivate="yes",
    )  # fmt: skip
    assert updated.status_code == 303
    agent = api.run(agents.get_agent, SYSTEM, agent.id)
    assert (agent.role, agent.capacity, agent.active, agent.team_ids) == (
        "manager", 7, False, [api.team_b]
    )  # fmt: skip
    page = api.client.get(f"/console/admin/agents/{agent.id}")
    assert "Ngoại tuyến" in page.text  # availability is shown

    bad = post(
        api, "/console/admin/agents", token, name="X", email="không-phải-email", role="agent"
    )
    assert bad.status_code == 422
    assert CHECK_FORM in bad.text
    assert 'value="không-phải-email"' in bad.text
    taken = post(api, "/console/admin/agents", token, name="Y", email="tam@support.test")
    assert taken.status_code == 409


def test_an_admin_makes_a_team_with_a_routing_strategy(api: Api) -> None:
    token = console_sign_in(api, "admin")
    data = {
        "name": "Hỗ trợ VIP", "description": "Khách hàng lớn", "strategy": "round_robin",
        "required_skill": "vip", "prefer_case_language": "on",
        "members": [str(api.agent_ids["agent_a"])],
    }  # fmt: skip
    assert post(api, "/console/admin/teams", token, **data).status_code == 303
    team = next(t for t in api.run(teams.list_teams, SYSTEM) if t.name == "Hỗ trợ VIP")
    assert team.member_ids == [api.agent_ids["agent_a"]]
    settings = api.run(routing.get_team_routing, SYSTEM, team.id)
    assert (settings.strategy, settings.required_skill) == (Strategy.ROUND_ROBIN, "vip")

    url = f"/console/admin/teams/{team.id}"
    changed = {
        **data,
        "strategy": "least_loaded",
        "members": [],
        "version": shown_version(api, url),
    }
    assert post(api, url, token, **changed).status_code == 303
    assert api.run(routing.get_team_routing, SYSTEM, team.id).strategy == Strategy.LEAST_LOADED
    assert api.run(teams.get_team, SYSTEM, team.id).member_ids == []

    taken = post(api, "/console/admin/teams", token, name="Team A", strategy="manual")
    assert taken.status_code == 409
    assert "đã được sử dụng" in taken.text
    bad = post(api, "/console/admin/teams", token, name="Mới", strategy="ngẫu nhiên")
    assert bad.status_code == 422
    assert 'value="Mới"' in bad.text


def test_mailbox_passwords_go_in_and_never_come_out(api: Api) -> None:
    token = console_sign_in(api, "admin")
    data = {
        "name": "Hỗ trợ", "address": "hotro@congty.vn", "imap_host": "imap.congty.vn",
        "imap_port": "993", "imap_security": "tls", "imap_user": "hotro",
        "imap_password": "mat-khau-imap-bi-mat", "imap_folder": "INBOX",
        "smtp_port": "587", "smtp_security": "starttls", "team": str(api.team_a),
        "auto_acknowledge": "on", "active": "on",
    }  # fmt: skip
    assert post(api, "/console/admin/mailboxes", token, **data).status_code == 303
    [mailbox] = api.run(mailboxes.list_mailboxes, SYSTEM)
    assert (mailbox.team_id, mailbox.has_imap_password) == (api.team_a, True)
    page = api.client.get(f"/console/admin/mailboxes/{mailbox.id}")
    assert "mat-khau-imap-bi-mat" not in page.text
    assert "hotro@congty.vn" in page.text

    keep = {**data, "name": "Hỗ trợ chung", "imap_password": ""}
    assert post(api, f"/console/admin/mailboxes/{mailbox.id}", token, **keep).status_code == 303
    mailbox = api.run(mailboxes.get_mailbox, SYSTEM, mailbox.id)
    assert (mailbox.name, mailbox.has_imap_password) == ("Hỗ trợ chung", True)

    bad = post(api, "/console/admin/mailboxes", token, **{**data, "address": "b@congty.vn",
                                                          "imap_port": "99999"})  # fmt: skip
    assert bad.status_code == 422
    assert "mat-khau-imap-bi-mat" not in bad.text


def test_routing_rules_are_created_switched_edited_and_deleted(api: Api) -> None:
    token = console_sign_in(api, "admin")
    data = {
        "name": "Hóa đơn", "enabled": "on", "channels": ["email", "web"], "priorities": ["high"],
        "keywords": "hóa đơn, thanh toán", "tags": "billing", "team": str(api.team_b),
        "priority": "urgent", "add_tags": "ke-toan", "languages": ["vi"],
    }  # fmt: skip
    assert post(api, "/console/admin/rules", token, **data).status_code == 303
    [rule] = api.run(routing.list_rules, SYSTEM)
    assert rule.conditions.keywords == ["hóa đơn", "thanh toán"]
    assert (rule.conditions.channels, rule.conditions.priorities) == (["email", "web"], ["high"])
    assert (rule.actions.team_id, rule.actions.priority) == (api.team_b, "urgent")

    off = post(api, f"/console/admin/rules/{rule.id}/enabled", token, enabled="0")
    assert off.status_code == 303
    assert api.run(routing.get_rule, SYSTEM, rule.id).enabled is False
    edited = {**data, "name": "Hóa đơn VAT", "position": "5", "team": ""}
    assert post(api, f"/console/admin/rules/{rule.id}", token, **edited).status_code == 303
    rule = api.run(routing.get_rule, SYSTEM, rule.id)
    assert (rule.name, rule.position, rule.actions.team_id) == ("Hóa đơn VAT", 5, None)

    bad = post(api, "/console/admin/rules", token, name="Sai", team="999999")
    assert bad.status_code == 422
    assert "Nhóm này không còn tồn tại." in bad.text  # a sentence, not the service's detail
    assert "team 999999" not in bad.text
    delete = post(api, f"/console/admin/rules/{rule.id}/delete", token, confirm="yes")
    assert delete.status_code == 303
    assert api.run(routing.list_rules, SYSTEM) == []


def test_sla_policies_take_hours_and_minutes(api: Api) -> None:
    calendar_id = api.run(always_open_calendar)
    token = console_sign_in(api, "admin")
    data = {
        "name": "Khách hàng VIP", "enabled": "on", "warn_percent": "75",
        "calendar": str(calendar_id), "priorities": ["high", "urgent"],
        "t_high_first_response_h": "2", "t_high_first_response_m": "30",
        "t_high_resolution_h": "16", "t_urgent_first_response_m": "45",
        "at_risk_notify": "on", "breached_raise": "on", "breached_team": str(api.team_b),
    }  # fmt: skip
    assert post(api, "/console/admin/sla/policies", token, **data).status_code == 303
    [policy] = api.run(sla.list_policies, SYSTEM)
    high, urgent = policy.targets[Priority.HIGH], policy.targets[Priority.URGENT]
    assert high.first_response == timedelta(hours=2, minutes=30)
    assert high.resolution == timedelta(hours=16)
    assert (urgent.first_response, urgent.resolution) == (timedelta(minutes=45), None)
    assert Priority.LOW not in policy.targets
    assert (policy.warn_percent, policy.calendar_id) == (75, calendar_id)
    assert policy.escalation.breached.move_to_team_id == api.team_b
    assert policy.escalation.at_risk.raise_priority is False

    changed = {**data, "name": "VIP", "t_high_first_response_h": "1", "calendar": ""}
    changed.pop("enabled")
    assert (
        post(api, f"/console/admin/sla/policies/{policy.id}", token, **changed).status_code == 303
    )
    policy = api.run(sla.get_policy, SYSTEM, policy.id)
    assert (policy.name, policy.enabled, policy.calendar_id) == ("VIP", False, None)
    assert policy.targets[Priority.HIGH].first_response == timedelta(hours=1, minutes=30)

    bad = post(api, "/console/admin/sla/policies", token, name="Sai", t_low_resolution_m="75")
    assert bad.status_code == 422
    assert 'data-error-for="t_low_resolution_m">Nhập một số nguyên từ 0 đến 59.' in bad.text
    assert 'value="75"' in bad.text


def test_a_business_calendar_form_and_its_validation_message(api: Api) -> None:
    token = console_sign_in(api, "admin")
    office = "08:00-12:00, 13:30-17:30"
    data = {
        **{f"hours_{d}": office for d in ("mon", "tue", "wed", "thu", "fri")},
        "name": "Hà Nội", "timezone": "Asia/Ho_Chi_Minh", "country": "vn",
        "official_makeup_days": "on", "closed_dates": "2027-01-04\n2027-01-05",
        "makeup_days": "2027-01-09\n2027-01-16 08:00-12:00",
    }  # fmt: skip
    assert post(api, "/console/admin/sla/calendars", token, **data).status_code == 303
    [calendar] = api.run(sla.list_calendars, SYSTEM)
    definition = calendar.definition
    assert definition["hours"]["mon"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "13:30", "end": "17:30"},
    ]
    assert definition["hours"]["sat"] == []
    assert definition["country"] == "VN"
    assert definition["closed_dates"] == ["2027-01-04", "2027-01-05"]
    assert definition["makeup_days"][1]["periods"] == [{"start": "08:00", "end": "12:00"}]
    page = api.client.get(f"/console/admin/sla/calendars/{calendar.id}")
    assert "16/01/2027 08:00-12:00" in page.text  # dates shown back as dd/mm/yyyy

    bad = post(api, f"/console/admin/sla/calendars/{calendar.id}", token,
               **{**data, "hours_mon": "17:00-08:00"})  # fmt: skip
    assert bad.status_code == 422
    assert 'data-error-for="hours_mon">Có khoảng thời gian kết thúc trước khi bắt đầu.' in bad.text
    assert 'value="17:00-08:00"' in bad.text
    unknown_zone = post(
        api, "/console/admin/sla/calendars", token, **{**data, "timezone": "Sao Hỏa"}
    )
    assert unknown_zone.status_code == 422
    assert "Múi giờ không xác định" in unknown_zone.text

    api.run(partial(make_policy, calendar_id=calendar.id))
    in_use = post(api, f"/console/admin/sla/calendars/{calendar.id}/delete", token, confirm="yes")
    assert in_use.status_code == 409
    assert "đã được sử dụng" in in_use.text


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("agent_a", [], ["/console/reports", "/console/admin/agents", "/console/admin/rules"]),
        ("manager", ["/console/reports", "/console/admin/sla/policies"], ["/console/admin/rules"]),
        ("admin", ["/console/reports", "/console/admin/rules", "/console/admin/mailboxes"], []),
    ],
)
def test_the_manage_links_follow_the_policy(
    api: Api, role: str, shown: list[str], hidden: list[str]
) -> None:
    console_sign_in(api, role)
    nav = api.client.get("/console/").text.split('class="queues"', 1)[1].split("</nav>", 1)[0]
    assert all(f'href="{link}"' in nav for link in shown)
    assert not any(f'href="{link}"' in nav for link in hidden)


def test_managers_read_the_settings_without_forms_to_change_them(api: Api) -> None:
    api.run(
        mailboxes.create_mailbox,
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ",
            address="hotro@congty.vn",
            imap_host="imap.congty.vn",
            imap_user="hotro",
            imap_password="bi-mat",
        ),
    )
    token = console_sign_in(api, "manager")
    page = api.client.get(f"/console/admin/agents/{api.agent_ids['agent_a']}")
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text
    assert "chỉ quản trị viên mới thay đổi được" in page.text
    team = api.client.get(f"/console/admin/teams/{api.team_a}")
    assert team.status_code == 200
    assert 'name="strategy"' not in team.text  # a team's routing is for administrators
    refused = post(api, f"/console/admin/teams/{api.team_a}", token, name="Đổi tên")
    assert refused.status_code == 403
    assert api.client.get("/console/admin/mailboxes").status_code == 403


def test_the_dashboard_shows_satisfaction_and_deflection(api: Api) -> None:
    # Given a solved case rated 4 by its customer
    from helpdesk.domain import Status
    from helpdesk.schemas import CaseUpdate
    from helpdesk.services import cases, customers, surveys

    case = api.make_case(api.team_a)
    current = api.run(cases.get_case, SYSTEM, case.id)
    solve = CaseUpdate(version=current.version, status=Status.SOLVED)
    api.run(cases.update_case, SYSTEM, case.id, solve)
    customer = api.run(customers.principal_for_customer, case.customer_id)
    api.run(surveys.answer_survey, customer, case.id, 4, "Nhanh")
    summary = api.run(surveys.survey_summary, SYSTEM, *_period(api, period="7"))
    # When a manager opens the dashboard
    console_sign_in(api, "manager")
    page = api.client.get("/console/reports", params={"period": "7"})
    # Then both sections are there, with the report's figures
    assert page.status_code == 200
    assert "Mức độ hài lòng của khách hàng" in page.text
    assert summary.count >= 1
    assert f"{summary.count} lượt đánh giá" in page.text
    assert "Yêu cầu được giải đáp nhờ cơ sở tri thức" in page.text
