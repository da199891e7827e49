"""Browser sessions of a web face: the signed cookie, its CSRF token, and
signing in and out.

The cookie holds, as JSON signed with HMAC-SHA256 under a key derived from
``settings.secret_key`` and the face's name: the signed-in person's id (None
for a visitor), the token of their server-side session
(:mod:`helpdesk.services.web_sessions`), a random nonce, an expiry time and
at most one flash message. Every web process of a deployment shares the key,
so any of them accepts the cookie. A console cookie is never a portal
cookie, nor the reverse (different key, name and path).

Revocation: the cookie alone proves nothing once its session has ended;
:func:`helpdesk.web.guards.sign_in_guard` checks the session on every
signed-in request and the websockets check it when access changes.

CSRF: each session has a nonce; the token forms send back is an HMAC of it
(a synchronizer token, never stored). Signing in or out draws a new nonce,
so tokens of an earlier session stop working.
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

from helpdesk.services import web_sessions
from helpdesk.services.web_sessions import Face

__all__ = [
    "CookieRules",
    "Session",
    "SessionCodec",
    "SessionMiddleware",
    "current_session",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
]

_STATE_KEY = "web_session"
_MAX_COOKIE = 2048


@dataclass(frozen=True)
class CookieRules:
    """How one face keeps its sessions: cookie name and path, lifetimes."""

    face: Face
    cookie_name: str
    path: str
    signed_in_seconds: int
    anonymous_seconds: int = 24 * 3600


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    subject_id: int | None
    token: str | None
    nonce: str
    expires: int
    flash: tuple[str, str] | None = None


@dataclass
class Session:
    """The session of one request; changes are written back to the cookie."""

    rules: CookieRules
    subject_id: int | None
    token: str | None
    nonce: str
    expires: int
    flash: tuple[str, str] | None = None
    changed: bool = False
    _token_of: Callable[[str], str] = field(default=lambda nonce: "", repr=False)

    @property
    def csrf_token(self) -> str:
        """The token every form of this session must send back."""
        return self._token_of(self.nonce)

    @property
    def signed_in(self) -> bool:
        """Whether the cookie names a signed-in person (still to be checked as open)."""
        return self.subject_id is not None

    def start(self, subject_id: int | None, token: str | None, now: float | None = None) -> None:
        """Point the cookie at a new session (new nonce and expiry)."""
        self.subject_id, self.token = subject_id, token
        seconds = self.rules.signed_in_seconds if token else self.rules.anonymous_seconds
        self.nonce = secrets.token_urlsafe(18)
        self.expires = int((time.time() if now is None else now) + seconds)
        self.changed = True

    def forget(self) -> None:
        """Become an anonymous visitor (the session ended elsewhere)."""
        self.start(None, None)

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
    """Signs and checks one face's session cookies."""

    def __init__(self, secret_key: str, rules: CookieRules) -> None:
        self.rules = rules
        purpose = f"helpdesk {rules.face} session v2".encode()
        self._key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def csrf_token(self, nonce: str) -> str:
        """The CSRF token of a session nonce."""
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, token: object) -> bool:
        """True when ``token`` is the CSRF token of ``session`` (constant-time).

        Anything else is refused, never raised on: a missing token, an uploaded
        file, a text with non-ASCII characters (a real token is hex).
        """
        return (
            isinstance(token, str)
            and token.isascii()  # compare_digest raises TypeError on non-ASCII text
            and hmac.compare_digest(self.csrf_token(session.nonce), token)
        )

    def new_session(self, now: float | None = None) -> Session:
        """A fresh anonymous session, to be written to the cookie."""
        session = Session(self.rules, None, None, "", 0, _token_of=self.csrf_token)
        session.start(None, None, now)
        return session

    def dumps(self, session: Session) -> str:
        """The cookie value of ``session``."""
        data = (session.subject_id, session.token, session.nonce, session.expires)
        payload = msgspec.json.encode(_Payload(*data, flash=session.flash))
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie value; None when absent, forged, malformed or expired."""
        if not value or value.count(".") != 1 or len(value) > _MAX_COOKIE:
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
        if (data.subject_id is None) != (data.token is None):
            return None
        return Session(
            self.rules, data.subject_id, data.token, data.nonce, data.expires, data.flash,
            _token_of=self.csrf_token,
        )  # fmt: skip

    def cookie(self, session: Session, *, secure: bool) -> Cookie:
        """The ``Set-Cookie`` of ``session``."""
        return Cookie(
            key=self.rules.cookie_name,
            value=self.dumps(session),
            path=self.rules.path,
            max_age=max(0, session.expires - int(time.time())),
            httponly=True,
            secure=secure,
            samesite="lax",
        )

    def from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Session | None:
        """The session in a request's or websocket's cookie, if valid."""
        return self.loads(connection.cookies.get(self.rules.cookie_name))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Session:
    """The session that :class:`SessionMiddleware` loaded for this request."""
    session = connection.scope.get("state", {}).get(_STATE_KEY)
    if not isinstance(session, Session):  # the middleware is not mounted: a wiring bug
        raise RuntimeError("the session middleware did not run")
    return session


async def sign_in(connection: ASGIConnection[Any, Any, Any, Any], subject_id: int) -> None:
    """Open a server-side session for ``subject_id`` and point the cookie at it."""
    session = current_session(connection)
    if session.token is not None:  # switching person: the old session ends
        await web_sessions.end_session(session.rules.face, session.token)
    rules = session.rules
    token = await web_sessions.open_session(rules.face, subject_id, rules.signed_in_seconds)
    session.start(subject_id, token)


async def sign_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """End this session (every copy of its cookie) and keep an anonymous one."""
    session = current_session(connection)
    if session.token is not None:
        await web_sessions.end_session(session.rules.face, session.token)
    session.forget()


async def sign_out_everywhere(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    """End every session of the signed-in person; return how many were open."""
    session = current_session(connection)
    ended = 0
    if session.subject_id is not None:
        ended = await web_sessions.end_all_sessions(session.rules.face, session.subject_id)
    session.forget()
    return ended


class SessionMiddleware(ASGIMiddleware):
    """Loads the face's session from its cookie (or starts an anonymous one)
    and writes it back when a handler changed it."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, codec: SessionCodec, *, secure: bool) -> None:
        self.codec = codec
        self.secure = secure

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the route with the session in ``scope["state"]``."""
        session = self.codec.from_connection(ASGIConnection(scope))
        if session is None:
            session = self.codec.new_session()
            # Only a page view starts a session: a cross-site POST arrives without
            # the (SameSite=Lax) cookie and must not replace, i.e. sign out, the real one.
            session.changed = scope.get("method") in ("GET", "HEAD")
        scope.setdefault("state", {})[_STATE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableScopeHeaders.from_message(message)
                cookie = self.codec.cookie(session, secure=self.secure)
                headers.add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await next_app(scope, receive, send_with_cookie)
