"""The permission matrix: every role × every endpoint, with the exact status.

Each cell gets fresh objects (a new case of team A, a new customer, …), so
cells do not depend on each other. A case of team A is invisible to the agent
of team B: every case endpoint answers 404 to them, as if it did not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.domain import Priority, Role
from helpdesk.policy import SYSTEM, Principal
from helpdesk.routing import services as routing
from helpdesk.routing.rules import RuleActions
from helpdesk.routing.schemas import RuleIn
from helpdesk.schemas import (
    AgentIn,
    AttachmentIn,
    CustomerIn,
    MessageIn,
    OrganizationIn,
    TeamIn,
)
from helpdesk.services import (
    agents,
    api_tokens,
    customers,
    messages,
    organizations,
    saved_views,
    teams,
)
from helpdesk.services.saved_views import ViewIn
from helpdesk.sla import services as sla
from helpdesk.sla.schemas import CalendarIn, PolicyIn
from knowledge_base import categories as kb_categories
from knowledge_base import services as kb_services
from knowledge_base.schemas import ArticleIn, ArticleStatus, CategoryIn
from tests.integration.api.conftest import ROLES, Api

_seq = itertools.count(1)

Setup = Callable[[Api], tuple[dict[str, Any], Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    # anonymous, agent_a (team A), agent_b (team B), manager, admin
    expect: tuple[int, int, int, int, int]
    setup: Setup | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _case(api: Api) -> dict[str, Any]:
    return {"case": api.make_case(api.team_a).id}


def _customer(api: Api) -> int:
    n = next(_seq)
    data = CustomerIn(name=f"Khách {n}", emails=[f"matrix{n}@example.vn"])
    return api.run(customers.create_customer, SYSTEM, data).id


def _customer_merge(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two customers (of no organization) and the body that merges, confirmed."""
    source, target = _customer(api), _customer(api)
    return {"customer": source}, {"target_id": target, "confirm_customers": [source, target]}


def _organization(api: Api) -> int:
    data = OrganizationIn(name=f"Org {next(_seq)}")
    return api.run(organizations.create_organization, SYSTEM, data).id


def _agent(api: Api) -> int:
    n = next(_seq)
    data = AgentIn(name=f"Staff {n}", email=f"staff{n}@support.test")
    return api.run(agents.create_agent, SYSTEM, data).id


def _spare_token(api: Api) -> dict[str, Any]:
    agent_id = api.agent_ids["agent_a"]
    token = api.run(api_tokens.create_token, SYSTEM, agent_id, "spare")
    return {"agent": agent_id, "token": token.id}


def _team(api: Api) -> int:
    return api.run(teams.create_team, SYSTEM, TeamIn(name=f"Team {next(_seq)}")).id


def _attachment(api: Api) -> dict[str, Any]:
    case_id = api.make_case(api.team_a).id
    note = MessageIn(body="x", attachments=[AttachmentIn(filename="a.txt", content=b"abc")])
    message = api.run(messages.add_note, SYSTEM, case_id, note)
    return {"attachment": message.attachments[0].id}


def _mailbox_body() -> dict[str, Any]:
    n = next(_seq)
    return {
        "name": f"Box {n}",
        "address": f"box{n}@support.test",
        "imap_host": "127.0.0.1",
        "imap_user": "u",
        "imap_password": "p",
    }


def _mailbox(api: Api) -> int:
    return api.run(mailboxes.create_mailbox, SYSTEM, msgspec.convert(_mailbox_body(), MailboxIn)).id


def _rule(api: Api) -> int:
    data = RuleIn(name=f"Rule {next(_seq)}", actions=RuleActions(priority=Priority.HIGH))
    return api.run(routing.create_rule, SYSTEM, data).id


def _kb_category(api: Api) -> dict[str, Any]:
    data = CategoryIn(name_vi=f"Danh mục {next(_seq)}")
    return {"kb_category": api.run(kb_categories.create_category, SYSTEM, data).id}


def _kb_article(api: Api, status: ArticleStatus = ArticleStatus.DRAFT) -> dict[str, Any]:
    data = ArticleIn(title=f"Bài viết {next(_seq)}", body="Khách hàng", status=status)
    return {"kb_article": api.run(kb_services.create_article, SYSTEM, data).id}


def _calendar_body() -> dict[str, Any]:
    day = [{"start": "08:00", "end": "17:00"}]
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), day) | {"sat": [], "sun": []}
    return {"name": f"Giờ hành chính {next(_seq)}", "definition": {"hours": hours}}


def _calendar(api: Api) -> int:
    data = msgspec.convert(_calendar_body(), CalendarIn)
    return api.run(sla.create_calendar, SYSTEM, data).id


