"""Who is signed in to the console, CSRF checks, and what errors look like.

Every console route is guarded twice, in this order:

1. :func:`require_agent` (skipped by routes marked ``opt={"public": True}``):
   the session's agent becomes the request's
   :class:`~helpdesk.policy.Principal`, looked up with the same service the
   API's bearer tokens use. Without one the browser is sent to the sign-in
   page, keeping the page it wanted (GET only).
2. :func:`check_csrf`: a POST must carry the session's CSRF token in the
   ``_csrf`` form field or the ``X-CSRF-Token`` header, else it is refused
   with 403 before the handler runs.

The REST API is not under ``/console`` and keeps its bearer tokens without
CSRF checks.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap, Guard

from agent_console._pages import error_page, safe_next
from agent_console._session import SessionCodec, current_session
from helpdesk.errors import AuthenticationError, HelpdeskError
from helpdesk.policy import Principal
from helpdesk.services import agents

logger = logging.getLogger(__name__)

LOGIN_PATH = "/console/login"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HTTP_CODES = {403: "permission_denied", 404: "not_found", 413: "payload_too_large"}


class NotSignedInError(Exception):
    """The page needs a signed-in member of staff; ``wanted`` is where to go after."""

    def __init__(self, wanted: str) -> None:
        super().__init__("not signed in")
        self.wanted = wanted


class CsrfFailedError(HelpdeskError):
    """A form was posted without this session's CSRF token."""

    code = "csrf_failed"
    status = 403
    title = "CSRF token missing or wrong"


def login_url(wanted: str | None) -> str:
    """The sign-in page, with ``next`` when there is somewhere safe to go back to."""
    target = safe_next(wanted)
    return LOGIN_PATH if target == "/console/" else f"{LOGIN_PATH}?next={quote(target, safe='')}"


async def require_agent(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the session's active agent becomes ``principal``, or off to sign in."""
    if handler.opt.get("public"):
        return
    session = current_session(connection)
    wanted = connection.url.path + (f"?{connection.url.query}" if connection.url.query else "")
    if connection.scope.get("method") != "GET":
        wanted = "/console/"
    if session.agent_id is None:
        raise NotSignedInError(wanted)
    try:
        principal = await agents.principal_for_agent(session.agent_id)
    except AuthenticationError as exc:  # deactivated or deleted since signing in
        session.sign_out()
        raise NotSignedInError(wanted) from exc
    connection.state["principal"] = principal


def csrf_guard(codec: SessionCodec) -> Guard:
    """Guard: refuse a POST without the session's CSRF token."""

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
    """Dependency: the principal :func:`require_agent` found for this request."""
    principal = request.state.get("principal")
    if not isinstance(principal, Principal):  # the guard did not run: a wiring bug
        raise NotSignedInError("/console/")
    return principal


def _to_login(request: Request[Any, Any, Any], exc: NotSignedInError) -> Response[Any]:
    # htmx follows the redirect inside its request and shows the sign-in page.
    return Redirect(path=login_url(exc.wanted), status_code=302)


def _helpdesk_error(request: Request[Any, Any, Any], exc: HelpdeskError) -> Response[Any]:
    if exc.status >= 500:
        logger.error("console error on %s %s: %s", request.method, request.url.path, exc)
    return error_page(request, exc.status, exc.code)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        return _unexpected(request, exc)
    return error_page(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "error"))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error("unhandled console error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500, "internal_error")


def exception_handlers() -> ExceptionHandlersMap:
    """The console's answers to errors: HTML pages, and redirects to sign in."""
    return {
        NotSignedInError: _to_login,
        HelpdeskError: _helpdesk_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
