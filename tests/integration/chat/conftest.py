"""Fixtures of the chat tests: the real app (as in the API tests) with one allowed
embedding site, and helpers to speak the widget's protocol."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from helpdesk.app import create_app
from helpdesk.settings import load_settings
from helpdesk.tables import Agent
from tests.integration.api.conftest import (
    MAX_ATTACHMENT_BYTES,
    Api,
    _reset_database,
    _seed,
    server_errors,
)

__all__ = ["SHOP", "chat_api", "server_errors"]

SHOP = "https://shop.example"


@pytest.fixture
def chat_api(
    database_url: str, db_kind: str, tmp_path: Path, server_errors: list[logging.LogRecord]
) -> Iterator[Api]:
    """The app on an empty database with the staff of the API tests; ``SHOP`` may
    embed the widget. Fails the test on any logged server error."""
    settings = load_settings(
        {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_MAX_ATTACHMENT_BYTES": str(MAX_ATTACHMENT_BYTES),
            "HELPDESK_CHAT_ORIGINS": f"{SHOP}, https://other.example",
        }
    )
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        api = Api(app=app, client=client)
        api.run(_reset_database, app.state.runtime.engine, db_kind)
        api.run(_seed, api)
        yield api
    assert not server_errors, [r.getMessage() for r in server_errors]


def widget(api: Api, origin: str = SHOP) -> Any:
    """A widget socket from a page of ``origin``."""
    return api.client.websocket_connect("/chat/ws", headers={"origin": origin})


def next_of(socket: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (pings and others skipped)."""
    for _ in range(50):
        message: dict[str, Any] = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def make_available(api: Api, role: str) -> None:
    """Set a seeded agent ``available``."""

    async def update() -> None:
        await Agent.update({Agent.availability: "available"}).where(Agent.id == api.agent_ids[role])

    api.run(update)
