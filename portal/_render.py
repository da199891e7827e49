"""Rendering the signed-in portal's pages: session, CSRF token, dates and labels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter
from litestar.response import Template

from helpdesk.domain import Status
from helpdesk.i18n import TZ_COOKIE, format_when, viewer_timezone
from portal._pages import page, request_locale
from portal._session import current_session

PathId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # ids are 32-bit serials
PathToken = Annotated[str, PathParameter(max_length=200)]


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated where it is shown."""
    return message


STATUS_LABELS = {
    Status.NEW: N_("New"),
    Status.OPEN: N_("Open"),
    Status.PENDING: N_("Pending"),
    Status.ON_HOLD: N_("On hold"),
    Status.SOLVED: N_("Solved"),
    Status.CLOSED: N_("Closed"),
}

ERROR_TEXTS = {
    "not_found": N_("This page does not exist, or you may not see it."),
    "rate_limited": N_("Too many requests were sent. Please try again later."),
    "csrf_failed": N_("The form expired. Please go back, reload the page and try again."),
    "unauthenticated": N_("This sign-in link is not valid any more. Please ask for a new one."),
    "conflict": N_("This was already done."),
    "invalid_transition": N_("This request is closed. Please open a new request instead."),
    "validation_error": N_("Please check what you entered."),
    "attachment_too_large": N_("An attachment is too large."),
    "error": N_("Something went wrong. Please try again."),
}


def portal_page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    """A portal page with the session's state, its CSRF token, and ``when()``
    (a date and time in the viewer's language and time zone: the browser's,
    once the page's script has told us, else the helpdesk's)."""
    locale = request_locale(request)
    zone = viewer_timezone(request.cookies.get(TZ_COOKIE), request.app.state.settings.timezone)
    session = current_session(request)

    def when(value: datetime | None) -> str:
        return format_when(value, locale, zone) if value is not None else ""

    return page(
        request,
        template,
        status_code=status_code,
        signed_in=session.customer_id is not None,
        csrf_token=session.csrf_token,
        when=when,
        status_label=lambda status: STATUS_LABELS.get(status, status),
        **context,
    )


def error_page(request: Request[Any, Any, Any], status: int, code: str) -> Template:
    """The portal's error page for ``code``."""
    return portal_page(
        request,
        "portal/error.html",
        status_code=status,
        message=ERROR_TEXTS.get(code, ERROR_TEXTS["error"]),
    )