def _policy(api: Api) -> int:
    data = PolicyIn(name=f"SLA {next(_seq)}", targets={})
    return api.run(sla.create_policy, SYSTEM, data).id


def _view_body() -> dict[str, Any]:
    return {"name": f"Chế độ xem {next(_seq)}", "definition": {"queue": "mine"}}


def _view(api: Api) -> dict[str, Any]:
    owner = Principal(kind="agent", id=api.agent_ids["agent_a"], role=Role.AGENT)
    view = api.run(saved_views.create_view, owner, msgspec.convert(_view_body(), ViewIn))
    return {"view": view.id}


def _with_body(params: Callable[[Api], dict[str, Any]], body: Any = None) -> Setup:
    return lambda api: (params(api), body(api) if callable(body) else body)


POLICY = _with_body(lambda a: {"policy": _policy(a)})


MESSAGE = {"body": "Xin chào"}
ALL_200 = (401, 200, 200, 200, 200)
ALL_201 = (401, 201, 201, 201, 201)
TEAM_A_CASE = (401, 200, 404, 200, 200)
TEAM_A_CASE_CREATED = (401, 201, 404, 201, 201)
ADMIN_ONLY = (401, 403, 403, 403, 200)
MANAGERS = (401, 403, 403, 200, 200)
OWNER_A = (401, 200, 404, 404, 404)
PERIOD = "start=2026-01-01T00:00:00%2B07:00&end=2026-02-01T00:00:00%2B07:00"

