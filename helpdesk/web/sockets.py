"""The one websocket loop of the live updates, for every face.

A face's socket (``/console/ws``, ``/support/ws``) is accepted only from a
page of the same origin with an open session of that face (else closed with
4401). Then :func:`serve_live` runs it:

* the client sends JSON requests; ``subscribe``, ``unsubscribe``, ``ping``
  and ``pong`` are handled here, any other ``op`` by the face's
  :attr:`LiveSocket.handle` (e.g. the console's presence). A malformed or
  refused request gets ``{"type": "error", "code": …}`` and the socket stays
  open; an unexpected failure is logged and answered with ``server_error``;
* it receives what :class:`helpdesk.live.LiveConnection` queues (``event``,
  ``subscribed``, ``unsubscribed``, ``reload``, ``presence``, ``error``),
  passed through the face's :attr:`LiveSocket.outgoing`, and
  ``{"type": "ping"}`` every :attr:`LiveSocket.heartbeat_seconds`;
* a client silent for :attr:`LiveSocket.timeout_seconds` is closed (4408);
  one too slow to read its queue is told to reload and closed (4429);
* every frame is authorised at delivery by the hub
  (:class:`helpdesk.live.LiveHub`): a case leaving the person's scope ends
  its stream at once (``unsubscribed``, ``permission_denied``); when the
  person's own stream carries :class:`~helpdesk.events.AccessChanged`
  (signed out, deactivated, role or teams changed; for a customer also a
  merge, or their organization's sharing on its stream) their frames are
  held until the rights are re-read here, then judged with them; access is
  also re-read every :attr:`LiveSocket.recheck_seconds`. An ended session
  closes the socket (4401), and streams the person may no longer follow are
  left before the next frame is sent;
* an error that ends the sending or receiving task is logged and closes the
  socket (1011), so that the client reconnects and resumes; none ends a task
  silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from helpdesk.errors import HelpdeskError
from helpdesk.events import access_stream
from helpdesk.live import LiveConnection, LiveHub, run_guarded
from helpdesk.policy import Principal
from helpdesk.web.face import Face
from helpdesk.web.guards import open_principal
from helpdesk.web.sessions import Session

__all__ = [
    "GONE",
    "BadFrameError",
    "LiveSocket",
    "Socket",
    "receive_request",
    "serve_live",
    "socket_session",
]

logger = logging.getLogger(__name__)

Socket = WebSocket[Any, Any, Any]
GONE = (WebSocketDisconnect, OSError)  # the client left (uvicorn raises an OSError then)
_PING = '{"type":"ping"}'
_decode = msgspec.json.Decoder().decode
RequestHandler = Callable[[LiveHub, LiveConnection, dict[str, Any]], Awaitable[bool]]
"""A face's handler of an op: True when it knew the op."""


async def _no_ops(_hub: LiveHub, _connection: LiveConnection, _request: dict[str, Any]) -> bool:
    return False


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class LiveSocket:
    """What a face's live socket does beyond the common loop."""

    face: Face
    heartbeat_seconds: float = 15.0
    timeout_seconds: float = 45.0
    resume: bool = True
    """Whether ``subscribe`` may name the last number seen (``after``)."""
    handle: RequestHandler = _no_ops
    outgoing: Callable[[str], str] = field(default=lambda text: text)
    """What the face's client sees of a queued text (e.g. redacted for customers)."""
    on_heartbeat: Callable[[], Awaitable[None]] = _nothing
    recheck_seconds: float = 60.0
    """Access is checked again this often even without news of a change."""


class BadFrameError(Exception):
    """A frame that is not JSON text: binary, malformed, nested too deeply."""


async def receive_request(socket: Socket) -> Any:
    """The client's next request, decoded from a JSON text frame.

    :class:`BadFrameError` for anything else, so that one bad frame is answered
    with an error frame and never ends the socket.
    """
    text = await socket.receive_data(mode="text")
    try:
        return _decode(text)
    except (msgspec.DecodeError, ValueError, TypeError, RecursionError) as exc:
        raise BadFrameError(str(exc)[:200]) from exc


async def socket_session(socket: Socket, face: Face) -> tuple[Session, Principal] | None:
    """The socket's open session and its principal, if it comes from our own pages."""
    origin = socket.headers.get("origin")
    if origin and urlsplit(origin).netloc != socket.headers.get("host"):
        return None
    session = face.codec(socket.app.state.settings).from_connection(socket)
    if session is None:
        return None
    principal = await open_principal(session, face.resolve)
    return None if principal is None else (session, principal)


