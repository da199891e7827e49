"""API tokens of agents: made, listed, revoked, and turned back into a principal.

Only a token's SHA-256 is stored; the token itself is shown once, when it is
made (:func:`create_token`). Tokens are listed by id, name and dates
(:func:`list_tokens`) and revoked one by one (:func:`revoke_token`), by their
agent or an admin. :func:`authenticate_token` is what the API's bearer
authentication asks.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import AuthenticationError, NotFoundError
from helpdesk.policy import Action, Principal, require
from helpdesk.rows import as_utc, stamp
from helpdesk.schemas import TokenOut
from helpdesk.services import audit
from helpdesk.services.agents import get_agent, principal_for_agent
from helpdesk.tables import ApiToken

__all__ = [
    "TOKEN_PREFIX",
    "TokenInfo",
    "authenticate_token",
    "create_token",
    "list_tokens",
    "revoke_token",
]

TOKEN_PREFIX = "hd_"  # noqa: S105 - a prefix, not a secret


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """An API token as listed: never the token, nor its hash."""

    id: int
    agent_id: int
    name: str
    created_at: datetime
    revoked: bool
    revoked_at: datetime | None


async def create_token(principal: Principal, agent_id: int, name: str = "") -> TokenOut:
    """A new API token for an agent (admins, or the agent for themselves).

    Only the token's SHA-256 is stored; the token is returned this once.
    """
    if not (principal.kind == "agent" and principal.id == agent_id):
        require(principal, Action.ADMINISTER)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with transaction():
        await get_agent(principal, agent_id)
        rows = await ApiToken.insert(ApiToken(agent=agent_id, name=name, token_hash=_digest(token)))
        await audit.record(principal, "token.created", entity="agent", entity_id=agent_id)
    return TokenOut(id=int(rows[0]["id"]), agent_id=agent_id, token=token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_self_or_admin(principal: Principal, agent_id: int) -> None:
    if not (principal.kind == "agent" and principal.id == agent_id):
        require(principal, Action.ADMINISTER)


def _token_info(row: dict[str, Any]) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        agent_id=row["agent"],
        name=row["name"],
        created_at=stamp(row["created_at"]),
        revoked=bool(row["revoked"]),
        revoked_at=as_utc(row["revoked_at"]),
    )


async def list_tokens(
    principal: Principal, agent_id: int, *, include_revoked: bool = False
) -> list[TokenInfo]:
    """The API tokens of an agent, newest first (the agent themselves, or admins).

    Shows ids, names and dates: a token itself is shown only when it is made.
    """
    _require_self_or_admin(principal, agent_id)
    await get_agent(principal, agent_id)
    query = (
        ApiToken.select(
            ApiToken.id, ApiToken.agent, ApiToken.name, ApiToken.created_at,
            ApiToken.revoked, ApiToken.revoked_at,
        )
        .where(ApiToken.agent == agent_id)
        .order_by(ApiToken.id, ascending=False)
    )  # fmt: skip
    if not include_revoked:
        query = query.where(ApiToken.revoked == False)  # noqa: E712 - Piccolo needs ==
    return [_token_info(row) for row in await query]


async def revoke_token(principal: Principal, agent_id: int, token_id: int) -> TokenInfo:
    """Revoke one API token of an agent (the agent themselves, or admins); at once
    in this process, within the API's principal cache TTL in others.

    :class:`NotFoundError` for a token that is not this agent's; revoking a
    revoked token changes nothing and answers the same.
    """
    _require_self_or_admin(principal, agent_id)
    async with transaction():
        await get_agent(principal, agent_id)
        mine = (ApiToken.id == token_id) & (ApiToken.agent == agent_id)
        revoked = (
            await ApiToken.update({ApiToken.revoked: True, ApiToken.revoked_at: utcnow()})
            .where(mine & (ApiToken.revoked == False))  # noqa: E712
            .returning(ApiToken.id)
        )
        row = await ApiToken.select().where(mine).first()
        if row is None:
            raise NotFoundError(f"token {token_id} of agent {agent_id} not found")
        if revoked:
            await audit.record(
                principal, "token.revoked", entity="agent", entity_id=agent_id,
                changes={"token_id": token_id},
            )  # fmt: skip
    return _token_info(row)


async def authenticate_token(token: str) -> Principal:
    """The principal of a bearer token, or :class:`AuthenticationError`."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise AuthenticationError("invalid token")
    row = (
        await ApiToken.select(ApiToken.agent)
        .where((ApiToken.token_hash == _digest(token)) & (ApiToken.revoked == False))  # noqa: E712
        .first()
    )
    if row is None:
        raise AuthenticationError("invalid token")
    return await principal_for_agent(int(row["agent"]))
