"""The console as a face of the web kit: its cookie, its principals, its sign-in page.

Every console route is guarded by the kit (:mod:`helpdesk.web.guards`): the
session must be open and its agent active (their current role and teams
become the request's :class:`~helpdesk.policy.Principal`), and a POST must
carry the session's CSRF token. Routes marked ``opt={"public": True}`` skip
the sign-in guard. The REST API is not under ``/console`` and keeps its
bearer tokens without CSRF checks.
"""

from __future__ import annotations

from urllib.parse import quote

from agent_console._pages import HOME, error_page, safe_next
from helpdesk.services import agents
from helpdesk.web.face import Face
from helpdesk.web.sessions import CookieRules

__all__ = ["CONSOLE", "LOGIN_PATH", "login_url"]

LOGIN_PATH = "/console/login"

COOKIE = CookieRules(
    face="console",
    cookie_name="hd_console",
    path="/console",
    signed_in_seconds=12 * 3600,  # one working day
)


def login_url(wanted: str | None) -> str:
    """The sign-in page, with ``next`` when there is somewhere safe to go back to."""
    target = safe_next(wanted)
    return LOGIN_PATH if target == HOME else f"{LOGIN_PATH}?next={quote(target, safe='')}"


CONSOLE = Face(
    cookie=COOKIE,
    resolve=agents.principal_for_agent,
    home=HOME,
    login_url=login_url,
    error_page=error_page,
)
"""The agent console face."""
