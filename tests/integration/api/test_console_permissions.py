"""The agent console's permission matrix: every role × every console page and action.

Roles as in the API matrix: anonymous, an agent of team A, an agent of team B,
a manager and an admin, each signed in through the console's own form. Each
cell gets fresh objects (a new case of team A, a new macro, …). Expected:

* anonymous: 302 to the sign-in page, everywhere;
* a case (or attachment) of team A: 404 for the agent of team B, as in the API;
* the macro pages: 403 for agents, managers and admins may;
* a successful POST: 303 back to a page.

The console decides nothing itself: every answer below comes from
:mod:`helpdesk.policy`, through the domain services;
:func:`test_the_console_has_no_role_checks_of_its_own` keeps it that way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpdesk.domain import Channel, Role
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AgentUpdate, AttachmentIn, MacroIn, MessageIn
from helpdesk.services import agent_profile, agents, api_tokens, macros, messages, saved_views
from helpdesk.services.saved_views import ViewIn
from tests.integration.api import _console_manage_setup as manage
from tests.integration.api import _kb_editor_setup as kb
from tests.integration.api import _notifications_setup as notifications
from tests.integration.api import _people_setup as people
from tests.integration.api.conftest import ROLES, Api

PASSWORD = "mat-khau-console-1"
_seq = itertools.count(1)

Setup = Callable[[Api], dict[str, Any]]
FormData = Callable[[Api, dict[str, Any]], dict[str, str]]


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    # anonymous, agent_a (team A), agent_b (team B), manager, admin
    expect: tuple[int, int, int, int, int]
    setup: Setup | None = None
    form: FormData | None = None


def _case(api: Api) -> dict[str, Any]:
    return {"case": api.make_case(api.team_a).id}


def _attachment(api: Api) -> dict[str, Any]:
    case_id = api.make_case(api.team_a).id
    files = [AttachmentIn(filename="hóa đơn.pdf", content=b"%PDF-1.4")]
    message = api.run(messages.add_note, SYSTEM, case_id, MessageIn(body="x", attachments=files))
    return {"attachment": message.attachments[0].id}


def _macro(api: Api) -> dict[str, Any]:
    data = MacroIn(name=f"Mẫu {next(_seq)}", body="Chào {{customer_name}}")
    return {"macro": api.run(macros.create_macro, SYSTEM, data).id}


def _token(api: Api) -> dict[str, Any]:
    token = api.run(api_tokens.create_token, SYSTEM, api.agent_ids["agent_a"], "console matrix")
    return {"token": token.id}


def _chat(api: Api) -> dict[str, Any]:
    return {"case": api.make_case(api.team_a, channel=Channel.CHAT).id}


def _view(api: Api) -> dict[str, Any]:
    owner = Principal(kind="agent", id=api.agent_ids["agent_a"], role=Role.AGENT)
    view = api.run(saved_views.create_view, owner, ViewIn(name=f"Của A {next(_seq)}"))
    return {"view": view.id}


def _avatar(api: Api) -> dict[str, Any]:
    agent_id = api.agent_ids["agent_a"]
    principal = Principal(kind="agent", id=agent_id, role=Role.AGENT)
    api.run(agent_profile.set_avatar, principal, b"\x89PNG\r\n\x1a\n" + bytes(16))
    return {"agent": agent_id}


def _form(**values: Any) -> FormData:
    return lambda api, params: {
        k: str(v(api, params) if callable(v) else v) for k, v in values.items()
    }


PAGE = (302, 200, 200, 200, 200)
TEAM_A_PAGE = (302, 200, 404, 200, 200)
TEAM_A_ACTION = (302, 303, 404, 303, 303)
MANAGERS_PAGE = (302, 403, 403, 200, 200)
MANAGERS_ACTION = (302, 403, 403, 303, 303)
ADMINS_PAGE = (302, 403, 403, 403, 200)
ADMINS_ACTION = (302, 403, 403, 403, 303)
EVERYONE_ACTION = (302, 303, 303, 303, 303)
MESSAGE = _form(body="Xin chào")

MATRIX: list[Page] = [
    Page("GET", "/console/login", (200, 302, 302, 302, 302)),
    Page("GET", "/console/", PAGE),
    Page("GET", "/console/queues/mine", PAGE),
    Page("GET", "/console/queues/team", PAGE),
    Page("GET", "/console/queues/unassigned", PAGE),
    Page("GET", "/console/queues/all?status=any&sort=created", PAGE),
    Page("GET", "/console/queues/nope", (302, 404, 404, 404, 404)),
    Page("GET", "/console/search?q=HD-1&status=any&page=x", PAGE),
    Page("GET", "/console/cases/{case}", TEAM_A_PAGE, _case),
    Page("GET", "/console/cases/{case}", PAGE, lambda api: {"case": api.make_case(None).id}),
    Page("GET", "/console/cases/2147483647", (302, 404, 404, 404, 404)),
    Page("GET", "/console/at-risk", PAGE),
    # people pages: every member of staff reads and edits customers; merging is for managers
    Page("GET", "/console/customers/{customer}", PAGE, people.new_customer),
    Page("POST", "/console/customers/{customer}", EVERYONE_ACTION, people.new_customer,
         _form(name="Khách", phone="0903 000 111", locale="vi", notes="Ghi chú")),
    Page("POST", "/console/customers/{customer}/addresses", EVERYONE_ACTION, people.new_customer,
         _form(address=manage.unique("them@matran.vn.x"))),
    Page("POST", "/console/customers/{customer}/addresses/remove", EVERYONE_ACTION,
         people.new_customer, people.remove_form),
    Page("POST", "/console/customers/{customer}/merge", MANAGERS_ACTION, people.two_customers,
         people.merge_form),
    Page("GET", "/console/organizations?q=c", PAGE),
    Page("GET", "/console/organizations/{organization}", PAGE, people.new_organization),
    Page("POST", "/console/organizations/{organization}", EVERYONE_ACTION,
         people.new_organization, _form(name="Công ty", domains="", notes="Khách lớn")),
    Page("GET", "/console/cases/new?q=khach", PAGE),
    Page("POST", "/console/cases/new", EVERYONE_ACTION, None, people.new_case_form),
    Page("GET", "/console/kb/search?q=mat+khau", PAGE),
    Page("GET", "/console/kb/search?case={case}", TEAM_A_PAGE, _case),
    Page("GET", "/console/attachments/{attachment}", TEAM_A_PAGE, _attachment),
    Page("GET", "/console/attachments/{attachment}/view", TEAM_A_PAGE, _attachment),
    Page("POST", "/console/cases/{case}/preview", TEAM_A_PAGE, _case, _form(body="**x**")),
    Page("POST", "/console/cases/{case}/reply", TEAM_A_ACTION, _case, MESSAGE),
    Page("POST", "/console/cases/{case}/note", TEAM_A_ACTION, _case, MESSAGE),
    Page("POST", "/console/cases/{case}/take", TEAM_A_ACTION, _case, _form()),
    Page(
        "POST",
        "/console/cases/{case}/assign",
        TEAM_A_ACTION,
        _case,
        _form(assignee=lambda api, params: api.agent_ids["agent_a"]),
    ),
    Page(
        "POST",
        "/console/cases/{case}/update",
        TEAM_A_ACTION,
        _case,
        _form(version=1, status="open", priority="high", team=lambda a, p: a.team_a, tags="vip"),
    ),
    Page(
        "POST",
        "/console/cases/{case}/merge",
        TEAM_A_ACTION,
        _case,
        _form(target=lambda api, params: api.make_case(api.team_a).reference),
    ),
    Page("POST", "/console/availability", EVERYONE_ACTION, None, _form(availability="away")),
    Page("GET", "/console/profile", PAGE),
    # notifications: each agent their own (a notification of agent A opens for A alone)
    Page("GET", "/console/notifications?page=2", PAGE),
    Page("GET", "/console/notifications/count", PAGE),
    Page("GET", "/console/notifications/{notification}/open", (302, 303, 404, 404, 404),
         notifications.new_notification),
    Page("POST", "/console/notifications/read-all", EVERYONE_ACTION, None, _form()),
    Page("GET", "/console/notifications/settings", PAGE),
    Page("POST", "/console/notifications/settings", EVERYONE_ACTION, None,
         _form(**{"assigned.console": "on", "mentioned.email": "on"})),
    Page(
        "POST",
        "/console/profile/password",
        EVERYONE_ACTION,
        None,
        _form(current_password=PASSWORD, new_password=PASSWORD, confirm_password=PASSWORD),
    ),
    Page("POST", "/console/profile/signature", EVERYONE_ACTION, None, _form(signature="*Lan*")),
    Page("POST", "/console/profile/details", EVERYONE_ACTION, None, _form(name="Lan", locale="vi")),
    Page("POST", "/console/profile/avatar", EVERYONE_ACTION, None, _form()),
    Page("POST", "/console/profile/avatar/remove", EVERYONE_ACTION, None, _form()),
    Page("GET", "/console/agents/{agent}/avatar", PAGE, _avatar),
    # the lists: a bulk change answers everyone (each case is checked on its own); a personal
    # view is its owner's (agent A) alone
    Page("POST", "/console/cases/bulk", EVERYONE_ACTION, _case, _form(case=lambda a, p: p["case"],
         priority="high", next="/console/queues/all")),
    Page("POST", "/console/views", EVERYONE_ACTION, None,
         _form(name=lambda a, p: f"Xem {next(_seq)}", queue="all", status="any")),
    Page("GET", "/console/views/{view}", (302, 303, 404, 404, 404), _view),
    Page("POST", "/console/views/{view}/update", (302, 303, 404, 404, 404), _view,
         _form(status="pending")),
    Page("POST", "/console/views/{view}/delete", (302, 303, 404, 404, 404), _view,
         _form(confirm="yes")),
    # the chat desk: a chat of team A, as any case of team A
    Page("GET", "/console/chats?open=1,2", PAGE),
    Page("GET", "/console/chats/{case}/thread", TEAM_A_PAGE, _chat),
    Page("POST", "/console/chats/{case}/say", TEAM_A_PAGE, _chat, _form(text="Dạ")),
    Page("POST", "/console/chats/{case}/take", TEAM_A_ACTION, _chat, _form(open="1")),
    # a token of agent A: only agent A revokes it here (admins do it through the API)
    Page("POST", "/console/profile/tokens/{token}/revoke", (302, 303, 404, 404, 404), _token),
    Page("GET", "/console/macros", MANAGERS_PAGE),
    Page("GET", "/console/macros/{macro}", MANAGERS_PAGE, _macro),
    Page(
        "POST",
        "/console/macros",
        MANAGERS_ACTION,
        None,
        _form(name=lambda api, params: f"Mới {next(_seq)}", body="Chào {{customer_name}}"),
    ),
    Page("POST", "/console/macros/{macro}", MANAGERS_ACTION, _macro, _form(name="Mẫu", body="x")),
    Page("POST", "/console/macros/{macro}/delete", MANAGERS_ACTION, _macro, _form()),
    # the SLA dashboard and the settings pages: managers read, admins change
    Page("GET", "/console/reports?period=7&group=agent", MANAGERS_PAGE),
    Page("GET", "/console/reports/sla.csv?period=90&group=priority", MANAGERS_PAGE),
    Page("GET", "/console/admin/agents", MANAGERS_PAGE),
    Page("GET", "/console/admin/agents/{agent}", MANAGERS_PAGE, manage.new_agent),
    Page("POST", "/console/admin/agents", ADMINS_ACTION, None,
         _form(name="Tâm", email=manage.unique("moi@"), role="agent")),
    Page("POST", "/console/admin/agents/{agent}", ADMINS_ACTION, manage.new_agent,
         _form(name="Tâm", role="agent", capacity=5, active="on", version=manage.shown_version)),
    Page("GET", "/console/admin/teams", MANAGERS_PAGE),
    Page("GET", "/console/admin/teams/{team}", MANAGERS_PAGE, manage.new_team),
    Page("POST", "/console/admin/teams", ADMINS_ACTION, None,
         _form(name=manage.unique("Nhóm "), strategy="manual")),
    Page("POST", "/console/admin/teams/{team}", ADMINS_ACTION, manage.new_team,
         _form(name=manage.unique("Nhóm "), strategy="round_robin",
               version=manage.shown_version)),
    Page("GET", "/console/admin/mailboxes", ADMINS_PAGE),
    Page("GET", "/console/admin/mailboxes/{mailbox}", ADMINS_PAGE, manage.new_mailbox),
    Page("POST", "/console/admin/mailboxes", ADMINS_ACTION, None,
         _form(name="Hộp thư", address=manage.unique("hop@"), imap_host="imap.vn", imap_user="a")),
    Page("POST", "/console/admin/mailboxes/{mailbox}", ADMINS_ACTION, manage.new_mailbox,
         _form(name="Đổi tên", imap_host="imap.vn", imap_user="a", active="on")),
    # test connection: a page with the result (port 1 on loopback refuses at once)
    Page("POST", "/console/admin/mailboxes/test/smtp", ADMINS_PAGE, None,
         _form(smtp_host="127.0.0.1", smtp_port=1, smtp_security="plain")),
    Page("POST", "/console/admin/mailboxes/{mailbox}/test/imap", ADMINS_PAGE, manage.new_mailbox,
         _form(imap_host="127.0.0.1", imap_port=1, imap_security="plain", imap_user="a")),
    Page("GET", "/console/admin/rules", ADMINS_PAGE),
    Page("GET", "/console/admin/rules/{rule}", ADMINS_PAGE, manage.new_rule),
    Page("POST", "/console/admin/rules", ADMINS_ACTION, None,
         _form(name="Quy tắc", channels="email")),
    Page("POST", "/console/admin/rules/{rule}", ADMINS_ACTION, manage.new_rule,
         _form(name="Quy tắc", enabled="on")),
    Page("POST", "/console/admin/rules/{rule}/enabled", ADMINS_ACTION, manage.new_rule,
         _form(enabled="0")),
    Page("POST", "/console/admin/rules/{rule}/delete", ADMINS_ACTION, manage.new_rule, _form()),
    Page("GET", "/console/admin/sla/policies", MANAGERS_PAGE),
    Page("GET", "/console/admin/sla/policies/{policy}", MANAGERS_PAGE, manage.new_policy),
    Page("POST", "/console/admin/sla/policies", ADMINS_ACTION, None,
         _form(name="Chính sách", t_high_first_response_h=4)),
    Page("POST", "/console/admin/sla/policies/{policy}", ADMINS_ACTION, manage.new_policy,
         _form(name="Đổi tên", enabled="on")),
    Page("POST", "/console/admin/sla/policies/{policy}/delete", ADMINS_ACTION, manage.new_policy,
         _form()),
    Page("GET", "/console/admin/sla/calendars", MANAGERS_PAGE),
    Page("GET", "/console/admin/sla/calendars/{calendar}", MANAGERS_PAGE, manage.new_calendar),
    Page("POST", "/console/admin/sla/calendars", ADMINS_ACTION, None,
         _form(name=manage.unique("Lịch "), hours_mon="08:00-17:00", country="VN")),
    Page("POST", "/console/admin/sla/calendars/{calendar}", ADMINS_ACTION, manage.new_calendar,
         _form(name=manage.unique("Lịch "), hours_mon="08:00-17:00")),
    Page("POST", "/console/admin/sla/calendars/{calendar}/delete", ADMINS_ACTION,
         manage.new_calendar, _form()),
    # the knowledge-base editor: staff write drafts; managers publish, delete, manage categories
    Page("GET", "/console/kb/articles?status=draft&category=x&q=bai", PAGE),
    Page("GET", "/console/kb/articles/new", PAGE),
    Page("POST", "/console/kb/articles", EVERYONE_ACTION, None, _form(title="Bài", locale="vi")),
    Page("GET", "/console/kb/articles/{article}", PAGE, kb.new_article),
    Page("POST", "/console/kb/articles/{article}", EVERYONE_ACTION, kb.new_article,
         _form(version=2, title="Đổi tên")),
    Page("POST", "/console/kb/articles/{article}/publish", MANAGERS_ACTION, kb.new_article,
         _form(version=2)),
    Page("POST", "/console/kb/articles/{article}/unpublish", MANAGERS_ACTION, kb.new_article,
         _form(version=2)),
    Page("POST", "/console/kb/articles/{article}/delete", MANAGERS_ACTION, kb.new_article,
         _form(confirm="yes")),
    Page("GET", "/console/kb/articles/{article}/history", PAGE, kb.new_article),
    Page("GET", "/console/kb/articles/{article}/history/1", PAGE, kb.new_article),
    Page("POST", "/console/kb/articles/{article}/history/1/restore", EVERYONE_ACTION,
         kb.new_article, _form(version=2)),
    Page("GET", "/console/kb/categories", PAGE),
    Page("POST", "/console/kb/categories", MANAGERS_ACTION, None, _form(name_vi="Mục")),
    Page("POST", "/console/kb/categories/{category}", MANAGERS_ACTION, kb.new_category,
         _form(name_vi="Mục", position=1)),
    Page("POST", "/console/kb/categories/{category}/delete", MANAGERS_ACTION, kb.new_category,
         _form(confirm="yes")),
    Page("POST", "/console/logout", (303,) * 5, None, _form()),  # keep it last
]  # fmt: skip

CSRF = re.compile(r'name="_csrf" value="([0-9a-f]{64})"')


def csrf_token(api: Api, path: str = "/console/login") -> str:
    """The CSRF token of the client's current session, from a page's forms."""
    response = api.client.get(path)
    match = CSRF.search(response.text)
    assert match, response.text[:500]
    return match.group(1)


def console_sign_in(api: Api, role: str) -> str:
    """Sign ``role`` in through the form (a password is set first); returns the
    session's CSRF token. Anonymous only gets a visitor's session."""
    api.client.cookies.clear()
    if role == "anonymous":
        return csrf_token(api)
    agent_id = api.agent_ids[role]
    api.run(agents.update_agent, SYSTEM, agent_id, AgentUpdate(password=PASSWORD))
    form = {"email": f"{role}@support.test", "password": PASSWORD, "_csrf": csrf_token(api)}
    response = api.client.post("/console/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return csrf_token(api, "/console/")


def test_the_matrix_covers_every_console_route(api: Api) -> None:
    routes = {
        (method, route.path)
        for route in api.app.routes
        if route.path.startswith("/console")
        for method in getattr(route, "http_methods", ())
        if method not in ("HEAD", "OPTIONS")
    }
    placeholders = {
        "{case}": "{case_id:int}",
        "{customer}": "{customer_id:int}",
        "{organization}": "{organization_id:int}",
        "{attachment}": "{attachment_id:int}",
        "{macro}": "{macro_id:int}",
        "{agent}": "{agent_id:int}",
        "{team}": "{team_id:int}",
        "{mailbox}": "{mailbox_id:int}",
        "{rule}": "{rule_id:int}",
        "{policy}": "{policy_id:int}",
        "{calendar}": "{calendar_id:int}",
        "{article}": "{article_id:int}",
        "{category}": "{category_id:int}",
        "/history/1": "/history/{version:int}",
        "{token}": "{token_id:int}",
        "{notification}": "{notification_id:int}",
        "{view}": "{view_id:int}",
        "/queues/mine": "/queues/{name:str}",
        "/cases/2147483647": "/cases/{case_id:int}",
    }
    tested = set()
    for page in MATRIX:
        path = page.path.split("?")[0]
        for ours, theirs in placeholders.items():
            path = path.replace(ours, theirs)
        tested.add((page.method, path.rstrip("/") or "/"))
    assert {(m, p.rstrip("/") or "/") for m, p in routes} <= tested


@pytest.mark.parametrize("role", ROLES)
def test_console_permission_matrix(api: Api, role: str) -> None:
    column = ROLES.index(role)
    token = console_sign_in(api, role)
    mismatches: dict[str, tuple[int, int, str]] = {}
    for page in MATRIX:
        params = page.setup(api) if page.setup else {}
        url = page.path.format(**params)
        if page.method == "GET":
            response = api.client.get(url, follow_redirects=False)
        else:
            data = {**(page.form(api, params) if page.form else {}), "_csrf": token}
            response = api.client.post(url, data=data, follow_redirects=False)
        expected = page.expect[column]
        if response.status_code != expected:
            mismatches[f"{page.method} {page.path}"] = (
                expected,
                response.status_code,
                response.text[:200],
            )
        if expected == 302 and role == "anonymous":
            assert response.headers["location"].startswith("/console/login")
    assert mismatches == {}


def test_the_console_has_no_role_checks_of_its_own() -> None:
    """Who may do what is decided by helpdesk.policy alone: no console code or
    template compares roles (showing a role's name is fine)."""
    root = Path(__file__).resolve().parents[3] / "agent_console"
    role_check = re.compile(r"role\s*(==|!=|\bin\b|\bnot in\b)|Role\.(AGENT|MANAGER|ADMIN)")
    offenders = [
        f"{path.relative_to(root)}: {line.strip()}"
        for path in [*root.rglob("*.py"), *root.rglob("*.html")]
        if path.name != "_labels.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if role_check.search(line)
    ]
    assert offenders == []
