"""Who is signed in, and CSRF: the guards every route of a face passes.

1. The sign-in guard (skipped by routes marked ``opt={"public": True}``):
   the cookie's person must have an open server-side session, and becomes
   the request's :class:`~helpdesk.policy.Principal` through the face's
   resolver (which reads their *current* role, teams and active flag).
   Otherwise the cookie is forgotten and the browser sent to sign in.
2. The CSRF guard: a POST (PUT, PATCH, DELETE) must carry the session's
   CSRF token in the ``_csrf`` form field or the ``X-CSRF-Token`` header,
   else it is refused with 403 before the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from helpdesk.errors import AuthenticationError, HelpdeskError, NotFoundError
from helpdesk.policy import Principal
from helpdesk.services import web_sessions
from helpdesk.web.sessions import Session, SessionCodec, current_session

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CsrfFailedError",
    "NotSignedInError",
    "PrincipalResolver",
    "csrf_guard",
    "open_principal",
    "provide_principal",
    "sign_in_guard",
]

CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

PrincipalResolver = Callable[[int], Awaitable[Principal]]
"""The principal of a signed-in person, by id; raises when they are gone or inactive."""


class NotSignedInError(Exception):
    """The page needs a signed-in person; ``wanted`` is where to go after signing in."""

    def __init__(self, wanted: str) -> None:
        super().__init__("not signed in")
        self.wanted = wanted


class CsrfFailedError(HelpdeskError):
    """A form was posted without this session's CSRF token."""

    code = "csrf_failed"
    status = 403
    title = "CSRF token missing or wrong"


async def open_principal(session: Session, resolve: PrincipalResolver) -> Principal | None:
    """The principal of a session that is still open, with their current rights;
    None when it names nobody, was ended or expired, or its person is gone."""
    if session.subject_id is None or session.token is None:
        return None
    face, token = session.rules.face, session.token
    if not await web_sessions.session_is_open(face, token, session.subject_id):
        return None
    try:
        return await resolve(session.subject_id)
    except (AuthenticationError, NotFoundError):  # deactivated or deleted since signing in
        return None


def sign_in_guard(resolve: PrincipalResolver, home: str) -> Guard:
    """Guard: the session's person becomes ``principal``, or off to sign in
    (remembering the page wanted, for a GET; else the face's ``home``)."""

    async def require_principal(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if handler.opt.get("public"):
            return
        session = current_session(connection)
        wanted = home
        if connection.scope.get("method") == "GET":
            query = connection.url.query
            wanted = connection.url.path + (f"?{query}" if query else "")
        principal = await open_principal(session, resolve)
        if principal is None:
            if session.signed_in:
                session.forget()
            raise NotSignedInError(wanted)
        connection.state["principal"] = principal

    return require_principal


def csrf_guard(codec: SessionCodec) -> Guard:
    """Guard: refuse an unsafe request without the session's CSRF token."""

    async def check_csrf(
        connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        if connection.scope.get("method") not in _UNSAFE_METHODS:
            return
        token = connection.headers.get(CSRF_HEADER)
        if not token and isinstance(connection, Request):
            token = (await connection.form()).get(CSRF_FIELD)
        if not codec.csrf_ok(current_session(connection), token):
            raise CsrfFailedError("the form's CSRF token is missing or does not match the session")

    return check_csrf


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the principal the sign-in guard found for this request."""
    principal = request.state.get("principal")
    if not isinstance(principal, Principal):  # the guard did not run: a wiring bug
        raise NotSignedInError("/")
    return principal
