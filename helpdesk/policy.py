"""The one permission policy: who may see which case, and who may do what.

:func:`case_scope` describes the cases a principal may see. The same scope
answers "may X see this case" (:meth:`CaseScope.allows`) and "which cases may
X list" (:meth:`CaseScope.where`), so the two can never drift apart. Every
endpoint, search, export and subscription goes through this module.

The rules:

* admins and managers see every case;
* an agent sees the cases of the teams they belong to, cases without a team
  (the triage queue), and cases assigned to them;
* a customer sees their own cases, and those of their organization when it
  shares visibility;
* a system principal (workers, CLI) sees everything.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import msgspec

from helpdesk.domain import Role
from helpdesk.errors import NotFoundError, PermissionDeniedError
from helpdesk.tables import Case

PrincipalKind = Literal["agent", "customer", "system"]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting: an agent (with role and teams), a customer, or the system."""

    kind: PrincipalKind
    id: int | None = None
    role: Role | None = None
    team_ids: frozenset[int] = frozenset()
    organization_id: int | None = None
    organization_shared: bool = False

    @property
    def is_staff(self) -> bool:
        """True for agents, managers and admins."""
        return self.kind == "agent"


SYSTEM = Principal(kind="system")


class Action(StrEnum):
    """Things a principal may be allowed to do, beyond seeing a case."""

    WORK_CASES = "work_cases"  # reply, note, assign, change status/priority/tags
    MERGE_CASES = "merge_cases"
    MANAGE_CUSTOMERS = "manage_customers"  # create and edit customers and organizations
    MERGE_CUSTOMERS = "merge_customers"
    # Who sees an organization's cases in the portal: switching
    # ``shared_visibility`` on or off, changing the domains of a sharing
    # organization, or putting a customer into one (admins only, audited).
    SHARE_ORGANIZATION = "share_organization"
    # Merging cases or customers of different organizations (admins only,
    # and still with the confirmation that names both customers).
    MERGE_ACROSS_ORGANIZATIONS = "merge_across_organizations"
    VIEW_DIRECTORY = "view_directory"  # list agents, teams, customers
    READ_NOTIFICATIONS = "read_notifications"  # one's own notifications and their settings
    VIEW_REPORTS = "view_reports"
    MANAGE_MACROS = "manage_macros"  # create, edit and delete canned replies
    SHARE_VIEWS = "share_views"  # saved case-list views offered to every agent
    ADMINISTER = "administer"  # agents, teams, tokens, settings
    WRITE_ARTICLES = "write_articles"  # knowledge base: read, write and edit drafts
    PUBLISH_ARTICLES = "publish_articles"  # knowledge base: publish, delete, categories


_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset(
        {
            Action.WORK_CASES,
            Action.MERGE_CASES,
            Action.MANAGE_CUSTOMERS,
            Action.VIEW_DIRECTORY,
            Action.READ_NOTIFICATIONS,
            Action.WRITE_ARTICLES,
        }
    ),
}
_ROLE_ACTIONS[Role.MANAGER] = _ROLE_ACTIONS[Role.AGENT] | {
    Action.MERGE_CUSTOMERS,
    Action.VIEW_REPORTS,
    Action.MANAGE_MACROS,
    Action.SHARE_VIEWS,
    Action.PUBLISH_ARTICLES,
}
_ROLE_ACTIONS[Role.ADMIN] = _ROLE_ACTIONS[Role.MANAGER] | {
    Action.ADMINISTER,
    Action.SHARE_ORGANIZATION,
    Action.MERGE_ACROSS_ORGANIZATIONS,
}


def may(principal: Principal, action: Action) -> bool:
    """True when ``principal`` may perform ``action``."""
    if principal.kind == "system":
        return True
    if principal.kind != "agent" or principal.role is None:
        return False
    return action in _ROLE_ACTIONS[principal.role]


def require(principal: Principal, action: Action) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal`` may do ``action``."""
    if not may(principal, action):
        raise PermissionDeniedError(f"not allowed: {action.value}")


class CaseScope(msgspec.Struct, frozen=True, kw_only=True):
    """The set of cases a principal may see, as data."""

    everything: bool = False
    team_ids: frozenset[int] = frozenset()
    include_teamless: bool = False
    assignee_id: int | None = None
    customer_id: int | None = None
    organization_id: int | None = None

    def allows(self, case: dict[str, Any]) -> bool:
        """True when the case row (with ``team``, ``assignee``, ``customer``,
        ``organization`` keys) is inside the scope."""
        if self.everything:
            return True
        team = case.get("team")
        return (
            (team is not None and team in self.team_ids)
            or (self.include_teamless and team is None)
            or (self.assignee_id is not None and case.get("assignee") == self.assignee_id)
            or (self.customer_id is not None and case.get("customer") == self.customer_id)
            or (
                self.organization_id is not None
                and case.get("organization") == self.organization_id
            )
        )

    def where(self) -> Any:
        """The same scope as a Piccolo ``where`` clause (None when unrestricted)."""
        if self.everything:
            return None
        clauses: list[Any] = []
        if self.team_ids:
            clauses.append(Case.team.is_in(sorted(self.team_ids)))
        if self.include_teamless:
            clauses.append(Case.team.is_null())
        if self.assignee_id is not None:
            clauses.append(Case.assignee == self.assignee_id)
        if self.customer_id is not None:
            clauses.append(Case.customer == self.customer_id)
        if self.organization_id is not None:
            clauses.append(Case.organization == self.organization_id)
        if not clauses:
            return Case.id == -1  # matches nothing
        combined = clauses[0]
        for clause in clauses[1:]:
            combined = combined | clause
        return combined


def case_scope(principal: Principal) -> CaseScope:
    """The cases ``principal`` may see."""
    if principal.kind == "system":
        return CaseScope(everything=True)
    if principal.kind == "agent":
        if principal.role in (Role.ADMIN, Role.MANAGER):
            return CaseScope(everything=True)
        return CaseScope(
            team_ids=principal.team_ids, include_teamless=True, assignee_id=principal.id
        )
    return CaseScope(
        customer_id=principal.id,
        organization_id=principal.organization_id if principal.organization_shared else None,
    )


def may_read_notes(principal: Principal) -> bool:
    """True when ``principal`` may read (and search) internal notes: staff and
    the system; customers never."""
    return principal.kind in ("agent", "system")


def ensure_can_see_case(principal: Principal, case: dict[str, Any]) -> None:
    """Raise :class:`NotFoundError` when ``principal`` may not see ``case``.

    Not-found rather than forbidden, so that case numbers cannot be probed.
    """
    if not case_scope(principal).allows(case):
        raise NotFoundError(f"case {case.get('id')} not found")
