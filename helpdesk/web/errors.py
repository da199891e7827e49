"""The one table of error codes, and how the faces' pages answer errors.

:data:`HTTP_CODES` names the codes of the web framework's own errors (bad
request, unknown route, oversized body, …) by status, for the API's problem
responses and the pages alike. :data:`ERROR_TEXTS` says what a person reads
for each code, worded for staff (the console) and for customers (the portal
and the public forms). A domain error keeps its own code and status
(:class:`~helpdesk.errors.HelpdeskError`).

The pages' handlers: not signed in → the face's sign-in page; a
:class:`~helpdesk.errors.HelpdeskError` or framework error → the face's
error page with its status; a database fault → 503 with ``Retry-After``;
a body that cannot be decoded (:func:`undecodable_input`) → 400
``invalid_request``; anything else is a bug, logged with its traceback,
answered with 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from helpdesk.db import database_fault
from helpdesk.errors import DatabaseUnavailableError, HelpdeskError
from helpdesk.web.guards import NotSignedInError

__all__ = [
    "ERROR_TEXTS",
    "HTTP_CODES",
    "Audience",
    "ErrorPage",
    "error_text",
    "page_exception_handlers",
    "undecodable_input",
]

logger = logging.getLogger(__name__)

Audience = Literal["staff", "customer"]
AnyRequest = Request[Any, Any, Any]
ErrorPage = Callable[[AnyRequest, int, str], Response[Any]]
"""Renders a face's error page: (request, status, code) → response."""

HTTP_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_requests",
    503: "service_unavailable",
}
"""The code of each status the web framework answers with on its own."""


def undecodable_input(exc: BaseException) -> str | None:
    """Why the client's input could not be decoded, when ``exc`` says so, else None.

    The framework's decoders let two such errors through, which would otherwise
    be answered as bugs: bytes that are not UTF-8 (:class:`UnicodeDecodeError`,
    e.g. inside a JSON string) and JSON nested deeper than the decoder's
    recursion limit (msgspec's :class:`RecursionError` "while deserializing").
    Both are the client's fault (400 ``invalid_request``). A RecursionError
    of any other origin is still a bug and gets None.
    """
    if isinstance(exc, UnicodeDecodeError):
        return "the request is not valid UTF-8"
    if isinstance(exc, RecursionError) and "deserializ" in str(exc):
        return "the request is nested too deeply"
    return None


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class ErrorText:
    """What staff and customers read for one error code (English msgids)."""

    staff: str
    customer: str


_TRY_AGAIN = N_("Something went wrong. Please try again.")
_TOO_LARGE = N_("An attachment is too large.")

