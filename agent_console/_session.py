"""Console sessions in a signed cookie, and the CSRF token bound to each session.

The cookie holds the signed-in agent's id, a random nonce, an expiry time
and at most one flash message, as JSON signed with HMAC-SHA256 under a key
derived from ``settings.secret_key``. Every web process of a deployment
shares that key, so any of them accepts the cookie; nothing is stored on the
server.

What this does **not** guarantee: a signed cookie cannot be revoked. Signing
out replaces the browser's cookie, but a copy taken earlier stays valid until
its expiry (:data:`SESSION_SECONDS`). An agent deactivated meanwhile is
refused all the same, because every request looks the agent up again.

CSRF: each session has a nonce; the token that forms must send back is an
HMAC of it (a synchronizer token, never stored). Signing in or out draws a
new nonce, so tokens of an earlier session stop working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "hd_console"
COOKIE_PATH = "/console"
SESSION_SECONDS = 12 * 3600  # a signed-in session: one working day
ANONYMOUS_SECONDS = 24 * 3600  # a visitor's session (the sign-in form's CSRF nonce)
_STATE_KEY = "console_session"


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    agent_id: int | None
    nonce: str
    expires: int
    flash: tuple[str, str] | None = None


@dataclass
class ConsoleSession:
    """The session of one request; changes are written back to the cookie."""

    agent_id: int | None
    nonce: str
    expires: int
    flash: tuple[str, str] | None = None
    changed: bool = False
    _token: Callable[[str], str] = field(default=lambda nonce: "", repr=False)

    @property
    def csrf_token(self) -> str:
        """The token every form of this session must send back."""
        return self._token(self.nonce)

    def sign_in(self, agent_id: int, now: float | None = None) -> None:
        """Start a signed-in session (new nonce, new expiry)."""
        self.agent_id = agent_id
        self._renew(SESSION_SECONDS, now)

    def sign_out(self, now: float | None = None) -> None:
        """End the signed-in session; the visitor keeps a fresh anonymous one."""
        self.agent_id = None
        self._renew(ANONYMOUS_SECONDS, now)

    def _renew(self, seconds: int, now: float | None) -> None:
        self.nonce = secrets.token_urlsafe(18)
        self.expires = int((time.time() if now is None else now) + seconds)
        self.changed = True

    def set_flash(self, kind: str, message: str) -> None:
        """Remember one message (``kind`` "ok" or "error") for the next page shown."""
        self.flash = (kind, message)
        self.changed = True

    def pop_flash(self) -> tuple[str, str] | None:
        """The remembered message, forgotten from now on."""
        flash, self.flash = self.flash, None
        if flash is not None:
            self.changed = True
        return flash


class SessionCodec:
    """Signs and checks session cookies with a key derived from the secret key."""

    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(
            secret_key.encode(), b"helpdesk agent console session v1", hashlib.sha256
        ).digest()

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def csrf_token(self, nonce: str) -> str:
        """The CSRF token of a session nonce."""
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: ConsoleSession, token: object) -> bool:
        """True when ``token`` is the CSRF token of ``session`` (constant-time).

        Anything else is refused, never raised on: a missing token, an uploaded
        file, a text with non-ASCII characters (a real token is hex).
        """
        return (
            isinstance(token, str)
            and token.isascii()  # compare_digest raises TypeError on non-ASCII text
            and hmac.compare_digest(self.csrf_token(session.nonce), token)
        )

    def new_session(self, now: float | None = None) -> ConsoleSession:
        """A fresh anonymous session, to be written to the cookie."""
        session = ConsoleSession(agent_id=None, nonce="", expires=0, _token=self.csrf_token)
        session.sign_out(now)
        return session

    def dumps(self, session: ConsoleSession) -> str:
        """The cookie value of ``session``."""
        payload = msgspec.json.encode(
            _Payload(session.agent_id, session.nonce, session.expires, session.flash)
        )
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def loads(self, value: str | None, now: float | None = None) -> ConsoleSession | None:
        """The session in a cookie value; None when absent, forged, malformed or expired."""
        if not value or value.count(".") != 1 or len(value) > 2048:
            return None
        encoded, signature = value.split(".")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._sign(payload)):
            return None
        try:
            data = msgspec.json.decode(payload, type=_Payload)
        except msgspec.DecodeError:
            return None
        if data.expires <= (time.time() if now is None else now):
            return None
        return ConsoleSession(
            agent_id=data.agent_id,
            nonce=data.nonce,
            expires=data.expires,
            flash=data.flash,
            _token=self.csrf_token,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> ConsoleSession:
    """The session that :class:`SessionMiddleware` loaded for this request."""
    session = connection.scope.get("state", {}).get(_STATE_KEY)
    if not isinstance(session, ConsoleSession):  # the middleware is not mounted: a wiring bug
        raise RuntimeError("the console session middleware did not run")
    return session


class SessionMiddleware(ASGIMiddleware):
    """Loads the console session from its cookie (or starts an anonymous one)
    and writes it back when a handler changed it."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, codec: SessionCodec, *, secure: bool) -> None:
        self.codec = codec
        self.secure = secure

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the route with ``scope["state"]["console_session"]`` set."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        session = self.codec.loads(connection.cookies.get(COOKIE_NAME))
        if session is None:
            session = self.codec.new_session()
            # Only a page view starts a session: a cross-site POST arrives without
            # the (SameSite=Lax) cookie and must not replace, i.e. sign out, the real one.
            session.changed = scope.get("method") in ("GET", "HEAD")
        scope.setdefault("state", {})[_STATE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", self._cookie(session).to_header(header=""))
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    def _cookie(self, session: ConsoleSession) -> Cookie:
        return Cookie(
            key=COOKIE_NAME,
            value=self.codec.dumps(session),
            path=COOKIE_PATH,
            max_age=max(0, session.expires - int(time.time())),
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
