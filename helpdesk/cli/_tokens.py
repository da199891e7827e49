"""The ``helpdesk tokens list|revoke`` commands: an agent's API tokens, as the system.

Tokens are listed by id, name and dates (the token itself is shown only when
it is made, and only its hash is stored); one is revoked by its id. Revoking
takes effect at once for new look-ups; a web process that cached the token
keeps it for up to its principal cache's TTL (10 s).
"""

from __future__ import annotations

import asyncio

import click

from helpdesk.cli import _db
from helpdesk.errors import NotFoundError
from helpdesk.policy import SYSTEM
from helpdesk.services import agents, api_tokens
from helpdesk.services.api_tokens import TokenInfo
from helpdesk.settings import Settings, load_settings
from helpdesk.text import normalize_email

_AGENT = click.option(
    "--agent", "agent", required=True, help="The agent: their id or sign-in address."
)


async def _agent_id(agent: str) -> int:
    if agent.isdigit():
        return (await agents.get_agent(SYSTEM, int(agent))).id
    address = normalize_email(agent)
    for found in await agents.list_agents(SYSTEM):
        if found.email == address:
            return found.id
    raise NotFoundError(f"no agent with the address {address}")


async def _list(settings: Settings, agent: str, include_revoked: bool) -> list[TokenInfo]:
    async with _db.open_database(settings, pool_size=1):
        await _db.require_schema()
        agent_id = await _agent_id(agent)
        return await api_tokens.list_tokens(SYSTEM, agent_id, include_revoked=include_revoked)


async def _revoke(settings: Settings, agent: str, token_id: int) -> TokenInfo:
    async with _db.open_database(settings, pool_size=1):
        await _db.require_schema()
        return await api_tokens.revoke_token(SYSTEM, await _agent_id(agent), token_id)


def describe(token: TokenInfo) -> str:
    """One line about ``token`` for ``tokens list`` (never the token: it is not stored)."""
    made = token.created_at.isoformat(timespec="seconds")
    state = "active"
    if token.revoked:
        when = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "?"
        state = f"revoked {when}"
    return f"{token.id}  {token.name or '-'}  created {made}  {state}"


@click.group()
def tokens() -> None:
    """Agents' API tokens: list them, revoke one."""


@tokens.command("list")
@_AGENT
@click.option("--all", "include_revoked", is_flag=True, help="List revoked tokens too.")
def tokens_list(agent: str, include_revoked: bool) -> None:
    """The agent's API tokens, newest first: id, name, created, state."""
    found = asyncio.run(_list(load_settings(), agent, include_revoked))
    if not found:
        click.echo("no token")
    for token in found:
        click.echo(describe(token))


@tokens.command("revoke")
@_AGENT
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def tokens_revoke(agent: str, token_id: int) -> None:
    """Revoke the agent's token TOKEN_ID (as listed by `helpdesk tokens list`)."""
    revoked = asyncio.run(_revoke(load_settings(), agent, token_id))
    click.echo(f"revoked token {revoked.id} ({revoked.name or 'no name'})")