async def serve_live(
    socket: Socket, hub: LiveHub, connection: LiveConnection, session: Session, spec: LiveSocket
) -> None:
    """Run an accepted socket until the client leaves (see the module)."""
    loop = _Loop(socket, hub, connection, session, spec)
    principal = connection.principal
    what = f"{spec.face.cookie.face} websocket of {principal.kind} {principal.id}"
    if session.subject_id is not None:
        hub.watch_access(connection, access_stream(spec.face.cookie.face, session.subject_id))
    sender = asyncio.create_task(
        run_guarded(loop.send, what=f"{what}: sending", gone=GONE, on_failure=loop.fail)
    )
    try:
        await run_guarded(loop.receive, what=f"{what}: receiving", gone=GONE, on_failure=loop.fail)
    finally:
        hub.unsubscribe(connection)
        hub.unwatch_access(connection)
        connection.closed = True
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


@dataclass
class _Loop:
    socket: Socket
    hub: LiveHub
    connection: LiveConnection
    session: Session
    spec: LiveSocket

    async def fail(self) -> None:
        await self.socket.close(code=1011, reason="server error")

    async def send(self) -> None:
        """Forward the queue; every heartbeat a ping and the face's heartbeat work
        (which cannot stop the pings); access checked when it changed, and every
        :attr:`LiveSocket.recheck_seconds` in case that news was lost."""
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self.spec.heartbeat_seconds
        next_check = loop.time() + self.spec.recheck_seconds
        queue, changed = self.connection.queue, self.connection.access_changed
        while True:
            message, got = None, False
            if not queue.empty():  # the common case under load: no timer needed
                message, got = queue.get_nowait(), True
            elif not changed.is_set():
                message, got = await _next(queue, changed, max(0.0, next_ping - loop.time()))
            if loop.time() >= next_ping:
                next_ping = loop.time() + self.spec.heartbeat_seconds
                await self.socket.send_text(_PING)
                await self._heartbeat_work()
            if loop.time() >= next_check:
                next_check = loop.time() + self.spec.recheck_seconds
                changed.set()
            if changed.is_set():
                if not await self._recheck():
                    return
                if got and not self.connection.follows(message):
                    continue  # an event of a stream just left: never sent
            if not got:
                continue
            if message is None:  # the client fell behind: it was told to reload
                await self.socket.close(code=4429, reason="too slow")
                return
            await self.socket.send_text(self.spec.outgoing(message))

    async def _heartbeat_work(self) -> None:
        try:
            await self.spec.on_heartbeat()
        except Exception:
            logger.exception("websocket heartbeat work failed")

    async def _recheck(self) -> bool:
        """Re-read the session and the principal's rights (the frames held since
        the change are then judged with them); False when it closed."""
        if not await self.hub.recheck(self.connection, self._current_principal):
            await self.socket.close(code=4401, reason="signed out")
            return False
        return True

    async def _current_principal(self) -> Principal | None:
        return await open_principal(self.session, self.spec.face.resolve)

    async def receive(self) -> None:
        """Handle the client's requests until it leaves or stays silent too long."""
        while True:
            try:
                request = await asyncio.wait_for(
                    receive_request(self.socket), self.spec.timeout_seconds
                )
            except TimeoutError:
                with contextlib.suppress(Exception):
                    await self.socket.close(code=4408, reason="no heartbeat")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            except BadFrameError:
                self._error("bad_message", "expected a JSON text frame")
                continue
            await self._handle(request)

    async def _handle(self, request: Any) -> None:
        if not isinstance(request, dict):
            self._error("bad_message", "expected a JSON object")
            return
        op, stream = request.get("op"), request.get("stream")
        try:
            await self._dispatch(op, request)
        except HelpdeskError as exc:
            self._error(exc.code, str(exc), stream)
        except (TypeError, ValueError):
            self._error("bad_message", "malformed request", stream)
        except Exception:
            logger.exception("websocket request %r failed", op)
            self._error("server_error", "try again later", stream)

    async def _dispatch(self, op: object, request: dict[str, Any]) -> None:
        if op == "subscribe":
            after = request.get("after") if self.spec.resume else None
            after = after if isinstance(after, int) and not isinstance(after, bool) else None
            await self.hub.subscribe(self.connection, str(request.get("stream", "")), after)
        elif op == "unsubscribe":
            self.hub.unsubscribe(self.connection, str(request.get("stream", "")))
        elif op not in ("pong", "ping") and not await self.spec.handle(
            self.hub, self.connection, request
        ):
            self._error("bad_message", f"unknown op {str(op)[:40]!r}")

    def _error(self, code: str, detail: str, stream: object = None) -> None:
        message: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if isinstance(stream, str):
            message["stream"] = stream[:200]
        self.connection.put(message)


async def _next(
    queue: asyncio.Queue[str | None], changed: asyncio.Event, wait: float
) -> tuple[str | None, bool]:
    """The next queued text within ``wait`` seconds, unless access changes first."""
    getting = asyncio.ensure_future(queue.get())
    changing = asyncio.ensure_future(changed.wait())
    done, pending = await asyncio.wait(
        {getting, changing}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    if getting in done:
        return getting.result(), True
    return None, False
