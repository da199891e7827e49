"""Security headers on every HTTP response of the app, errors and redirects included.

Set once, at the app's edge (:func:`add_security_headers`), so a page,
an API answer, a download, a 404 of an unknown route or a 500 all carry them:

* ``X-Content-Type-Options: nosniff`` always;
* ``Referrer-Policy``: ``no-referrer`` under ``/support`` (portal sign-in links
  carry tokens), ``same-origin`` elsewhere;
* on HTML: the pages' Content-Security-Policy (own scripts and styles only,
  ``frame-ancestors 'none'``) and ``X-Frame-Options: DENY``, unless the
  response chose its own policy (an attachment shown inline is sandboxed);
* ``Cache-Control: no-store`` unless the response chose (static files are
  cacheable; nothing else is: pages and API answers are private).
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

__all__ = ["PAGE_CSP", "add_security_headers"]

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_CUSTOMER_PATHS = ("/support",)
_CACHEABLE_PATHS = ("/static/",)


def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's ``before_send`` hook: add the headers to each HTTP response's
    start (it runs for every response, a 404 of an unknown route included,
    which no middleware sees)."""
    if message["type"] == "http.response.start":
        _add_headers(MutableScopeHeaders.from_message(message), scope.get("path", ""))


def _add_headers(headers: MutableScopeHeaders, path: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if "referrer-policy" not in headers:
        customer = path.startswith(_CUSTOMER_PATHS)
        headers["Referrer-Policy"] = "no-referrer" if customer else "same-origin"
    if headers.get("content-type", "").startswith("text/html"):
        if "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = PAGE_CSP
        if "x-frame-options" not in headers:
            headers["X-Frame-Options"] = "DENY"
    if "cache-control" not in headers and not path.startswith(_CACHEABLE_PATHS):
        headers["Cache-Control"] = "no-store"
