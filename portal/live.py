"""The portal's websocket, ``/support/ws``: live updates of the customer's requests.

The common loop is the web kit's (:mod:`helpdesk.web.sockets`): sign-in by
the portal's session cookie from a page of the same origin (else closed with
4401), ``subscribe`` (only the customer's own stream, or their shared
organization's, by :func:`helpdesk.stream_access.authorize_stream`; always
from now on), ``unsubscribe``, pings every :data:`HEARTBEAT_SECONDS`, error
frames, closing after :data:`TIMEOUT_SECONDS` of silence, re-checking access
when it changes. What a customer sees of an event is decided by
:func:`helpdesk.stream_access.customer_view`: the case id and a status
change, nothing else. The customer stream never carries internal notes.
"""

from __future__ import annotations

from litestar import websocket

from helpdesk.live import LiveConnection
from helpdesk.stream_access import customer_view
from helpdesk.web.sockets import LiveSocket, Socket, serve_live, socket_session
from portal._auth import PORTAL

__all__ = ["HEARTBEAT_SECONDS", "TIMEOUT_SECONDS", "live_socket"]

HEARTBEAT_SECONDS = 15.0
TIMEOUT_SECONDS = 45.0
SPEC = LiveSocket(
    face=PORTAL,
    heartbeat_seconds=HEARTBEAT_SECONDS,
    timeout_seconds=TIMEOUT_SECONDS,
    resume=False,
    outgoing=customer_view,
)


@websocket("/ws", opt={"public": True})
async def live_socket(socket: Socket) -> None:
    """Live updates for the signed-in customer of the portal cookie."""
    found = await socket_session(socket, PORTAL)
    if found is None:
        await socket.close(code=4401, reason="not signed in")
        return
    session, principal = found
    await socket.accept()
    await socket.send_json({"type": "hello", "customer_id": principal.id})
    connection = LiveConnection(principal)
    await serve_live(socket, socket.app.state.runtime.live, connection, session, SPEC)
