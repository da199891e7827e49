"""The portal as a face of the web kit: its cookie, its principals, its sign-in page.

Portal routes are guarded by the kit (:mod:`helpdesk.web.guards`): the
session must be open, and its customer becomes the request's
:class:`~helpdesk.policy.Principal` through
:func:`helpdesk.services.customers.principal_for_customer`, so every page goes
through the permission policy's customer scope; a POST must carry the
session's CSRF token. Routes marked ``opt={"public": True}`` skip the
sign-in guard.
"""

from __future__ import annotations

from helpdesk.services.customers import principal_for_customer
from helpdesk.web.face import Face
from helpdesk.web.sessions import CookieRules
from portal._render import error_page

__all__ = ["LOGIN_PATH", "PORTAL"]

LOGIN_PATH = "/support/login"

COOKIE = CookieRules(
    face="portal",
    cookie_name="hd_portal",
    path="/support",
    signed_in_seconds=7 * 24 * 3600,
)


def login_url(_wanted: str) -> str:
    """The sign-in page (a magic link always lands on the customer's requests)."""
    return LOGIN_PATH


PORTAL = Face(
    cookie=COOKIE,
    resolve=principal_for_customer,
    home="/support/",
    login_url=login_url,
    error_page=error_page,
)
"""The customer portal face."""
