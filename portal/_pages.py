"""Helpers shared by the portal pages: language choice and template context."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from helpdesk.i18n import negotiate, translator
from portal.labels import language_name

LANG_COOKIE = "helpdesk_lang"


def request_locale(request: Request[Any, Any, Any]) -> str:
    """``?lang=``, else the language cookie, else Accept-Language, else the default."""
    settings = request.app.state.settings
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return negotiate(request.headers.get("accept-language"), chosen, settings.default_locale)


def page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    """Render a portal page in the request's language, remembering an explicit choice.

    Every page can name a language with ``language_name(code)``."""
    locale = request_locale(request)
    response = Template(
        template_name=template,
        context={
            "locale": locale,
            "_": translator(locale),
            "language_name": language_name,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") == locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response
