"""Rendering the signed-in portal's pages: session, CSRF token, dates and labels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter
from litestar.response import Template

from helpdesk.i18n import TZ_COOKIE, format_when, viewer_timezone
from helpdesk.web.errors import error_text
from helpdesk.web.sessions import current_session
from portal._pages import page, request_locale
from portal.labels import customer_status_label

PathId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # ids are 32-bit serials
PathToken = Annotated[str, PathParameter(max_length=200)]


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
        signed_in=session.signed_in,
        csrf_token=session.csrf_token,
        when=when,
        status_label=customer_status_label,
        **context,
    )


def error_page(request: Request[Any, Any, Any], status: int, code: str) -> Template:
    """The portal's error page for ``code``."""
    return portal_page(
        request,
        "portal/error.html",
        status_code=status,
        message=error_text(code, "customer"),
    )
