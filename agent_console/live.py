"""The console's websocket, ``/console/ws``: live updates, presence, heartbeats.

The common loop is the web kit's (:mod:`helpdesk.web.sockets`: sign-in by
the console's session cookie from a page of the same origin, ``subscribe``
with ``after`` to resume, ``unsubscribe``, pings every
:data:`HEARTBEAT_SECONDS`, error frames, closing after
:data:`TIMEOUT_SECONDS` of silence, re-checking access when it changes).
The console adds ``{"op": "presence", "case_id": 12, "state":
"viewing"|"typing"|"left"}``, and the agent's own presence: while a console
is connected the agent counts as present; when the last one closes, the
agent goes away after :data:`helpdesk.routing.presence.GRACE_SECONDS`
unless one returns, and is available again when one connects later (unless
the agent chose "away").

Redis down: sockets are still accepted and served from the outbox (see
:mod:`helpdesk.live`), pings go on, presence is kept in this process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import websocket

from agent_console._auth import CONSOLE
from helpdesk.live import LiveConnection, LiveHub
from helpdesk.routing.presence import (
    GRACE_SECONDS,
    PresenceStore,
    away_after_grace,
    back_after_absence,
)
from helpdesk.services import agents
from helpdesk.web.sockets import LiveSocket, Socket, serve_live, socket_session

__all__ = ["HEARTBEAT_SECONDS", "TIMEOUT_SECONDS", "live_socket"]

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
TIMEOUT_SECONDS = 45.0
_background: set[asyncio.Task[Any]] = set()


@websocket("/ws", opt={"public": True})
async def live_socket(socket: Socket) -> None:
    """Live updates for the signed-in agent of the session cookie."""
    found = await socket_session(socket, CONSOLE)
    if found is None:
        await socket.close(code=4401, reason="not signed in")
        return
    session, principal = found
    await socket.accept()
    runtime = socket.app.state.runtime
    store: PresenceStore = runtime.presence
    agent = await agents.get_agent(principal, principal.id or 0)
    connection = LiveConnection(principal, agent.name)
    await _touch(store, agent.id)
    await _back_after_absence(agent.id)
    await socket.send_json({"type": "hello", "agent_id": agent.id})
    spec = LiveSocket(
        face=CONSOLE,
        heartbeat_seconds=HEARTBEAT_SECONDS,
        timeout_seconds=TIMEOUT_SECONDS,
        handle=_presence,
        on_heartbeat=lambda: _touch(store, agent.id),
    )
    try:
        await serve_live(socket, runtime.live, connection, session, spec)
    finally:
        _later(_away_after_grace(store, agent.id))


async def _presence(hub: LiveHub, connection: LiveConnection, request: dict[str, Any]) -> bool:
    """``presence``: tell the other viewers of a case what this agent does there."""
    if request.get("op") != "presence":
        return False
    await hub.announce(connection, int(request.get("case_id", 0)), str(request.get("state")))
    return True


async def _touch(store: PresenceStore, agent_id: int) -> None:
    """Count the agent present; a failure is logged and ends nothing."""
    try:
        await store.touch(agent_id, TIMEOUT_SECONDS)
    except Exception:
        logger.exception("console presence of agent %s could not be recorded", agent_id)


async def _back_after_absence(agent_id: int) -> None:
    """Available again if only the grace period had set the agent away; a
    failure is logged and ends nothing."""
    try:
        await back_after_absence(agent_id)
    except Exception:
        logger.exception("making agent %s available again failed", agent_id)


async def _away_after_grace(store: PresenceStore, agent_id: int) -> None:
    try:
        await away_after_grace(store, agent_id, GRACE_SECONDS)
    except Exception:
        logger.exception("setting agent %s away after their console left failed", agent_id)


def _later(coroutine: Any) -> None:
    """Run a coroutine in the background, keeping a reference until it is done."""
    task = asyncio.create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
