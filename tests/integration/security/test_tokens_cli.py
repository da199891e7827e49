"""``helpdesk tokens list|revoke`` (SQLite and PostgreSQL): tokens by id and name,
never the token; a revoked token no longer authenticates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from helpdesk.db import bind_engine, create_engine
from helpdesk.errors import AuthenticationError
from helpdesk.services import api_tokens
from tests.integration.test_cli import cli, url

__all__ = ["url"]  # the fixture, imported to be found here


def _authenticates(database_url: str, token: str) -> bool:
    async def check() -> bool:
        bind_engine(create_engine(database_url))
        try:
            await api_tokens.authenticate_token(token)
        except AuthenticationError:
            return False
        return True

    return asyncio.run(check())


def test_tokens_are_listed_and_revoked_from_the_command_line(url: str, tmp_path: Path) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    made = cli(
        url, tmp_path, "create-agent", "--name", "Lan", "--email", "lan@example.vn",
        "--no-password", "--token",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]

    listed = cli(url, tmp_path, "tokens", "list", "--agent", "LAN@example.vn")
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    token_id = line.split()[0]
    assert " cli " in f" {line} "
    assert "active" in line
    assert token not in listed.output
    assert _authenticates(url, token)

    revoked = cli(url, tmp_path, "tokens", "revoke", "--agent", "lan@example.vn", token_id)
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked token {token_id}" in revoked.output
    assert not _authenticates(url, token)
    assert cli(url, tmp_path, "tokens", "list", "--agent", "lan@example.vn").output == "no token\n"
    everything = cli(url, tmp_path, "tokens", "list", "--agent", "lan@example.vn", "--all")
    assert "revoked" in everything.output

    unknown = cli(url, tmp_path, "tokens", "revoke", "--agent", "lan@example.vn", "999")
    assert unknown.exit_code == 1
    assert "not found" in unknown.output


@pytest.mark.parametrize("agent", ["nobody@example.vn", "4242"])
def test_an_unknown_agent_is_one_line_of_error(url: str, tmp_path: Path, agent: str) -> None:
    assert cli(url, tmp_path, "migrate").exit_code == 0
    result = cli(url, tmp_path, "tokens", "list", "--agent", agent)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
