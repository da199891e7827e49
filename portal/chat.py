"""The chat widget's websocket, ``/chat/ws``: thin; the chat itself is
:mod:`helpdesk.channels.chat`.

The socket is refused (close code 4403) when the page's ``Origin`` is neither
the helpdesk's own nor one of ``HELPDESK_CHAT_ORIGINS``. Then JSON both ways:

* the widget sends ``{"op": "hello", "token": …|null, "team": 1, "lang": "vi"}``
  first and gets ``{"type": "hello", "texts": {…}, "available": bool, "chat":
  {…}|null}`` (``chat``: the open chat of a still valid visitor token, with its
  transcript);
* a ``chat`` is :class:`helpdesk.channels.chat.ChatView`: its token, ``case_id``,
  ``reference``, ``status``, the ``name`` the visitor typed, ``verified`` and its
  ``lines``; never a customer id nor a name stored for a customer (the typed
  address is not proven: the chat is filed under an unverified contact);
* ``{"op": "start", "name", "email", "message"}`` opens a chat
  (``{"type": "started", "chat": …}``, whose ``token`` the widget keeps);
  ``{"op": "request", …}`` (same fields) opens a web request instead
  (``{"type": "request_received", "reference"}``);
* ``{"op": "say", "text"}`` adds a line (``{"type": "line", "line"}``; the same
  line comes again from the stream, the widget keeps one per ``id``);
* ``start``, ``request`` and ``say`` may carry ``"id"``: 16 to 64 random URL-safe
  characters made by the widget for that operation. The answer (or the
  ``error``) repeats it, and the same frame sent again (after a reconnection,
  say) creates nothing more: it gets the first answer again;
* ``{"op": "typing", "state": "typing"|"left"}`` shows the customer typing in
  the console; ``{"op": "transcript"}`` mails the transcript
  (``{"type": "transcript_queued"}``) once the chat is verified, and before
  that mails a link verifying the typed address instead
  (``{"type": "verification_sent"}``); ``{"op": "ping"}``.

``GET /chat/verify/{token}`` shows that link's page, one button (mail scanners
open links too); ``POST`` to the same path uses it up and links the chat.

It receives the agents' public replies (``line``), status changes
(``status``, ``ended`` when solved or closed), the agents' typing (``typing``),
``{"type": "ping"}`` every :data:`HEARTBEAT_SECONDS`, ``{"type": "reload"}``
(reconnect and resume) and ``{"type": "error", "code", "op"}``. Silent for
:data:`TIMEOUT_SECONDS`: closed (4408). An unexpected error is logged: in a
request it is answered with the ``server_error`` code; in the task that
forwards the chat's updates it closes the socket (1011), so that the widget
reconnects and resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Router, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.response import Template

from helpdesk.channels import chat
from helpdesk.domain import case_reference
from helpdesk.errors import HelpdeskError
from helpdesk.i18n import negotiate, translator
from helpdesk.live import LiveConnection, LiveHub, run_guarded
from helpdesk.services.customers import principal_for_customer
from helpdesk.settings import Settings
from helpdesk.web.clients import client_address
from helpdesk.web.sockets import BadFrameError, receive_request
from portal._pages import page
from portal._render import PathToken
from portal.chat_texts import OFFLINE_SUBJECT, widget_texts

__all__ = ["HEARTBEAT_SECONDS", "TIMEOUT_SECONDS", "chat_router", "origin_allowed"]

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20.0
TIMEOUT_SECONDS = 75.0
Socket = WebSocket[Any, Any, Any]
_GONE = (WebSocketDisconnect, OSError)  # the client left (uvicorn raises an OSError then)


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """The helpdesk's own pages, and the configured sites; no ``Origin`` (not a
    browser: no ambient credentials to abuse, the token travels in the messages)."""
    if not origin:
        return True
    if urlsplit(origin).netloc == host:
        return True
    return origin.lower().rstrip("/") in allowed


@websocket("/chat/ws", opt={"public": True})
async def chat_socket(socket: Socket) -> None:
    """One visitor's chat widget."""
    runtime = socket.app.state.runtime
    settings: Settings = runtime.settings
    if not origin_allowed(
        socket.headers.get("origin"), socket.headers.get("host"), settings.chat_origins
    ):
        await socket.close(code=4403, reason="origin not allowed")
        return
    await socket.accept()
    visitor = _Visitor(socket, runtime.live, settings)
    try:
        await visitor.run()
    finally:
        await visitor.leave()