MATRIX: list[Endpoint] = [
    # cases
    Endpoint(
        "POST",
        "/cases",
        ALL_201,
        _with_body(
            lambda api: {},
            lambda api: {
                "subject": "Hỏi giá",
                "body": "Bao nhiêu tiền?",
                "customer_email": f"c{next(_seq)}@example.vn",
                "team_id": api.team_a,
            },
        ),
    ),
    Endpoint("GET", "/cases", ALL_200),
    Endpoint("GET", "/cases/{case}", TEAM_A_CASE, _with_body(_case, None)),
    Endpoint(
        "PATCH", "/cases/{case}", TEAM_A_CASE, _with_body(_case, {"version": 1, "priority": "high"})
    ),
    Endpoint("GET", "/cases/{case}/messages", TEAM_A_CASE, _with_body(_case, None)),
    Endpoint("POST", "/cases/{case}/messages", TEAM_A_CASE_CREATED, _with_body(_case, MESSAGE)),
    Endpoint(
        "POST", "/cases/{case}/customer-messages", TEAM_A_CASE_CREATED, _with_body(_case, MESSAGE)
    ),
    Endpoint("POST", "/cases/{case}/notes", TEAM_A_CASE_CREATED, _with_body(_case, MESSAGE)),
    Endpoint(
        "POST",
        "/cases/{case}/assign",
        TEAM_A_CASE,
        _with_body(
            _case, lambda api: {"assignee_id": api.agent_ids["agent_a"], "only_if_unassigned": True}
        ),
    ),
    Endpoint(
        "POST",
        "/cases/{case}/merge",
        TEAM_A_CASE,
        _with_body(_case, lambda api: {"target_id": api.make_case(api.team_a).id}),
    ),
    Endpoint("GET", "/cases/{case}/audit", TEAM_A_CASE, _with_body(_case, None)),
    Endpoint("GET", "/cases/{case}/mails", TEAM_A_CASE, _with_body(_case, None)),
    Endpoint("GET", "/attachments/{attachment}", TEAM_A_CASE, _with_body(_attachment, None)),
    # bulk changes: every caller gets an answer; what changes is decided case by case
    Endpoint(
        "POST",
        "/cases/bulk",
        ALL_200,
        _with_body(
            lambda a: {}, lambda api: {"case_ids": [_case(api)["case"]], "priority": "high"}
        ),
    ),
    # saved views: a personal view is its owner's (agent A) alone
    Endpoint("GET", "/views", ALL_200),
    Endpoint("POST", "/views", ALL_201, _with_body(lambda a: {}, lambda a: _view_body())),
    Endpoint("GET", "/views/{view}", OWNER_A, _with_body(_view, None)),
    Endpoint("PATCH", "/views/{view}", OWNER_A, _with_body(_view, {"name": "Đổi tên"})),
    Endpoint("DELETE", "/views/{view}", (401, 204, 404, 404, 404), _with_body(_view, None)),
    Endpoint("GET", "/views/{view}/cases", OWNER_A, _with_body(_view, None)),
    # customers
    Endpoint(
        "POST",
        "/customers",
        ALL_201,
        _with_body(
            lambda api: {},
            lambda api: {"name": "Mới", "emails": [f"new{next(_seq)}@example.vn"]},
        ),
    ),
    Endpoint("GET", "/customers", ALL_200),
    Endpoint(
        "GET",
        "/customers/{customer}",
        ALL_200,
        _with_body(lambda a: {"customer": _customer(a)}, None),
    ),
    Endpoint(
        "PATCH",
        "/customers/{customer}",
        ALL_200,
        _with_body(lambda a: {"customer": _customer(a)}, {"phone": "0900"}),
    ),
    Endpoint(
        "GET",
        "/customers/{customer}/360",
        ALL_200,
        _with_body(lambda a: {"customer": _customer(a)}, None),
    ),
    Endpoint(
        "POST",
        "/customers/{customer}/merge",
        (401, 403, 403, 200, 200),
        lambda a: _customer_merge(a),
    ),
    # organizations
    Endpoint("POST", "/organizations", ALL_201, _with_body(lambda a: {}, {"name": "ACME"})),
    Endpoint("GET", "/organizations", ALL_200),
    Endpoint(
        "GET",
        "/organizations/{org}",
        ALL_200,
        _with_body(lambda a: {"org": _organization(a)}, None),
    ),
    Endpoint(
        "PATCH",
        "/organizations/{org}",
        ALL_200,
        _with_body(lambda a: {"org": _organization(a)}, {"notes": "x"}),
    ),
    # agents
    Endpoint(
        "POST",
        "/agents",
        (401, 403, 403, 403, 201),
        _with_body(
            lambda a: {}, lambda a: {"name": "Mới", "email": f"new{next(_seq)}@support.test"}
        ),
    ),
    Endpoint("GET", "/agents", ALL_200),
    Endpoint("GET", "/agents/me", ALL_200),
    Endpoint("GET", "/agents/{agent}", ALL_200, _with_body(lambda a: {"agent": _agent(a)}, None)),
    Endpoint(
        "PATCH",
        "/agents/{agent}",
        ADMIN_ONLY,
        _with_body(lambda a: {"agent": _agent(a)}, {"name": "Đổi tên"}),
    ),
    Endpoint(
        "PUT",
        "/agents/{agent}/availability",
        (401, 200, 403, 403, 200),  # agent A's own availability
        _with_body(lambda a: {"agent": a.agent_ids["agent_a"]}, {"availability": "available"}),
    ),
    Endpoint(
        "POST",
        "/agents/{agent}/tokens",
        (401, 201, 403, 403, 201),  # a token for agent A
        _with_body(lambda a: {"agent": a.agent_ids["agent_a"]}, {"name": "matrix"}),
    ),
    Endpoint(
        "GET",
        "/agents/{agent}/tokens",
        (401, 200, 403, 403, 200),  # agent A's tokens
        _with_body(lambda a: {"agent": a.agent_ids["agent_a"]}, None),
    ),
    Endpoint(
        "DELETE",
        "/agents/{agent}/tokens/{token}",
        (401, 204, 403, 403, 204),  # a spare token of agent A
        _with_body(_spare_token, None),
    ),
    Endpoint(
        "PUT",
        "/agents/{agent}/password",
        # agent A has no password: a token alone never sets its own agent's password
        (401, 403, 403, 403, 204),
        _with_body(
            lambda a: {"agent": a.agent_ids["agent_a"]}, {"new_password": "mat-khau-moi-123"}
        ),
    ),
    # teams
    Endpoint(
        "POST",
        "/teams",
        (401, 403, 403, 403, 201),
        _with_body(lambda a: {}, lambda a: {"name": f"New team {next(_seq)}"}),
    ),
    Endpoint("GET", "/teams", ALL_200),
    Endpoint("GET", "/teams/{team}", ALL_200, _with_body(lambda a: {"team": a.team_a}, None)),
    Endpoint(
        "PATCH",
        "/teams/{team}",
        ADMIN_ONLY,
        _with_body(lambda a: {"team": _team(a)}, {"description": "x"}),
    ),
    # mailboxes (admins only)
    Endpoint(
        "POST",
        "/mailboxes",
        (401, 403, 403, 403, 201),
        _with_body(lambda a: {}, lambda a: _mailbox_body()),
    ),
    Endpoint("GET", "/mailboxes", ADMIN_ONLY),
    Endpoint(
        "GET",
        "/mailboxes/{mailbox}",
        ADMIN_ONLY,
        _with_body(lambda a: {"mailbox": _mailbox(a)}, None),
    ),
    Endpoint(
        "PATCH",
        "/mailboxes/{mailbox}",
        ADMIN_ONLY,
        _with_body(lambda a: {"mailbox": _mailbox(a)}, {"auto_acknowledge": False}),
    ),
    # routing (admins only)
    Endpoint(
        "POST",
        "/routing/rules",
        (401, 403, 403, 403, 201),
        _with_body(
            lambda a: {},
            {
                "name": "Hóa đơn",
                "conditions": {"keywords": ["hóa đơn"], "languages": ["vi"]},
                "actions": {"priority": "high", "add_tags": ["billing"]},
            },
        ),
    ),
    Endpoint("GET", "/routing/rules", ADMIN_ONLY),
    Endpoint(
        "GET", "/routing/rules/{rule}", ADMIN_ONLY, _with_body(lambda a: {"rule": _rule(a)}, None)
    ),
    Endpoint(
        "PATCH",
        "/routing/rules/{rule}",
        ADMIN_ONLY,
        _with_body(lambda a: {"rule": _rule(a)}, {"enabled": False}),
    ),
    Endpoint(
        "DELETE",
        "/routing/rules/{rule}",
        (401, 403, 403, 403, 204),
        _with_body(lambda a: {"rule": _rule(a)}, None),
    ),
    Endpoint(
        "GET", "/teams/{team}/routing", ADMIN_ONLY, _with_body(lambda a: {"team": a.team_a}, None)
    ),
    Endpoint(
        "PUT",
        "/teams/{team}/routing",
        ADMIN_ONLY,
        _with_body(lambda a: {"team": _team(a)}, {"strategy": "round_robin"}),
    ),
    # service levels: admins configure, managers read and report, agents see their cases
    Endpoint(
        "POST",
        "/sla/calendars",
        (401, 403, 403, 403, 201),
        _with_body(lambda a: {}, lambda a: _calendar_body()),
    ),
    Endpoint("GET", "/sla/calendars", MANAGERS),
    Endpoint(
        "PUT",
        "/sla/calendars/{calendar}",
        ADMIN_ONLY,
        _with_body(lambda a: {"calendar": _calendar(a)}, lambda a: _calendar_body()),
    ),
    Endpoint(
        "DELETE",
        "/sla/calendars/{calendar}",
        (401, 403, 403, 403, 204),
        _with_body(lambda a: {"calendar": _calendar(a)}, None),
    ),
    Endpoint(
        "POST",
        "/sla/policies",
        (401, 403, 403, 403, 201),
        _with_body(lambda a: {}, {"name": "Chuẩn", "targets": {"high": {"resolution": "PT8H"}}}),
    ),
    Endpoint("GET", "/sla/policies", MANAGERS),
    Endpoint("GET", "/sla/policies/{policy}", MANAGERS, POLICY),
    Endpoint(
        "PATCH",
        "/sla/policies/{policy}",
        ADMIN_ONLY,
        _with_body(lambda a: {"policy": _policy(a)}, {"warn_percent": 75}),
    ),
    Endpoint(
        "DELETE",
        "/sla/policies/{policy}",
        (401, 403, 403, 403, 204),
        _with_body(lambda a: {"policy": _policy(a)}, None),
    ),
    Endpoint("GET", "/cases/{case}/sla", TEAM_A_CASE, _with_body(_case, None)),
    Endpoint("GET", "/sla/at-risk", ALL_200),
    Endpoint("GET", f"/reports/sla?{PERIOD}", MANAGERS),
    Endpoint("GET", f"/reports/sla/csv?{PERIOD}", MANAGERS),
    Endpoint("GET", f"/reports/deflection?{PERIOD}", MANAGERS),
    Endpoint("GET", f"/reports/satisfaction?{PERIOD}", MANAGERS),
    # knowledge base: staff write drafts; managers publish, delete and keep the categories
    Endpoint(
        "POST",
        "/kb/categories",
        (401, 403, 403, 201, 201),
        _with_body(lambda a: {}, {"name_vi": "Tài khoản"}),
    ),
    Endpoint("GET", "/kb/categories", ALL_200),
    Endpoint("GET", "/kb/categories/{kb_category}", ALL_200, _with_body(_kb_category, None)),
    Endpoint(
        "PATCH",
        "/kb/categories/{kb_category}",
        (401, 403, 403, 200, 200),
        _with_body(_kb_category, {"position": 3}),
    ),
    Endpoint(
        "DELETE",
        "/kb/categories/{kb_category}",
        (401, 403, 403, 204, 204),
        _with_body(_kb_category, None),
    ),
    Endpoint("POST", "/kb/articles", ALL_201, _with_body(lambda a: {}, {"title": "Đổi mật khẩu"})),
    Endpoint("GET", "/kb/articles", ALL_200),
    Endpoint("GET", "/kb/articles/{kb_article}", ALL_200, _with_body(_kb_article, None)),
    Endpoint(
        "PATCH",
        "/kb/articles/{kb_article}",
        ALL_200,  # a draft: every member of staff may edit it
        _with_body(_kb_article, {"version": 1, "title": "Sửa"}),
    ),
    Endpoint(
        "DELETE",
        "/kb/articles/{kb_article}",
        (401, 403, 403, 204, 204),
        _with_body(_kb_article, None),
    ),
    Endpoint("GET", "/kb/articles/{kb_article}/versions", ALL_200, _with_body(_kb_article, None)),
    Endpoint("GET", "/kb/search?q=khach+hang", ALL_200),
    # the public knowledge base: published articles, no token needed
    Endpoint("GET", "/public/kb/search?q=khach", (200, 200, 200, 200, 200)),
    Endpoint(
        "GET",
        "/public/kb/articles/{kb_article}",
        (200, 200, 200, 200, 200),
        _with_body(lambda a: _kb_article(a, ArticleStatus.PUBLISHED), None),
    ),
    # the public web form: no token needed, so every role gets in
    Endpoint(
        "POST",
        "/public/webform",
        (201, 201, 201, 201, 201),
        _with_body(
            lambda a: {},
            lambda a: {
                "name": "Lan",
                "email": f"w{next(_seq)}@example.vn",
                "subject": "Hỏi",
                "message": "Xin chào",
            },
        ),
    ),
]


