"""Realistic demo data in Vietnamese and English (``helpdesk demo``).

:func:`load_demo` creates staff with known passwords, two teams (technical
support, the default queue, and billing), organizations with their email
domains, customers, and cases with their conversations, spread over the last
60 days. It is idempotent: staff, teams, organizations and customers are
found by their unique names and addresses, and each case by the external id
of its first message, so a second run with the same seed creates nothing and
a run with more cases adds only the missing ones.

After the cases come knowledge-base articles, macros, routing rules,
satisfaction answers and live chats (:mod:`helpdesk.demo._content`), each
found by a unique name, address or id in the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.demo._content import ensure_demo_content
from helpdesk.demo._load import (
    World,
    ensure_customers,
    ensure_organizations,
    ensure_staff,
    ensure_teams,
    play_cases,
)
from helpdesk.demo._notifications import ensure_notifications
from helpdesk.demo._people import STAFF, TEAMS
from helpdesk.demo._plan import plan_demo
from helpdesk.demo._sla import ensure_sla
from helpdesk.errors import AuthenticationError
from helpdesk.policy import SYSTEM
from helpdesk.services import agents, api_tokens, audit
from helpdesk.tables import ApiToken


@dataclass(frozen=True)
class DemoLogin:
    """A demo member of staff and their password."""

    role: str
    email: str
    password: str
    name: str


@dataclass(frozen=True)
class DemoResult:
    """What :func:`load_demo` created or found."""

    cases_created: int
    cases_existing: int
    customers: int
    organizations: int
    teams: int
    logins: list[DemoLogin]
    admin_email: str
    admin_token: str


async def _admin_token(admin_id: int, secret_key: str) -> str:
    """The demo admin's API token: derived from the secret key, so every run
    prints the same one; stored (as its hash) on the first run.

    If the derived token does not authenticate (revoked, or the token scheme
    changed), a fresh random token is created instead.
    """
    mac = hmac.new(secret_key.encode(), b"helpdesk demo admin API token", hashlib.sha256)
    token = api_tokens.TOKEN_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with transaction():
        if not await ApiToken.exists().where(ApiToken.token_hash == digest):
            await ApiToken.insert(ApiToken(agent=admin_id, name="demo", token_hash=digest))
            await audit.record(SYSTEM, "token.created", entity="agent", entity_id=admin_id)
    try:
        principal = await api_tokens.authenticate_token(token)
    except AuthenticationError:
        principal = None
    if principal is None or principal.id != admin_id:
        return (await api_tokens.create_token(SYSTEM, admin_id, name="demo")).token
    return token


async def load_demo(*, cases: int = 300, seed: int = 1, secret_key: str) -> DemoResult:
    """Create the demo data that does not exist yet, in the bound database.

    Needs a migrated database, a configured blob store and (optionally)
    configured events. Routing runs inline (:func:`route_case`), not through
    a worker. Not atomic: an interrupted run leaves what it made, and the next
    run completes it (a case interrupted mid-conversation stays short).
    """
    now = utcnow()
    plan = plan_demo(cases, seed, now)
    staff_ids = await ensure_staff()
    world = World(
        staff=staff_ids,
        principals=[await agents.principal_for_agent(i) for i in staff_ids],
        teams={},
        organizations=await ensure_organizations(),
        customers=[],
    )
    world.teams = await ensure_teams(staff_ids)
    # Principals read team membership, so refresh them once the teams exist.
    world.principals = [await agents.principal_for_agent(i) for i in staff_ids]
    world.customers = await ensure_customers(plan.customers, world.organizations, now)
    await ensure_sla()
    created, existing = await play_cases(plan, world, now)
    await ensure_demo_content(world, secret_key, now)  # KB, macros, rules, CSAT, chats
    await ensure_notifications(world)  # the demo agent's bell
    admin = next(i for i, m in enumerate(STAFF) if m.role == "admin")
    return DemoResult(
        cases_created=created,
        cases_existing=existing,
        customers=len(set(world.customers)),
        organizations=len(world.organizations),
        teams=len(TEAMS),
        logins=[DemoLogin(m.role, m.email, m.password, m.name) for m in STAFF],
        admin_email=STAFF[admin].email,
        admin_token=await _admin_token(staff_ids[admin], secret_key),
    )


__all__ = ["DemoLogin", "DemoResult", "load_demo"]
