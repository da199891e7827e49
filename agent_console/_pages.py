"""Rendering console pages: language, template context, flash messages, safe redirects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from agent_console._labels import LABELS
from agent_console._live_page import live_context
from helpdesk.errors import HelpdeskError
from helpdesk.i18n import (
    TZ_COOKIE,
    Translator,
    format_number,
    format_when,
    negotiate,
    translator,
    viewer_timezone,
)
from helpdesk.settings import Settings
from helpdesk.web.errors import error_text
from helpdesk.web.sessions import current_session

LANG_COOKIE = "helpdesk_lang"  # shared with the portal: one language choice per browser
HOME = "/console/"
ONE_YEAR = 365 * 24 * 3600

AnyRequest = Request[Any, Any, Any]
PathId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # ids are 32-bit serials
PathName = Annotated[str, PathParameter(max_length=64)]


def settings_of(request: AnyRequest) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def request_locale(request: AnyRequest) -> str:
    """``?lang=``, else the language cookie, else Accept-Language, else the default."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return negotiate(
        request.headers.get("accept-language"), chosen, settings_of(request).default_locale
    )


def safe_next(target: str | None) -> str:
    """``target`` when it is a path inside the console, else the console's home.

    Only same-site paths are kept: no scheme, no host, no ``//`` or
    backslash tricks, no control characters.
    """
    if not target or len(target) > 2000 or any(ord(c) < 0x20 or c == "\\" for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return HOME
    if parts.path != "/console" and not parts.path.startswith("/console/"):
        return HOME
    if parts.path.startswith("/console/login"):
        return HOME
    return target


def path_with_query(request: AnyRequest, **changes: str | None) -> str:
    """The request's path with its query, some parameters replaced (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v is not None})
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def _helpers(_: Translator, locale: str, timezone: str) -> dict[str, Any]:
    def label(kind: str, value: object) -> str:
        text = LABELS.get(kind, {}).get(str(value))
        return _(text) if text else str(value)

    def when(value: datetime | None) -> str:
        return format_when(value, locale, timezone) if value is not None else ""

    def number(value: float) -> str:
        return format_number(value, locale)

    def short_when(value: datetime | None) -> str:
        """dd/mm/yyyy HH:MM in the viewer's time zone (the compact form of lists)."""
        return value.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M") if value else ""

    def duration(seconds: int) -> str:
        minutes = abs(seconds) // 60
        text = _("%(hours)d h %(minutes)02d min", hours=minutes // 60, minutes=minutes % 60)
        return _("%(time)s overdue", time=text) if seconds < 0 else text

    return {
        "label": label,
        "when": when,
        "short_when": short_when,
        "number": number,
        "duration": duration,
    }


def render(
    request: AnyRequest, template: str, *, status_code: int = 200, **context: Any
) -> Template:
    """A console page in the request's language, with the session's CSRF token
    and flash message, remembering an explicit language choice in a cookie."""
    locale = request_locale(request)
    _ = translator(locale)
    session = current_session(request)
    flash = session.pop_flash()
    response = Template(
        template_name=template,
        context={
            "locale": locale,
            "_": _,
            "csrf_token": session.csrf_token,
            "flash": (flash[0], _(flash[1])) if flash else None,
            "current_path": path_with_query(request, lang=None),
            "lang_url": lambda lang: path_with_query(request, lang=lang),
            **_helpers(
                _,
                locale,
                viewer_timezone(request.cookies.get(TZ_COOKIE), settings_of(request).timezone),
            ),
            "live": live_context(request.state.get("principal"), context, _),
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") == locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, samesite="lax", path="/")
    return response


def error_message(exc: HelpdeskError | str) -> str:
    """The msgid that explains an error to the person (by its code)."""
    return error_text(exc if isinstance(exc, str) else exc.code, "staff")


def error_page(request: AnyRequest, status_code: int, code: str) -> Template:
    """The console's page for an error, in the request's language."""
    message = translator(request_locale(request))(error_message(code))
    return render(
        request, "console/error.html", status_code=status_code, message=message, code=code
    )


def done(request: AnyRequest, target: str, message: str) -> Redirect:
    """After a successful change: remember ``message`` and go to ``target`` (303)."""
    current_session(request).set_flash("ok", message)
    return Redirect(path=target, status_code=303)