def test_the_matrix_covers_every_api_operation(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    documented = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
    }
    placeholders = {
        "{case}": "{case_id}",
        "{attachment}": "{attachment_id}",
        "{customer}": "{customer_id}",
        "{org}": "{organization_id}",
        "{agent}": "{agent_id}",
        "{token}": "{token_id}",
        "{team}": "{team_id}",
        "{mailbox}": "{mailbox_id}",
        "{rule}": "{rule_id}",
        "{calendar}": "{calendar_id}",
        "{policy}": "{policy_id}",
        "{kb_category}": "{category_id}",
        "{kb_article}": "{article_id}",
        "{view}": "{view_id}",
    }
    tested = set()
    for endpoint in MATRIX:
        label = endpoint.label.split("?")[0]
        for ours, theirs in placeholders.items():
            label = label.replace(ours, theirs)
        tested.add(label)
    assert tested == documented


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(api: Api, role: str) -> None:
    column = ROLES.index(role)
    mismatches: dict[str, tuple[int, int, str]] = {}
    for endpoint in MATRIX:
        params, body = endpoint.setup(api) if endpoint.setup else ({}, None)
        url = "/api/v1" + endpoint.path.format(**params)
        response = api.request(role, endpoint.method, url, json=body)
        expected = endpoint.expect[column]
        if response.status_code != expected:
            mismatches[endpoint.label] = (expected, response.status_code, response.text[:200])
    assert mismatches == {}


