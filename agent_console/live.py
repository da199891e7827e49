"""The console's websocket, ``/console/ws``: live updates, presence, heartbeats.

The browser signs in with the console's session cookie (checked here: the
console's session middleware serves plain HTTP only) from a page of the same
origin. Then it speaks JSON:

* it sends ``{"op": "subscribe", "stream": "case:12", "after": 40}`` (the
  last number it saw, or null for "from now on"), ``{"op": "unsubscribe",
  "stream": …}``, ``{"op": "presence", "case_id": 12, "state":
  "viewing"|"typing"|"left"}`` and ``{"op": "pong"}``;
* it receives what :class:`helpdesk.live.LiveConnection` queues (``event``,
  ``subscribed``, ``reload``, ``presence``), ``{"type": "ping"}`` every
  :data:`HEARTBEAT_SECONDS`, and ``{"type": "error", "code": …}`` for a
  refused request (the connection stays open).

A client silent for :data:`TIMEOUT_SECONDS` is closed (code 4408); so is one
too slow to read its queue, after a ``reload``. While a console is connected
the agent counts as present; when the last one closes, the agent goes away
after :data:`helpdesk.routing.presence.GRACE_SECONDS` unless one returns.

Redis down: sockets are still accepted and served from the outbox (see
:mod:`helpdesk.live`), pings go on, presence is kept in this process. An
unexpected error in a request is logged and answered with ``{"type":
"error", "code": "server_error"}``; one that ends the sending or receiving
task is logged and closes the socket (1011), so that the client reconnects
and resumes; none ends a task silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from agent_console._session import COOKIE_NAME, SessionCodec
from helpdesk.errors import AuthenticationError, HelpdeskError
from helpdesk.live import LiveConnection, LiveHub, run_guarded
from helpdesk.policy import Principal
from helpdesk.routing.presence import GRACE_SECONDS, PresenceStore, away_after_grace
from helpdesk.services import agents

__all__ = ["HEARTBEAT_SECONDS", "TIMEOUT_SECONDS", "live_socket"]

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
TIMEOUT_SECONDS = 45.0
_background: set[asyncio.Task[Any]] = set()
_PING = '{"type":"ping"}'
_GONE = (WebSocketDisconnect, OSError)  # the client left (uvicorn raises an OSError then)


@websocket("/ws", opt={"public": True})
async def live_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """Live updates for the signed-in agent of the session cookie."""
    runtime = socket.app.state.runtime
    principal = await _principal(socket, runtime.settings.secret_key)
    if principal is None:
        await socket.close(code=4401, reason="not signed in")
        return
    await socket.accept()
    hub: LiveHub = runtime.live
    store: PresenceStore = runtime.presence
    agent = await agents.get_agent(principal, principal.id or 0)
    connection = LiveConnection(principal, agent.name)
    await _touch(store, agent.id)
    await socket.send_json({"type": "hello", "agent_id": agent.id})
    try:
        await _serve(socket, hub, connection, store, agent.id)
    finally:
        _later(_away_after_grace(store, agent.id))


async def _serve(
    socket: WebSocket[Any, Any, Any],
    hub: LiveHub,
    connection: LiveConnection,
    store: PresenceStore,
    agent_id: int,
) -> None:
    """Run the sending and the receiving task until the client leaves; an
    unexpected error in either is logged and closes the socket."""
    what = f"console websocket of agent {agent_id}"

    async def close() -> None:
        await socket.close(code=1011, reason="server error")

    def sending() -> Awaitable[None]:
        return _send(socket, connection, store, agent_id)

    def receiving() -> Awaitable[None]:
        return _receive(socket, hub, connection)

    sender = asyncio.create_task(
        run_guarded(sending, what=f"{what}: sending", gone=_GONE, on_failure=close)
    )
    try:
        await run_guarded(receiving, what=f"{what}: receiving", gone=_GONE, on_failure=close)
    finally:
        hub.unsubscribe(connection)
        connection.closed = True
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _principal(socket: WebSocket[Any, Any, Any], secret_key: str) -> Principal | None:
    """The session cookie's agent, if the socket comes from our own pages."""
    origin = socket.headers.get("origin")
    if origin and urlsplit(origin).netloc != socket.headers.get("host"):
        return None
    session = SessionCodec(secret_key).loads(socket.cookies.get(COOKIE_NAME))
    if session is None or session.agent_id is None:
        return None
    try:
        return await agents.principal_for_agent(session.agent_id)
    except AuthenticationError:
        return None


Socket = WebSocket[Any, Any, Any]


async def _send(
    socket: Socket, connection: LiveConnection, store: PresenceStore, agent_id: int
) -> None:
    """Forward the connection's queue, and every :data:`HEARTBEAT_SECONDS` a ping
    (busy or not: the client answers it, which keeps its side of the heartbeat)
    and then a presence touch (which cannot stop the pings)."""
    loop = asyncio.get_running_loop()
    next_ping = loop.time() + HEARTBEAT_SECONDS
    queue = connection.queue
    while True:
        got, message = False, None
        if not queue.empty():  # the common case under load: no timer needed
            message, got = queue.get_nowait(), True
        else:
            wait = next_ping - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    message, got = await asyncio.wait_for(queue.get(), wait), True
        if loop.time() >= next_ping:
            next_ping = loop.time() + HEARTBEAT_SECONDS
            await socket.send_text(_PING)
            await _touch(store, agent_id)
        if not got:
            continue
        if message is None:  # the client fell behind: it was told to reload
            await socket.close(code=4429, reason="too slow")
            return
        await socket.send_text(message)


async def _receive(
    socket: WebSocket[Any, Any, Any], hub: LiveHub, connection: LiveConnection
) -> None:
    """Handle the client's requests until it leaves or stays silent too long."""
    while True:
        try:
            request = await asyncio.wait_for(socket.receive_json(), TIMEOUT_SECONDS)
        except TimeoutError:
            with contextlib.suppress(Exception):
                await socket.close(code=4408, reason="no heartbeat")
            return
        except (WebSocketDisconnect, RuntimeError):
            return
        except ValueError:
            connection.put({"type": "error", "code": "bad_message", "detail": "expected JSON"})
            continue
        await _handle(hub, connection, request)


async def _handle(hub: LiveHub, connection: LiveConnection, request: Any) -> None:
    op = request.get("op") if isinstance(request, dict) else None
    try:
        if op == "subscribe":
            after = request.get("after")
            await hub.subscribe(
                connection,
                str(request.get("stream", "")),
                after if isinstance(after, int) else None,
            )
        elif op == "unsubscribe":
            hub.unsubscribe(connection, str(request.get("stream", "")))
        elif op == "presence":
            await hub.announce(
                connection, int(request.get("case_id", 0)), str(request.get("state"))
            )
        elif op not in ("pong", "ping"):
            connection.put({"type": "error", "code": "bad_message", "detail": f"unknown op {op!r}"})
    except HelpdeskError as exc:
        connection.put(
            {"type": "error", "code": exc.code, "detail": str(exc), "stream": request.get("stream")}
        )
    except (TypeError, ValueError):
        connection.put({"type": "error", "code": "bad_message", "detail": "malformed request"})
    except Exception:
        logger.exception("console websocket: request %r failed", op)
        connection.put({"type": "error", "code": "server_error", "detail": "try again later",
                        "stream": request.get("stream")})  # fmt: skip


async def _touch(store: PresenceStore, agent_id: int) -> None:
    """Count the agent present; a failure is logged and ends nothing."""
    try:
        await store.touch(agent_id, TIMEOUT_SECONDS)
    except Exception:
        logger.exception("console presence of agent %s could not be recorded", agent_id)


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
