"""Portal sessions in a signed cookie (``hd_portal``, path ``/support``), and CSRF.

Like the console's sessions (see :mod:`agent_console._session`) but for
customers, under their own key derivation, cookie name and path: a console
cookie is never a portal cookie, nor the reverse. The cookie holds the
customer's id (None for a visitor), a nonce and an expiry, as JSON signed
with HMAC-SHA256. The CSRF token of a form is an HMAC of the nonce.

Not guaranteed: signing out cannot revoke a copy of the cookie taken before;
it expires after :data:`SESSION_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "hd_portal"
COOKIE_PATH = "/support"
SESSION_SECONDS = 7 * 24 * 3600
ANONYMOUS_SECONDS = 24 * 3600
_STATE_KEY = "portal_session"


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    customer_id: int | None
    nonce: str
    expires: int


@dataclass
class PortalSession:
    """The session of one request; a change is written back to the cookie."""

    customer_id: int | None
    nonce: str
    expires: int
    csrf_token: str = ""
    changed: bool = False

    def sign_in(self, customer_id: int) -> None:
        """Start a signed-in session (new nonce: earlier CSRF tokens stop working)."""
        self.customer_id = customer_id
        self._renew(SESSION_SECONDS)

    def sign_out(self) -> None:
        """End the signed-in session; the visitor keeps an anonymous one."""
        self.customer_id = None
        self._renew(ANONYMOUS_SECONDS)

    def _renew(self, seconds: int) -> None:
        self.nonce = secrets.token_urlsafe(18)
        self.expires = int(time.time() + seconds)
        self.changed = True


class PortalCodec:
    """Signs and checks portal cookies with a key derived from the secret key."""

    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(
            secret_key.encode(), b"helpdesk customer portal session v1", hashlib.sha256
        ).digest()

    def csrf_token(self, nonce: str) -> str:
        """The CSRF token of a session nonce."""
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: PortalSession, token: object) -> bool:
        """True when ``token`` is the session's CSRF token (constant-time).

        Anything else is refused, never raised on: a missing token, an uploaded
        file, a text with non-ASCII characters (a real token is hex).
        """
        return (
            isinstance(token, str)
            and token.isascii()  # compare_digest raises TypeError on non-ASCII text
            and hmac.compare_digest(self.csrf_token(session.nonce), token)
        )

    def _with_token(self, session: PortalSession) -> PortalSession:
        session.csrf_token = self.csrf_token(session.nonce)
        return session

    def new_session(self) -> PortalSession:
        """A fresh anonymous session."""
        session = PortalSession(customer_id=None, nonce="", expires=0)
        session.sign_out()
        return self._with_token(session)

    def dumps(self, session: PortalSession) -> str:
        """The cookie value of ``session``."""
        payload = msgspec.json.encode(_Payload(session.customer_id, session.nonce, session.expires))
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(mac)}"

    def loads(self, value: str | None) -> PortalSession | None:
        """The session in a cookie value; None when absent, forged or expired."""
        if not value or value.count(".") != 1 or len(value) > 1024:
            return None
        encoded, signature = value.split(".")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
            data = msgspec.json.decode(payload, type=_Payload)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            return None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected) or data.expires <= time.time():
            return None
        return self._with_token(PortalSession(data.customer_id, data.nonce, data.expires))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> PortalSession:
    """The session :class:`PortalSessionMiddleware` loaded for this request."""
    session = connection.scope.get("state", {}).get(_STATE_KEY)
    if not isinstance(session, PortalSession):  # the middleware is not mounted: a wiring bug
        raise RuntimeError("the portal session middleware did not run")
    return session


class PortalSessionMiddleware(ASGIMiddleware):
    """Loads the portal session (or starts an anonymous one) and writes it back
    when a handler changed it."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, codec: PortalCodec, *, secure: bool) -> None:
        self.codec = codec
        self.secure = secure

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the route with ``scope["state"]["portal_session"]`` set."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        session = self.codec.loads(connection.cookies.get(COOKIE_NAME))
        if session is None:
            session = self.codec.new_session()
            # only a page view starts a session: a cross-site POST must not sign anyone out
            session.changed = scope.get("method") in ("GET", "HEAD")
        scope.setdefault("state", {})[_STATE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", self._cookie(session).to_header(header=""))
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    def _cookie(self, session: PortalSession) -> Cookie:
        return Cookie(
            key=COOKIE_NAME,
            value=self.codec.dumps(session),
            path=COOKIE_PATH,
            max_age=max(0, session.expires - int(time.time())),
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
