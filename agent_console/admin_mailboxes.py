"""Mailbox health in the console: the test connection buttons, and the demo outbox.

Test connection posts the mailbox form as it is (saved or not) to
``/console/admin/mailboxes[/{id}]/test/{imap|smtp}``: the page comes back
with the values as typed (never a password) and the result in plain words.
Only administrators may (the domain asks the permission policy). A dead
host, a wrong password or an invalid field is a result, never a 500.

The outbox (``/console/admin/outbox``) lists the mails the demo mode's mail
catcher (:mod:`helpdesk.channels.email.demo_sink`) caught; its routes are
mounted only in demo mode (:data:`DEMO_HANDLERS`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Template

from agent_console import _admin_forms as forms
from agent_console._pages import PathId
from agent_console._settings import settings_page
from agent_console.admin import _mailboxes_page
from helpdesk.channels.email import demo_sink, health
from helpdesk.errors import NotFoundError
from helpdesk.policy import Action, Principal, require

__all__ = [
    "DEMO_HANDLERS",
    "outbox_mail_page",
    "outbox_page",
    "test_existing_mailbox",
    "test_new_mailbox",
]

AnyRequest = Request[Any, Any, Any]
SideName = Annotated[str, PathParameter(max_length=8)]
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,255}$")
_SECURITY = ("tls", "starttls", "plain")
_LINK = re.compile(r"https?://[^\s<>\"']{1,2000}")


def _endpoint(form: FormMultiDict, side: health.Side) -> health.Endpoint | None:
    """The server settings of one side of the posted form; None when they are invalid."""
    host = forms.text(form, f"{side}_host")
    port = forms.text(form, f"{side}_port")
    security = forms.text(form, f"{side}_security") or ("tls" if side == "imap" else "starttls")
    if not _HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if security not in _SECURITY:
        return None
    return health.Endpoint(
        host=host,
        port=int(port),
        security=security,
        user=forms.text(form, f"{side}_user")[:320],
        password=str(form.get(f"{side}_password") or "")[:1000],
        folder=forms.text(form, "imap_folder")[:255] or "INBOX",
    )


async def _test(
    request: AnyRequest, principal: Principal, mailbox_id: int | None, side_name: str
) -> Template:
    require(principal, Action.ADMINISTER)
    if side_name not in ("imap", "smtp"):
        raise NotFoundError(f"no test for {side_name!r}")
    side: health.Side = "imap" if side_name == "imap" else "smtp"
    form = await request.form()
    endpoint = _endpoint(form, side)
    if endpoint is None:
        result = health.CheckResult(ok=False, kind=health.ErrorKind.NOT_CONFIGURED)
    else:
        result = await health.try_connection(principal, side, endpoint, mailbox_id)
    return await _mailboxes_page(
        request,
        principal,
        mailbox_id,
        typed=forms.Typed.of_form(form),
        test_side=side,
        test_result=result,
    )


@post("/admin/mailboxes/test/{side:str}", include_in_schema=False)
async def test_new_mailbox(
    request: AnyRequest, principal: NamedDependency[Principal], side: SideName
) -> Template:
    """Test connection with the values of the new-mailbox form (``side``: imap or smtp)."""
    return await _test(request, principal, None, side)


@post("/admin/mailboxes/{mailbox_id:int}/test/{side:str}", include_in_schema=False)
async def test_existing_mailbox(
    request: AnyRequest, principal: NamedDependency[Principal], mailbox_id: PathId, side: SideName
) -> Template:
    """Test connection with the values of a mailbox's form; an empty password
    field means the stored password (for the stored server only)."""
    return await _test(request, principal, mailbox_id, side)


# --- the demo outbox -------------------------------------------------------------------


@get("/admin/outbox", include_in_schema=False)
async def outbox_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Demo mode: the mails the mail catcher caught, newest first."""
    require(principal, Action.ADMINISTER)
    return await settings_page(
        request,
        principal,
        "console/manage/outbox.html",
        active_queue="admin-outbox",
        mails=await demo_sink.list_demo_mail(),
        opened=None,
        links=[],
    )


@get("/admin/outbox/{mail_id:int}", include_in_schema=False)
async def outbox_mail_page(
    request: AnyRequest, principal: NamedDependency[Principal], mail_id: PathId
) -> Template:
    """Demo mode: one caught mail, its text, its links and its HTML (sanitised)."""
    require(principal, Action.ADMINISTER)
    opened = await demo_sink.get_demo_mail(mail_id)
    if opened is None:
        raise NotFoundError(f"demo mail {mail_id} not found")
    links = list(dict.fromkeys(_LINK.findall(opened.text)))
    return await settings_page(
        request,
        principal,
        "console/manage/outbox.html",
        active_queue="admin-outbox",
        mails=await demo_sink.list_demo_mail(),
        opened=opened,
        links=[link.rstrip(".,;)") for link in links],
    )


DEMO_HANDLERS = [outbox_page, outbox_mail_page]
"""Mounted in demo mode only: elsewhere ``/console/admin/outbox`` does not exist (404)."""