def test_agent_b_does_not_see_team_a_cases_in_the_list(api: Api) -> None:
    case_a = api.make_case(api.team_a)
    case_b = api.make_case(api.team_b)
    triage = api.make_case(None)

    def listed(role: str) -> set[int]:
        return {c["id"] for c in api.get("/api/v1/cases", role=role).json()["items"]}

    assert listed("agent_a") == {case_a.id, triage.id}
    assert listed("agent_b") == {case_b.id, triage.id}
    assert listed("manager") == listed("admin") == {case_a.id, case_b.id, triage.id}
    # Filtering on team A does not leak it either.
    response = api.get("/api/v1/cases", role="agent_b", params={"team_id": api.team_a})
    assert response.json()["items"] == []
    # An agent keeps seeing a case of another team assigned to them.
    api.post(f"/api/v1/cases/{case_a.id}/assign", json={"assignee_id": api.agent_ids["agent_b"]})
    assert case_a.id in listed("agent_b")
    assert api.get(f"/api/v1/cases/{case_a.id}", role="agent_b").status_code == 200


def test_an_agent_may_not_change_their_own_role(api: Api) -> None:
    me = api.agent_ids["agent_a"]
    response = api.patch(f"/api/v1/agents/{me}", role="agent_a", json={"role": "admin"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    # nor their own password with their token alone: that needs the current password
    password = api.patch(f"/api/v1/agents/{me}", role="agent_a", json={"password": "a-long-secret"})
    assert password.status_code == 403
    assert password.json()["code"] == "current_password_required"
