"""Who is signed in to the portal, CSRF checks, and what errors look like.

Portal routes are guarded by :func:`require_customer` (skipped by routes
marked ``opt={"public": True}``): the session's customer becomes the
request's :class:`~helpdesk.policy.Principal` through
:func:`helpdesk.services.customers.principal_for_customer`, so every page
goes through the permission policy's customer scope. Then
:func:`csrf_guard`: a POST must carry the session's CSRF token.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap, Guard

from helpdesk.errors import HelpdeskError, NotFoundError
from helpdesk.policy import Principal
from helpdesk.services.customers import principal_for_customer
from portal._render import error_page
from portal._session import PortalCodec, current_session

logger = logging.getLogger(__name__)

LOGIN_PATH = "/support/login"
CSRF_FIELD = "_csrf"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HTTP_CODES = {403: "csrf_failed", 404: "not_found", 413: "attachment_too_large"}


class NotSignedInError(Exception):
    """The page needs a signed-in customer."""


class CsrfFailedError(HelpdeskError):
    """A form was posted without this session's CSRF token."""

    code = "csrf_failed"
    status = 403
    title = "CSRF token missing or wrong"


async def require_customer(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the session's customer becomes ``principal``, or off to sign in."""
    if handler.opt.get("public"):
        return
    session = current_session(connection)
    if session.customer_id is None:
        raise NotSignedInError
    try:
        principal = await principal_for_customer(session.customer_id)
    except NotFoundError as exc:  # deleted since signing in
        session.sign_out()
        raise NotSignedInError from exc
    connection.state["principal"] = principal


def csrf_guard(codec: PortalCodec) -> Guard:
    """Guard: refuse a POST without the session's CSRF token."""

    async def check_csrf(
        connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        if connection.scope.get("method") not in _UNSAFE_METHODS:
            return
        token = None
        if isinstance(connection, Request):
            token = (await connection.form()).get(CSRF_FIELD)
        if not codec.csrf_ok(current_session(connection), token):
            raise CsrfFailedError("the form's CSRF token is missing or does not match the session")

    return check_csrf


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the customer principal :func:`require_customer` found."""
    principal = request.state.get("principal")
    if not isinstance(principal, Principal):  # the guard did not run: a wiring bug
        raise NotSignedInError
    return principal


def _to_login(request: Request[Any, Any, Any], exc: NotSignedInError) -> Response[Any]:
    return Redirect(path=LOGIN_PATH, status_code=302)


def _helpdesk_error(request: Request[Any, Any, Any], exc: HelpdeskError) -> Response[Any]:
    if exc.status >= 500:
        logger.error("portal error on %s %s: %s", request.method, request.url.path, exc)
    return error_page(request, exc.status, exc.code)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        return _unexpected(request, exc)
    return error_page(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "error"))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error("unhandled portal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500, "error")


def exception_handlers() -> ExceptionHandlersMap:
    """The portal's answers to errors: HTML pages, and redirects to sign in."""
    return {
        NotSignedInError: _to_login,
        HelpdeskError: _helpdesk_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
