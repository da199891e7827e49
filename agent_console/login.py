"""Signing in and out of the console, and the agent's availability."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from agent_console._forms import availability, text
from agent_console._labels import DONE, LOGIN_FAILED, LOGIN_RATE_LIMITED
from agent_console._pages import HOME, done, render, request_locale, safe_next
from agent_console.profile_details import apply_language
from helpdesk import ratelimit
from helpdesk.errors import AuthenticationError
from helpdesk.i18n import translator
from helpdesk.policy import Principal
from helpdesk.services import agents
from helpdesk.text import normalize_email
from helpdesk.web import sessions
from helpdesk.web.clients import client_address
from helpdesk.web.guards import open_principal

LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_LIMIT_PER_EMAIL = 10  # attempts per address and window
LOGIN_LIMIT_PER_IP = 50  # attempts per client address and window (offices share one)
PUBLIC = {"public": True}


def _login_page(
    request: Request[Any, Any, Any], *, email: str, target: str, error: str | None, status: int
) -> Response[Any]:
    return render(
        request,
        "console/login.html",
        status_code=status,
        email=email,
        next=target,
        error=translator(request_locale(request))(error) if error else None,
    )


@get("/login", opt=PUBLIC, include_in_schema=False)
async def show_login(request: Request[Any, Any, Any]) -> Response[Any]:
    """The sign-in form; someone already signed in goes straight on."""
    target = safe_next(request.query_params.get("next"))
    session = sessions.current_session(request)
    if session.signed_in:
        if await open_principal(session, agents.principal_for_agent) is not None:
            return Redirect(path=target, status_code=302)
        session.forget()  # signed out elsewhere, or deactivated
    return _login_page(request, email="", target=target, error=None, status=200)


@post("/login", opt=PUBLIC, include_in_schema=False)
async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the password and start a session; show the form again on failure.

    Attempts are rate-limited per client address and per email address
    (counted before the password is checked, successful or not).
    """
    form = await request.form()
    email, password = text(form, "email").strip()[:320], text(form, "password")[:200]
    target = safe_next(text(form, "next"))
    try:
        await ratelimit.check(
            f"console-login:ip:{client_address(request)}", LOGIN_LIMIT_PER_IP, LOGIN_WINDOW_SECONDS
        )
        await ratelimit.check(
            f"console-login:email:{normalize_email(email)}",
            LOGIN_LIMIT_PER_EMAIL,
            LOGIN_WINDOW_SECONDS,
        )
    except ratelimit.RateLimitedError:
        return _login_page(
            request, email=email, target=target, error=LOGIN_RATE_LIMITED, status=429
        )
    try:
        principal = await agents.authenticate_password(email, password)
    except AuthenticationError:
        return _login_page(request, email=email, target=target, error=LOGIN_FAILED, status=401)
    assert principal.id is not None
    await sessions.sign_in(request, principal.id)
    response = Redirect(path=target, status_code=303)
    apply_language(response, (await agents.get_agent(principal, principal.id)).locale)
    return response


@post("/logout", opt=PUBLIC, include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    """End the session, every copy of its cookie (CSRF-checked, so no other
    site can sign an agent out)."""
    await sessions.sign_out(request)
    return Redirect(path="/console/login", status_code=303)


@post("/logout/everywhere", include_in_schema=False)
async def sign_out_everywhere(request: Request[Any, Any, Any]) -> Redirect:
    """End every session of the signed-in agent, on every device, and their
    open consoles' live updates."""
    await sessions.sign_out_everywhere(request)
    return Redirect(path="/console/login", status_code=303)


@post("/availability", include_in_schema=False)
async def set_availability(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Redirect:
    """Set whether routing may give the signed-in agent new cases."""
    form = await request.form()
    assert principal.id is not None
    await agents.set_availability(principal, principal.id, availability(form))
    return done(request, safe_next(text(form, "next") or HOME), DONE["availability"])
