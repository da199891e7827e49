"""Addresses no route has, under a face: that face's "not found" page, not JSON.

Litestar answers an unknown address before any router's handlers run, so
the app-level handler sees it (:mod:`helpdesk.api.problems`, which answers
the API's RFC 7807 problems). :func:`unrouted_handler` wraps that handler:
a 404 or 405 whose path lies under a face (``/console/``, ``/support/``) is
a small page in the reader's language with a way back to the face's home,
rendered without the face's session (none was opened: no route ran). Any
other error, and every address outside the faces, goes to the API's handler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

from helpdesk.i18n import negotiate, translator
from helpdesk.web.errors import HTTP_CODES, Audience, error_text

__all__ = ["CONSOLE_PAGES", "PORTAL_PAGES", "WEB_TEMPLATES_DIR", "FacePages", "unrouted_handler"]

WEB_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
"""The kit's own templates (``web/…``), beside the faces' folders."""

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, HTTPException], Response[Any]]
LANG_COOKIE = "helpdesk_lang"  # the faces' one language choice per browser


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class FacePages:
    """Where a face lives, who reads it, and how its pages look."""

    prefix: str  # "/console/"
    home: str  # where "back" leads
    audience: Audience
    stylesheet: str
    way_back: str  # msgid of the link's text


CONSOLE_PAGES = FacePages(
    "/console/", "/console/", "staff", "/static/console/console.css", N_("Back to my cases")
)
PORTAL_PAGES = FacePages(
    "/support/",
    "/support/",
    "customer",
    "/static/portal/portal.css",
    N_("Back to the support centre"),
)


def unrouted_handler(faces: Sequence[FacePages], fallback: Handler) -> Handler:
    """``fallback``, except for unknown addresses under one of ``faces``."""

    def handle(request: AnyRequest, exc: HTTPException) -> Response[Any]:
        face = next((f for f in faces if request.url.path.startswith(f.prefix)), None)
        if face is None or exc.status_code not in (404, 405):
            return fallback(request, exc)
        return _page(request, face, exc.status_code)

    return handle


def _page(request: AnyRequest, face: FacePages, status: int) -> Template:
    locale = negotiate(
        request.headers.get("accept-language"),
        request.cookies.get(LANG_COOKIE),
        request.app.state.settings.default_locale,
    )
    _ = translator(locale)
    return Template(
        template_name="web/not_found.html",
        context={
            "locale": locale,
            "message": _(error_text(HTTP_CODES[status], face.audience)),
            "way_back": _(face.way_back),
            "home": face.home,
            "stylesheet": face.stylesheet,
        },
        status_code=status,
    )