ERROR_TEXTS: dict[str, ErrorText] = {
    "version_conflict": ErrorText(
        N_(
            "Someone else changed this case in the meantime. "
            "Check the current values and try again."
        ),
        N_("This was already done."),
    ),
    "already_assigned": ErrorText(
        N_("Another agent has already taken this case."), N_("This was already done.")
    ),
    "invalid_transition": ErrorText(
        N_("This status change is not allowed for the case."),
        N_("This request is closed. Please open a new request instead."),
    ),
    "validation_error": ErrorText(
        N_("Please check the form: some values are not valid."),
        N_("Please fill in every field with a valid value."),
    ),
    "invalid_request": ErrorText(
        N_("Please check the form: some values are not valid."),
        N_("Please fill in every field with a valid value."),
    ),
    "attachment_too_large": ErrorText(_TOO_LARGE, _TOO_LARGE),
    "payload_too_large": ErrorText(N_("The upload is too large."), _TOO_LARGE),
    "conflict": ErrorText(
        N_("This change conflicts with the current state of the case."),
        N_("This was already done."),
    ),
    "rate_limited": ErrorText(
        N_("Too many attempts. Please wait a few minutes and try again."),
        N_("Too many requests were sent. Please try again later."),
    ),
    "csrf_failed": ErrorText(
        N_("This form has expired. Reload the page and try again."),
        N_("The form expired. Please go back, reload the page and try again."),
    ),
    "not_found": ErrorText(
        N_("This page or case was not found, or you do not have access to it."),
        N_("This page does not exist, or you may not see it."),
    ),
    "method_not_allowed": ErrorText(
        N_("This page or case was not found, or you do not have access to it."),
        N_("This page does not exist, or you may not see it."),
    ),
    "permission_denied": ErrorText(
        N_("You are not allowed to do this."),
        N_("This page does not exist, or you may not see it."),
    ),
    "unauthenticated": ErrorText(
        N_("You are not allowed to do this."),
        N_("This sign-in link is not valid any more. Please ask for a new one."),
    ),
    "spam_suspected": ErrorText(_TRY_AGAIN, N_("Your request could not be sent.")),
    "idempotency_key_in_use": ErrorText(
        _TRY_AGAIN,
        N_(
            "Your request is still being sent. Please wait a moment, then check your email "
            "for our confirmation."
        ),
    ),
    "idempotency_key_reused": ErrorText(
        _TRY_AGAIN,
        N_("This form was already sent with other content. Please check it and send it again."),
    ),
    "confirmation_required": ErrorText(
        N_(
            "These belong to two different customers: "
            "confirm the merge on the form that names both."
        ),
        _TRY_AGAIN,
    ),
    "cross_organization_merge": ErrorText(
        N_(
            "These customers belong to different organizations: "
            "only an admin may merge their cases."
        ),
        _TRY_AGAIN,
    ),
    "last_verified_address": ErrorText(
        N_(
            "This is the customer's last proven email address: only an administrator may remove it."
        ),
        _TRY_AGAIN,
    ),
    "current_password_required": ErrorText(
        N_("Type your current password. If you have none yet, ask an administrator to set one."),
        _TRY_AGAIN,
    ),
    "current_password_wrong": ErrorText(N_("The current password is not right."), _TRY_AGAIN),
    "survey_link_expired": ErrorText(
        _TRY_AGAIN,
        N_(
            "This survey link has expired. Thank you all the same: you can still tell us what "
            "you think by replying to our last email or opening a new request."
        ),
    ),
    "chat_link_invalid": ErrorText(
        _TRY_AGAIN,
        N_("This confirmation link is not valid any more. Please ask for a new one in the chat."),
    ),
    "internal_error": ErrorText(
        N_("Something went wrong on our side. The error was logged; please try again."),
        _TRY_AGAIN,
    ),
    "database_unavailable": ErrorText(
        N_("The service cannot reach its database right now. Please try again in a moment."),
        _TRY_AGAIN,
    ),
}
"""What a person reads for each code; any other code reads :data:`DEFAULT_TEXT`."""

DEFAULT_TEXT = ErrorText(N_("The change could not be saved."), _TRY_AGAIN)


def error_text(code: str, audience: Audience) -> str:
    """The msgid (English, untranslated) that explains ``code`` to ``audience``."""
    text = ERROR_TEXTS.get(code, DEFAULT_TEXT)
    return text.staff if audience == "staff" else text.customer


def page_exception_handlers(
    error_page: ErrorPage, login_url: Callable[[str], str]
) -> ExceptionHandlersMap:
    """A face's answers to errors: its HTML error page, or its sign-in page."""

    def to_login(request: AnyRequest, exc: NotSignedInError) -> Response[Any]:
        # htmx follows the redirect inside its request and shows the sign-in page.
        return Redirect(path=login_url(exc.wanted), status_code=302)

    def helpdesk_error(request: AnyRequest, exc: HelpdeskError) -> Response[Any]:
        if isinstance(exc, DatabaseUnavailableError):
            return unavailable(request, exc)
        if exc.status >= 500:
            logger.error("error on %s %s: %s", request.method, request.url.path, exc)
        return error_page(request, exc.status, exc.code)

    def http_error(request: AnyRequest, exc: HTTPException) -> Response[Any]:
        if exc.status_code >= 500:
            return unexpected(request, exc)
        return error_page(request, exc.status_code, HTTP_CODES.get(exc.status_code, "error"))

    def unavailable(request: AnyRequest, exc: DatabaseUnavailableError) -> Response[Any]:
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                       exc.reason)  # fmt: skip
        response = error_page(request, exc.status, exc.code)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def unexpected(request: AnyRequest, exc: Exception) -> Response[Any]:
        if database_fault(exc):
            return unavailable(request, DatabaseUnavailableError(reason=f"{type(exc).__name__}"))
        if undecodable_input(exc) is not None:
            return error_page(request, 400, "invalid_request")
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_page(request, 500, "internal_error")

    return {
        NotSignedInError: to_login,
        HelpdeskError: helpdesk_error,
        HTTPException: http_error,
        Exception: unexpected,
    }
