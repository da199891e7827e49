"""Agents (staff), their passwords, and the teams they belong to (their API
tokens: :mod:`helpdesk.services.api_tokens`).

A password is changed by its agent with the current
password (:func:`change_password`), or set by an admin without it; a bearer
token or a session alone never changes its own agent's password. Every
refusal is a :class:`~helpdesk.errors.HelpdeskError` with a stable code.

An administrator's agent form is saved by one call, in one transaction:
:func:`create_agent_with_teams` or :func:`update_agent_with_teams` (the
latter only while the form's :func:`agent_version` is current).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from msgspec import UNSET

from helpdesk import ratelimit
from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.domain import Availability, Role
from helpdesk.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    VersionConflictError,
)
from helpdesk.events import AgentAvailabilityChanged, emit, team_stream
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import AgentIn, AgentOut, AgentUpdate
from helpdesk.services import audit, web_sessions
from helpdesk.services.rows import json_list
from helpdesk.services.teams import version_of
from helpdesk.tables import Agent, Team, TeamMember
from helpdesk.text import normalize_email

_hasher = PasswordHasher()
MAX_TEAMS = 500
MIN_PASSWORD, MAX_PASSWORD = 8, 200
PASSWORD_CHANGE_LIMIT = (10, 15 * 60)
"""Attempts at changing one's own password per agent and window (wrong current ones too)."""


class CurrentPasswordRequiredError(PermissionDeniedError):
    """An agent's own password is changed with the current one (or by an admin)."""

    code = "current_password_required"
    title = "The current password is required"


class CurrentPasswordWrongError(PermissionDeniedError):
    """The current password given to change it is not the agent's password."""

    code = "current_password_wrong"
    title = "The current password is wrong"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def _out(row: dict[str, Any], team_ids: list[int]) -> AgentOut:
    return AgentOut(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        role=row["role"],
        languages=json_list(row["languages"]),
        skills=json_list(row["skills"]),
        capacity=row["capacity"],
        active=row["active"],
        availability=row["availability"],
        team_ids=sorted(team_ids),
        has_avatar=bool(row.get("avatar")),
        locale=row.get("locale") or "",
    )


async def _teams_of(agent_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in agent_ids}
    if agent_ids:
        for row in await TeamMember.select().where(TeamMember.agent.is_in(agent_ids)):
            result[row["agent"]].append(row["team"])
    return result


async def create_agent(principal: Principal, data: AgentIn) -> AgentOut:
    """Create a member of staff (admins only). The email must be new."""
    require(principal, Action.ADMINISTER)
    email = normalize_email(data.email)
    async with transaction():
        if await Agent.exists().where(Agent.email == email):
            raise ConflictError(f"an agent with email {email} exists")
        rows = await Agent.insert(
            Agent(
                name=data.name,
                email=email,
                role=data.role,
                password_hash=hash_password(data.password) if data.password else "",
                languages=list(dict.fromkeys(data.languages)),
                skills=list(dict.fromkeys(data.skills)),
                capacity=data.capacity,
            )
        )
        agent_id = int(rows[0]["id"])
        await audit.record(principal, "agent.created", entity="agent", entity_id=agent_id)
    return await get_agent(principal, agent_id)


async def get_agent(principal: Principal, agent_id: int) -> AgentOut:
    """One member of staff."""
    if not (principal.kind == "agent" and principal.id == agent_id):
        require(principal, Action.VIEW_DIRECTORY)
    row = await Agent.select().where(Agent.id == agent_id).first()
    if row is None:
        raise NotFoundError(f"agent {agent_id} not found")
    return _out(row, (await _teams_of([agent_id]))[agent_id])


async def list_agents(principal: Principal, *, active_only: bool = False) -> list[AgentOut]:
    """Every member of staff, by name (two queries)."""
    require(principal, Action.VIEW_DIRECTORY)
    query = Agent.select().order_by(Agent.name)
    if active_only:
        query = query.where(Agent.active == True)  # noqa: E712 - Piccolo needs ==
    rows = await query
    teams = await _teams_of([r["id"] for r in rows])
    return [_out(r, teams[r["id"]]) for r in rows]


