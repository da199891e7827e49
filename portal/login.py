"""Signing in by magic link, and out; the portal's home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from helpdesk.services import portal_access
from helpdesk.web import sessions
from helpdesk.web.clients import client_address
from portal._render import PathToken, portal_page

PUBLIC = {"public": True}


@get("/", opt=PUBLIC)
async def home(request: Request[Any, Any, Any]) -> Template:
    """Links to sign in, to the customer's requests and to the request form."""
    return portal_page(request, "portal/home.html")


@get("/login", opt=PUBLIC)
async def show_login(request: Request[Any, Any, Any]) -> Template:
    """The form asking for an email address."""
    return portal_page(request, "portal/login.html", email="")


@post("/login", opt=PUBLIC, status_code=200)
async def request_link(request: Request[Any, Any, Any]) -> Template:
    """Mail a sign-in link; the answer is the same whether the address is known or not."""
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    if "@" not in email:
        return portal_page(request, "portal/login.html", status_code=422, email=email, error=True)
    await portal_access.request_login_link(
        email, client_ip=client_address(request), base_url=request.app.state.settings.base_url
    )
    return portal_page(request, "portal/login_sent.html", email=email)


@get("/login/{token:str}", opt=PUBLIC)
async def confirm_link(request: Request[Any, Any, Any], token: PathToken) -> Template:
    """Ask for one click before using the link (mail scanners open links too)."""
    usable = await portal_access.login_link_usable(token)
    return portal_page(
        request, "portal/login_confirm.html", status_code=200 if usable else 400,
        token=token, usable=usable,
    )  # fmt: skip


@post("/login/{token:str}", opt=PUBLIC)
async def use_link(request: Request[Any, Any, Any], token: PathToken) -> Redirect:
    """Use the link up, sign the customer in and show their requests."""
    customer_id = await portal_access.redeem_login_link(token)
    await sessions.sign_in(request, customer_id)
    return Redirect(path="/support/requests", status_code=303)


@post("/logout", opt=PUBLIC)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    """End the session: every copy of its cookie stops working."""
    await sessions.sign_out(request)
    return Redirect(path="/support/", status_code=303)


@post("/logout/everywhere")
async def sign_out_everywhere(request: Request[Any, Any, Any]) -> Redirect:
    """End every session of the signed-in customer, on every device."""
    await sessions.sign_out_everywhere(request)
    return Redirect(path="/support/", status_code=303)
