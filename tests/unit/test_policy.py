"""The permission policy: one scope answers both "may see" and "may list", and they agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.db import bind_engine, create_engine
from helpdesk.domain import Role
from helpdesk.errors import NotFoundError, PermissionDeniedError
from helpdesk.policy import (
    SYSTEM,
    Action,
    CaseScope,
    Principal,
    case_scope,
    ensure_can_see_case,
    may,
    require,
)

IDS = st.one_of(st.none(), st.integers(min_value=1, max_value=3))

case_rows = st.fixed_dictionaries(
    {"team": IDS, "assignee": IDS, "customer": st.integers(1, 3), "organization": IDS}
)
agents = st.builds(
    Principal,
    kind=st.just("agent"),
    id=st.integers(1, 3),
    role=st.sampled_from(list(Role)),
    team_ids=st.frozensets(st.integers(1, 3), max_size=3),
)
customers = st.builds(
    Principal,
    kind=st.just("customer"),
    id=st.integers(1, 3),
    organization_id=IDS,
    organization_shared=st.booleans(),
)
principals = st.one_of(agents, customers, st.just(SYSTEM))
scopes = st.builds(
    CaseScope,
    everything=st.booleans(),
    team_ids=st.frozensets(st.integers(1, 3), max_size=3),
    include_teamless=st.booleans(),
    assignee_id=IDS,
    customer_id=IDS,
    organization_id=IDS,
)


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Piccolo needs a bound engine to render a where clause for SQLite."""
    path: Path = tmp_path_factory.mktemp("policy") / "render.db"
    bind_engine(create_engine(f"sqlite:///{path}"))


def selected_by_where(scope: CaseScope, rows: list[dict]) -> set[int]:
    """Run ``scope.where()`` as SQL over ``rows`` in an in-memory SQLite table."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(
            "CREATE TABLE cases (id INTEGER PRIMARY KEY, team INTEGER, assignee INTEGER,"
            " customer INTEGER, organization INTEGER)"
        )
        connection.executemany(
            "INSERT INTO cases VALUES (?, ?, ?, ?, ?)",
            [
                (i, r["team"], r["assignee"], r["customer"], r["organization"])
                for i, r in enumerate(rows, 1)
            ],
        )
        clause = scope.where()
        if clause is None:
            sql, args = "SELECT id FROM cases", []
        else:
            where_sql, args = clause.querystring.compile_string(engine_type="sqlite")
            sql = f"SELECT id FROM cases WHERE {where_sql}"
        return {row[0] for row in connection.execute(sql, args)}
    finally:
        connection.close()


@settings(max_examples=300, deadline=None)
@given(scopes, st.lists(case_rows, max_size=12))
def test_allows_and_where_agree_for_any_scope(bound, scope, rows):
    allowed = {i for i, r in enumerate(rows, 1) if scope.allows({"id": i, **r})}
    assert selected_by_where(scope, rows) == allowed


@settings(max_examples=300, deadline=None)
@given(principals, st.lists(case_rows, max_size=12))
def test_allows_and_where_agree_for_any_principal(bound, principal, rows):
    scope = case_scope(principal)
    allowed = {i for i, r in enumerate(rows, 1) if scope.allows({"id": i, **r})}
    assert selected_by_where(scope, rows) == allowed


def row(team=None, assignee=None, customer=1, organization=None):
    return {"id": 7, "team": team, "assignee": assignee, "customer": customer,
            "organization": organization}  # fmt: skip


AGENT = Principal(kind="agent", id=5, role=Role.AGENT, team_ids=frozenset({1}))


@pytest.mark.parametrize(
    ("principal", "case", "visible"),
    [
        (AGENT, row(team=1), True),
        (AGENT, row(team=2), False),
        (AGENT, row(team=None), True),
        (AGENT, row(team=2, assignee=5), True),
        (AGENT, row(team=2, assignee=6), False),
        (Principal(kind="agent", id=9, role=Role.MANAGER), row(team=2), True),
        (Principal(kind="agent", id=9, role=Role.ADMIN), row(team=2), True),
        (SYSTEM, row(team=3), True),
        (Principal(kind="customer", id=1), row(customer=1), True),
        (Principal(kind="customer", id=2), row(customer=1), False),
        (
            Principal(kind="customer", id=2, organization_id=4),
            row(customer=1, organization=4),
            False,
        ),
        (
            Principal(kind="customer", id=2, organization_id=4, organization_shared=True),
            row(customer=1, organization=4),
            True,
        ),
        (
            Principal(kind="customer", id=2, organization_id=4, organization_shared=True),
            row(customer=1, organization=5),
            False,
        ),
        (Principal(kind="customer", id=None), row(customer=1, team=None), False),
    ],
)
def test_who_sees_which_case(principal, case, visible):
    assert case_scope(principal).allows(case) is visible
    if visible:
        ensure_can_see_case(principal, case)
    else:
        with pytest.raises(NotFoundError):
            ensure_can_see_case(principal, case)


def test_customers_never_see_the_triage_queue():
    scope = case_scope(Principal(kind="customer", id=1))
    assert not scope.include_teamless
    assert not scope.team_ids
    assert not scope.everything


MATRIX = {
    Role.AGENT: {Action.WORK_CASES, Action.MERGE_CASES, Action.MANAGE_CUSTOMERS,
                 Action.VIEW_DIRECTORY, Action.WRITE_ARTICLES, Action.READ_NOTIFICATIONS},
    Role.MANAGER: {Action.WORK_CASES, Action.MERGE_CASES, Action.MANAGE_CUSTOMERS,
                   Action.VIEW_DIRECTORY, Action.MERGE_CUSTOMERS, Action.VIEW_REPORTS,
                   Action.READ_NOTIFICATIONS,
                   Action.MANAGE_MACROS, Action.SHARE_VIEWS, Action.WRITE_ARTICLES,
                   Action.PUBLISH_ARTICLES},
    Role.ADMIN: set(Action),
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_action_matrix(role, action):
    principal = Principal(kind="agent", id=1, role=role)
    expected = action in MATRIX[role]
    assert may(principal, action) is expected
    if expected:
        require(principal, action)
    else:
        with pytest.raises(PermissionDeniedError):
            require(principal, action)


@pytest.mark.parametrize("action", list(Action))
def test_customers_may_no_staff_action_and_the_system_may_all(action):
    assert not may(Principal(kind="customer", id=1), action)
    assert not may(Principal(kind="agent", id=1, role=None), action)
    assert may(SYSTEM, action)