def _op_id(request: Any) -> str | None:
    """The widget's id of the operation in ``request``, if it gave one."""
    value = request.get("id") if isinstance(request, dict) else None
    return value if isinstance(value, str) and value else None


class _Visitor:
    """The state of one widget socket."""

    def __init__(self, socket: Socket, hub: LiveHub, settings: Settings) -> None:
        self.socket = socket
        self.hub = hub
        self.settings = settings
        self.client_ip = client_address(socket)
        self.locale: str = settings.default_locale
        self.team_id: int | None = None
        self.session: chat.ChatSession | None = None
        self.connection: LiveConnection | None = None
        self.forwarder: asyncio.Task[None] | None = None
        self.typing = False
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message (the forwarder and the request loop share the socket)."""
        async with self._lock:
            await self.socket.send_json(message)

    async def run(self) -> None:
        """Answer the widget until it leaves or stays silent too long."""
        while True:
            try:
                request = await asyncio.wait_for(receive_request(self.socket), TIMEOUT_SECONDS)
            except TimeoutError:
                with contextlib.suppress(Exception):
                    await self.socket.close(code=4408, reason="no heartbeat")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            except BadFrameError:
                await self.send({"type": "error", "code": "bad_message", "op": None})
                continue
            op = request.get("op") if isinstance(request, dict) else None
            op_id = _op_id(request)
            try:
                await self.handle(str(op), request)
            except HelpdeskError as exc:
                await self.send({"type": "error", "code": exc.code, "op": op, "id": op_id})
            except (TypeError, ValueError, KeyError, msgspec.ValidationError):
                await self.send(
                    {"type": "error", "code": "validation_error", "op": op, "id": op_id}
                )
            except _GONE:
                return  # the widget left while we answered
            except Exception:
                logger.exception("chat websocket: request %r failed", op)
                await self.send({"type": "error", "code": "server_error", "op": op, "id": op_id})

    async def handle(self, op: str, request: dict[str, Any]) -> None:
        """One request of the widget."""
        if op == "hello":
            await self.hello(request)
        elif op in ("start", "request"):
            data = chat.ChatStart(
                name=str(request["name"]), email=str(request["email"]),
                message=str(request["message"]), team_id=self.team_id, locale=self.locale,
            )  # fmt: skip
            op_id = _op_id(request)
            if op == "request":
                subject = translator(self.locale)(OFFLINE_SUBJECT)
                receipt = await chat.leave_request(
                    data, subject, client_ip=self.client_ip, client_id=op_id
                )
                await self.send(
                    {"type": "request_received", "reference": receipt.reference, "id": op_id}
                )
                return
            session = await chat.start_chat(
                self.settings.secret_key, data, client_ip=self.client_ip, client_id=op_id
            )
            await self.follow(session)
            chat_view = msgspec.to_builtins(session.view())
            await self.send({"type": "started", "chat": chat_view, "id": op_id})
        elif op == "say":
            text = str(request.get("text", ""))
            line = await chat.say(self._session(), text, client_id=_op_id(request))
            if self.typing and self.connection is not None and self.session is not None:
                self.typing = False  # the line is sent: no longer typing, in the console too
                await self.hub.announce_customer(self.connection, self.session.case_id, "left")
            frame = {"type": "line", "line": msgspec.to_builtins(line), "id": _op_id(request)}
            await self.send(frame)
        elif op == "typing":
            state = "typing" if request.get("state") == "typing" else "left"
            if self.connection is not None and self.session is not None:
                self.typing = state == "typing"
                await self.hub.announce_customer(self.connection, self.session.case_id, state)
        elif op == "transcript":
            answer = await chat.email_transcript(
                self._session(),
                self.locale,
                base_url=self.settings.base_url,
                timezone=self.settings.timezone,
            )
            if isinstance(answer, chat.VerificationSent):
                await self.send({"type": "verification_sent"})
            else:
                await self.send({"type": "transcript_queued"})
        elif op not in ("ping", "pong"):
            await self.send({"type": "error", "code": "bad_message", "op": op})

    def _session(self) -> chat.ChatSession:
        if self.session is None:
            raise chat.ChatEndedError("no chat is open on this socket")
        return self.session

    async def hello(self, request: dict[str, Any]) -> None:
        """Language, team, availability and the visitor's open chat, if any."""
        lang = request.get("lang")
        self.locale = negotiate(None, str(lang)[:2].lower() if lang else None,
                                self.settings.default_locale)  # fmt: skip
        self.team_id = _team_id(request.get("team"))
        token = request.get("token")
        session = None
        if isinstance(token, str) and token:
            session = await chat.resume_chat(self.settings.secret_key, token[:200])
        if session is not None:
            await self.follow(session)
            session.lines = await chat.transcript(session.case_id)  # after subscribing: no gap
        await self.send({
            "type": "hello",
            "texts": widget_texts(self.locale),
            "available": await chat.agents_available(self.team_id),
            "chat": msgspec.to_builtins(session.view()) if session else None,
        })  # fmt: skip

    async def follow(self, session: chat.ChatSession) -> None:
        """Follow the customer's stream (public events only) and the case's staff presence."""
        await self.leave()
        principal = await principal_for_customer(session.customer_id)
        self.session = session
        self.connection = LiveConnection(principal, session.visitor_name)
        await self.hub.subscribe(self.connection, f"customer:{principal.id}", None)
        await self.hub.watch_presence(self.connection, session.case_id)
        connection, case_id = self.connection, session.case_id
        self.forwarder = asyncio.create_task(
            run_guarded(
                lambda: self.forward(connection, case_id),
                what=f"chat websocket of case {case_id}: forwarding",
                gone=_GONE,
                on_failure=self._close_after_failure,
            )
        )

    async def _close_after_failure(self) -> None:
        await self.socket.close(code=1011, reason="server error")

    async def forward(self, connection: LiveConnection, case_id: int) -> None:
        """Turn the connection's queue into widget messages; ping when idle."""
        while True:
            try:
                text = await asyncio.wait_for(connection.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await self.send({"type": "ping"})
                continue
            if text is None:
                await self.send({"type": "reload"})
                with contextlib.suppress(Exception):
                    await self.socket.close(code=4429, reason="too slow")
                return
            message = json.loads(text)
            kind = message.get("type")
            if kind == "event":
                update = await chat.widget_update(case_id, message["event"], message["payload"])
                if update is not None:
                    await self.send(update)
            elif kind == "presence" and message.get("case_id") == case_id:
                await self.send({"type": "typing", "name": message.get("name"),
                                 "state": message.get("state")})  # fmt: skip
            elif kind == "reload":
                await self.send({"type": "reload"})

    async def leave(self) -> None:
        """Stop following (idempotent); a customer who was typing is no longer."""
        if self.forwarder is not None:
            self.forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.forwarder
            self.forwarder = None
        if self.connection is not None:
            if self.typing and self.session is not None:
                with contextlib.suppress(Exception):
                    await self.hub.announce_customer(self.connection, self.session.case_id, "left")
            self.hub.unsubscribe(self.connection)
            self.hub.unwatch_presence(self.connection)
            self.connection.closed = True
            self.connection = None
        self.typing = False


@get("/chat/verify/{token:str}", opt={"public": True}, include_in_schema=False)
async def show_verification(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """The page of a mailed verification link: one button, nothing changed yet
    (mail scanners open links; only a person's click verifies)."""
    usable = await chat.verification_usable(token)
    return page(request, "portal/chat_verify.html", status_code=200 if usable else 400,
                token=token, usable=usable, done=False, reference=None)  # fmt: skip


@post("/chat/verify/{token:str}", opt={"public": True}, include_in_schema=False, status_code=200)
async def use_verification(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """Use the link up: the address is verified and the chat linked (the token in the
    path is the credential, single use; no session is involved)."""
    try:
        case_id = await chat.confirm_verification(token)
    except chat.LinkInvalidError:
        return page(request, "portal/chat_verify.html", status_code=400,
                    token=token, usable=False, done=False, reference=None)  # fmt: skip
    return page(request, "portal/chat_verify.html", token="", usable=False, done=True,
                reference=case_reference(case_id))  # fmt: skip


chat_router = Router(path="/", route_handlers=[chat_socket, show_verification, use_verification])


def _team_id(value: object) -> int | None:
    """The team the embedding page named (``data-team``), if it is a plausible id."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= 2**31 - 1:
        return int(text)
    return None
