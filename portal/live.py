"""The portal's websocket, ``/support/ws``: live updates of the customer's requests.

Authenticated by the portal's session cookie, from a page of the same origin
(else closed with 4401). The client sends ``{"op": "subscribe", "stream":
"customer:12"}`` (only its own customer stream is allowed, by
:func:`helpdesk.stream_access.authorize_stream`), ``{"op": "pong"}``; it receives
``hello``, ``subscribed``, ``event`` (the payload reduced to the case id and
a status change: no other case field leaves for a customer), ``reload``,
``{"type": "ping"}`` every :data:`HEARTBEAT_SECONDS` and ``error``. The
customer stream never carries internal notes. Silent for
:data:`TIMEOUT_SECONDS`: closed (4408).

Redis down: sockets are still accepted and served from the outbox (see
:mod:`helpdesk.live`). An unexpected error in a request is logged and
answered with ``{"type": "error", "code": "server_error"}``; one that ends
the sending or receiving task is logged and closes the socket (1011), so that
the client reconnects; none ends a task silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from helpdesk.errors import HelpdeskError, NotFoundError
from helpdesk.live import LiveConnection, LiveHub, run_guarded
from helpdesk.policy import Principal
from helpdesk.services.customers import principal_for_customer
from portal._session import COOKIE_NAME, PortalCodec

__all__ = ["HEARTBEAT_SECONDS", "TIMEOUT_SECONDS", "live_socket"]

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
TIMEOUT_SECONDS = 45.0
_PING = '{"type":"ping"}'
_GONE = (WebSocketDisconnect, OSError)  # the client left (uvicorn raises an OSError then)
Socket = WebSocket[Any, Any, Any]


@websocket("/ws", opt={"public": True})
async def live_socket(socket: Socket) -> None:
    """Live updates for the signed-in customer of the portal cookie."""
    runtime = socket.app.state.runtime
    principal = await _principal(socket, runtime.settings.secret_key)
    if principal is None:
        await socket.close(code=4401, reason="not signed in")
        return
    await socket.accept()
    hub: LiveHub = runtime.live
    connection = LiveConnection(principal)
    await socket.send_json({"type": "hello", "customer_id": principal.id})
    what = f"portal websocket of customer {principal.id}"

    async def close() -> None:
        await socket.close(code=1011, reason="server error")

    def sending() -> Awaitable[None]:
        return _send(socket, connection)

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


async def _principal(socket: Socket, secret_key: str) -> Principal | None:
    origin = socket.headers.get("origin")
    if origin and urlsplit(origin).netloc != socket.headers.get("host"):
        return None
    session = PortalCodec(secret_key).loads(socket.cookies.get(COOKIE_NAME))
    if session is None or session.customer_id is None:
        return None
    try:
        return await principal_for_customer(session.customer_id)
    except NotFoundError:
        return None


def redact(text: str) -> str:
    """An event as a customer may see it: its type, stream, number, case and
    status change; any other payload field (tags, team, assignee…) dropped."""
    message = json.loads(text)
    if message.get("type") != "event":
        return text
    payload = message.get("payload") or {}
    reduced: dict[str, Any] = {"case_id": payload.get("case_id")}
    status = (payload.get("changes") or {}).get("status")
    if status is not None:
        reduced["status"] = status
    message["payload"] = reduced
    return json.dumps(message)


async def _send(socket: Socket, connection: LiveConnection) -> None:
    """Forward the connection's queue (redacted), and a ping every :data:`HEARTBEAT_SECONDS`."""
    while True:
        try:
            message = await asyncio.wait_for(connection.queue.get(), HEARTBEAT_SECONDS)
        except TimeoutError:
            await socket.send_text(_PING)
            continue
        if message is None:  # the client fell behind: it was told to reload
            await socket.close(code=4429, reason="too slow")
            return
        await socket.send_text(redact(message))


async def _receive(socket: Socket, hub: LiveHub, connection: LiveConnection) -> None:
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
            await hub.subscribe(connection, str(request.get("stream", "")), None)
        elif op == "unsubscribe":
            hub.unsubscribe(connection, str(request.get("stream", "")))
        elif op not in ("pong", "ping"):
            connection.put({"type": "error", "code": "bad_message", "detail": "unknown op"})
    except HelpdeskError as exc:
        connection.put({"type": "error", "code": exc.code, "stream": request.get("stream")})
    except Exception:
        logger.exception("portal websocket: request %r failed", op)
        connection.put({"type": "error", "code": "server_error", "stream": request.get("stream")})
