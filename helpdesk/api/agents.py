"""Agents (staff): the directory, profiles, availability, passwords and API tokens.

An agent's own password is changed with the current one
(``PUT /agents/{id}/password``); admins set another agent's without it. API
tokens are listed (never the token itself) and revoked one by one, by their
agent or an admin; revoking clears this process's principal cache at once
(other processes follow within its TTL, see :mod:`helpdesk.api.auth`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from msgspec import Meta

from helpdesk.api.auth import invalidate_principals
from helpdesk.api.params import ObjectId
from helpdesk.api.problems import responses
from helpdesk.domain import Availability
from helpdesk.errors import NotFoundError
from helpdesk.policy import Principal
from helpdesk.schemas import AgentIn, AgentOut, AgentUpdate, TokenOut
from helpdesk.services import agents, api_tokens
from helpdesk.services.api_tokens import TokenInfo


class AvailabilityIn(msgspec.Struct, forbid_unknown_fields=True):
    """Whether routing may give the agent new cases."""

    availability: Availability


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    """A label for a new API token, to recognise it later."""

    name: Annotated[str, Meta(max_length=100)] = ""


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new sign-in password; ``current_password`` is required for one's own."""

    new_password: Annotated[str, Meta(min_length=8, max_length=200)]
    current_password: Annotated[str, Meta(max_length=200)] | None = None


class AgentController(Controller):
    """``/agents``: members of staff."""

    path = "/agents"
    tags = ["agents"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(409))
    async def create_agent(
        self, principal: NamedDependency[Principal], data: JSONBody[AgentIn]
    ) -> AgentOut:
        """Create a member of staff (admins only). The email must be new."""
        return await agents.create_agent(principal, data)

    @get("/", responses=responses())
    async def list_agents(
        self,
        principal: NamedDependency[Principal],
        active_only: Annotated[
            bool, Parameter(description="Leave out deactivated agents.")
        ] = False,
    ) -> list[AgentOut]:
        """Every member of staff, by name."""
        return await agents.list_agents(principal, active_only=active_only)

    @get("/me", responses=responses(404))
    async def get_me(self, principal: NamedDependency[Principal]) -> AgentOut:
        """The calling agent."""
        if principal.id is None:
            raise NotFoundError("the caller is not an agent")
        return await agents.get_agent(principal, principal.id)

    @get("/{agent_id:int}", responses=responses(404))
    async def get_agent(
        self, principal: NamedDependency[Principal], agent_id: ObjectId
    ) -> AgentOut:
        """One member of staff."""
        return await agents.get_agent(principal, agent_id)

    @patch("/{agent_id:int}", responses=responses(404))
    async def update_agent(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        data: JSONBody[AgentUpdate],
    ) -> AgentOut:
        """Change a member of staff. Agents may change their own availability;
        everything else is for admins, including another agent's ``password``
        (one's own: ``PUT /agents/{id}/password``, 403
        ``current_password_required`` here). A change of role or active flag
        applies to this process's cached tokens at once."""
        result = await agents.update_agent(principal, agent_id, data)
        invalidate_principals(request)
        return result

    @put("/{agent_id:int}/availability", responses=responses(404))
    async def set_availability(
        self,
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        data: JSONBody[AvailabilityIn],
    ) -> AgentOut:
        """Set whether routing may give the agent new cases (the agent themselves, or admins)."""
        return await agents.set_availability(principal, agent_id, data.availability)

    # A token is shown once: never keep it in an idempotency key's stored answer.
    @post("/{agent_id:int}/tokens", responses=responses(404), opt={"idempotency_exempt": True})
    async def create_token(
        self,
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        data: JSONBody[TokenIn | None] = None,
    ) -> TokenOut:
        """A new API token for the agent (the agent themselves, or admins).

        The token is in the answer this once; only its hash is stored.
        """
        name = data.name if data is not None else ""
        return await api_tokens.create_token(principal, agent_id, name)

    @get("/{agent_id:int}/tokens", responses=responses(404))
    async def list_tokens(
        self,
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        include_revoked: Annotated[bool, Parameter(description="List revoked tokens too.")] = False,
    ) -> list[TokenInfo]:
        """The agent's API tokens, newest first: ids, names and dates, never a
        token (the agent themselves, or admins)."""
        return await api_tokens.list_tokens(principal, agent_id, include_revoked=include_revoked)

    @delete("/{agent_id:int}/tokens/{token_id:int}", responses=responses(404))
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        token_id: ObjectId,
    ) -> None:
        """Revoke one API token (the agent themselves, or admins). Revoking a
        revoked token again answers the same."""
        await api_tokens.revoke_token(principal, agent_id, token_id)
        invalidate_principals(request)

    @put("/{agent_id:int}/password", status_code=204, responses=responses(404, 422, 429))
    async def change_password(
        self,
        principal: NamedDependency[Principal],
        agent_id: ObjectId,
        data: JSONBody[PasswordIn],
    ) -> None:
        """Set the agent's console password: their own with ``current_password``
        (403 ``current_password_required`` / ``current_password_wrong``), or
        another agent's as an admin."""
        await agents.change_password(principal, agent_id, data.new_password, data.current_password)