async def update_agent(principal: Principal, agent_id: int, data: AgentUpdate) -> AgentOut:
    """Change a member of staff. Agents may change their own availability;
    everything else is for admins. A ``password`` here is an admin setting
    another agent's password: an agent's own goes through
    :func:`change_password` (:class:`CurrentPasswordRequiredError` here)."""
    own_limited = (
        principal.kind == "agent"
        and principal.id == agent_id
        and all(
            getattr(data, f) is UNSET
            for f in ("name", "role", "languages", "skills", "capacity", "active")
        )
    )
    if not own_limited:
        require(principal, Action.ADMINISTER)
    if data.password is not UNSET:
        _check_password_setter(principal, agent_id)
    fields = {
        "name": Agent.name,
        "role": Agent.role,
        "languages": Agent.languages,
        "skills": Agent.skills,
        "capacity": Agent.capacity,
        "active": Agent.active,
        "availability": Agent.availability,
    }
    values: dict[Any, Any] = {
        column: getattr(data, name)
        for name, column in fields.items()
        if getattr(data, name) is not UNSET
    }
    if data.password is not UNSET:
        values[Agent.password_hash] = hash_password(data.password)
    if data.availability is not UNSET:
        values[Agent.auto_away] = False  # a chosen availability is nobody's guess
    async with transaction():
        before = await get_agent(principal, agent_id)
        if values:
            await Agent.update(values).where(Agent.id == agent_id)
            await _emit_availability(before, data)
            if (data.role, data.active) != (UNSET, UNSET):
                await web_sessions.access_changed("console", [agent_id])
        changes = {k: v for k, v in ((f, getattr(data, f)) for f in fields) if v is not UNSET}
        await audit.record(
            principal, "agent.updated", entity="agent", entity_id=agent_id, changes=changes
        )
    return await get_agent(principal, agent_id)


async def _emit_availability(before: AgentOut, data: AgentUpdate) -> None:
    """Tell routing when whether it may give the agent cases changed."""
    availability = before.availability if data.availability is UNSET else data.availability
    active = before.active if data.active is UNSET else data.active
    capacity = before.capacity if data.capacity is UNSET else data.capacity
    if (availability, active, capacity) == (before.availability, before.active, before.capacity):
        return
    event = AgentAvailabilityChanged(
        agent_id=before.id,
        availability=availability,
        previous_availability=before.availability,
        active=active,
        capacity=capacity,
    )
    await emit(event, [team_stream(team_id) for team_id in before.team_ids])


def _check_password_setter(principal: Principal, agent_id: int) -> None:
    """Setting a password without the current one: admins (and the system),
    for another agent only."""
    if principal.kind == "agent" and principal.id == agent_id:
        raise CurrentPasswordRequiredError(
            "your own password is changed with your current password"
        )
    require(principal, Action.ADMINISTER)


async def change_password(
    principal: Principal, agent_id: int, new_password: str, current_password: str | None = None
) -> None:
    """Set an agent's sign-in password.

    An agent changes their own with ``current_password``; an agent who has
    none yet gets one from an admin. An admin (or the system) sets another
    agent's without it. Refusals: :class:`CurrentPasswordRequiredError`,
    :class:`CurrentPasswordWrongError` (attempts are rate-limited per agent:
    :class:`~helpdesk.ratelimit.RateLimitedError`), :class:`ValidationError`
    for a password of the wrong length, and the policy's 403.
    """
    if not MIN_PASSWORD <= len(new_password) <= MAX_PASSWORD:
        raise ValidationError(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="new_password"
        )
    own = principal.kind == "agent" and principal.id == agent_id
    if not own:
        _check_password_setter(principal, agent_id)
    row = await Agent.select(Agent.password_hash).where(Agent.id == agent_id).first()
    if row is None:
        raise NotFoundError(f"agent {agent_id} not found")
    if own:
        if not current_password or not row["password_hash"]:
            raise CurrentPasswordRequiredError(
                "the current password is required (an admin sets a first password)"
            )
        await ratelimit.check(f"password-change:agent:{agent_id}", *PASSWORD_CHANGE_LIMIT)
        try:
            _hasher.verify(row["password_hash"], current_password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError) as exc:
            raise CurrentPasswordWrongError("the current password is wrong") from exc
    async with transaction():
        await Agent.update({Agent.password_hash: hash_password(new_password)}).where(
            Agent.id == agent_id
        )
        await audit.record(principal, "agent.password_changed", entity="agent", entity_id=agent_id)


async def principal_for_agent(agent_id: int) -> Principal:
    """The principal of an active agent, with their teams."""
    row = await Agent.select(Agent.id, Agent.role, Agent.active).where(Agent.id == agent_id).first()
    if row is None or not row["active"]:
        raise AuthenticationError("unknown or inactive agent")
    teams = await _teams_of([agent_id])
    return Principal(
        kind="agent", id=agent_id, role=Role(row["role"]), team_ids=frozenset(teams[agent_id])
    )


async def authenticate_password(email: str, password: str) -> Principal:
    """The principal of an agent signing in with email and password."""
    row = (
        await Agent.select(Agent.id, Agent.password_hash)
        .where(Agent.email == normalize_email(email))
        .first()
    )
    if row is None or not row["password_hash"]:
        _hasher.hash(password)  # same cost whether or not the address exists
        raise AuthenticationError("wrong email or password")
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError) as exc:
        raise AuthenticationError("wrong email or password") from exc
    return await principal_for_agent(int(row["id"]))


async def set_availability(
    principal: Principal, agent_id: int, availability: Availability
) -> AgentOut:
    """Set whether routing may give the agent new cases."""
    return await update_agent(principal, agent_id, AgentUpdate(availability=availability))


# --- an agent with their teams: the administrator's form ------------------------------


def agent_version(agent: AgentOut) -> str:
    """The version of what an agent's settings form edits: name, role,
    languages, skills, capacity, active and teams. Not the availability
    (agents change their own all day) nor the password (never shown)."""
    return version_of(
        agent.name,
        agent.role,
        agent.languages,
        agent.skills,
        agent.capacity,
        agent.active,
        agent.team_ids,
    )


async def lock_agent(agent_id: int) -> None:
    """Inside a transaction, before changing an agent or their teams: on
    PostgreSQL lock the agent's row until the transaction ends.
    :class:`NotFoundError` when there is no such agent."""
    query = Agent.select(Agent.id).where(Agent.id == agent_id)
    if is_postgres(current_engine()):
        query = query.lock_rows("NO KEY UPDATE")
    if await query.first() is None:
        raise NotFoundError(f"agent {agent_id} not found")


async def _set_teams(principal: Principal, agent_id: int, team_ids: Sequence[int]) -> None:
    """Make the agent a member of exactly ``team_ids`` (an unknown team: ValidationError)."""
    wanted = set(team_ids)
    if len(wanted) > MAX_TEAMS:
        raise ValidationError(f"at most {MAX_TEAMS} teams", field="team_ids")
    if wanted:
        found = await Team.select(Team.id).where(Team.id.is_in(sorted(wanted)))
        missing = wanted - {int(r["id"]) for r in found}
        if missing:
            raise ValidationError(f"unknown teams: {sorted(missing)}", field="team_ids")
    current = set((await _teams_of([agent_id]))[agent_id])
    removed, added = sorted(current - wanted), sorted(wanted - current)
    if removed:
        await TeamMember.delete().where(
            (TeamMember.agent == agent_id) & TeamMember.team.is_in(removed)
        )
    if added:
        await TeamMember.insert(*(TeamMember(team=t, agent=agent_id) for t in added))
    if removed or added:
        await web_sessions.access_changed("console", [agent_id])
    for team_id in sorted([*removed, *added]):
        change = "member_added" if team_id in added else "member_removed"
        await audit.record(
            principal, "team.updated", entity="team", entity_id=team_id, changes={change: agent_id}
        )


async def create_agent_with_teams(
    principal: Principal, data: AgentIn, team_ids: Sequence[int]
) -> AgentOut:
    """Create a member of staff (admins) who is a member of exactly ``team_ids``.

    One transaction: when any part is refused (an email in use, an unknown
    team) no agent and no membership is left behind.
    """
    require(principal, Action.ADMINISTER)
    async with transaction():
        agent = await create_agent(principal, data)
        await _set_teams(principal, agent.id, team_ids)
    return await get_agent(principal, agent.id)


async def update_agent_with_teams(
    principal: Principal,
    agent_id: int,
    data: AgentUpdate,
    team_ids: Sequence[int],
    *,
    version: str,
) -> AgentOut:
    """Change a member of staff (admins) and make them a member of exactly
    ``team_ids``, if ``version`` (the :func:`agent_version` the form was shown
    with) is still current.

    One transaction: a stale version (:class:`VersionConflictError`, with
    ``current_version``), an unknown team or any other refusal changes
    nothing. The version is checked with the agent's row locked (PostgreSQL),
    so no other form's save slips in between the check and this change.
    """
    require(principal, Action.ADMINISTER)
    async with transaction():
        await lock_agent(agent_id)
        current = agent_version(await get_agent(principal, agent_id))
        if version != current:
            raise VersionConflictError(
                f"agent {agent_id} was changed since the form was shown",
                current_version=current,
            )
        await update_agent(principal, agent_id, data)
        await _set_teams(principal, agent_id, team_ids)
    return await get_agent(principal, agent_id)
