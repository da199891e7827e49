"""Helpers of the portal tests: customers, a sending mailbox, signing in by magic link."""

from __future__ import annotations

import itertools
import re
from typing import Any

from helpdesk.channels.email import _render, mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.channels.email.tables import Mailbox, OutboundMail
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseCreate, CustomerIn, OrganizationIn
from helpdesk.services import cases, customers, organizations
from tests.integration.api.conftest import Api

_seq = itertools.count(1)
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
LINK = re.compile(r"/support/login/([A-Za-z0-9_-]+)")


def sending_mailbox(api: Api) -> int:
    """A mailbox with an SMTP server, so that system mails are queued."""
    data = MailboxIn(
        name="Hỗ trợ", address=f"hotro{next(_seq)}@congty.vn", imap_host="imap.congty.vn",
        imap_user="hotro", imap_password="bi-mat", smtp_host="smtp.congty.vn",
    )  # fmt: skip
    return api.run(mailboxes.create_mailbox, SYSTEM, data).id


def new_customer(api: Api, *, organization: int | None = None, locale: str = "vi") -> Any:
    n = next(_seq)
    data = CustomerIn(
        name=f"Khách {n}", emails=[f"khach{n}@portal.test"], organization_id=organization,
        locale=locale,
    )  # fmt: skip
    return api.run(customers.create_customer, SYSTEM, data)


def new_organization(api: Api, *, shared: bool) -> int:
    data = OrganizationIn(name=f"Công ty {next(_seq)}", shared_visibility=shared)
    return api.run(organizations.create_organization, SYSTEM, data).id


def case_of(api: Api, customer: Any, subject: str = "Máy in không in được") -> Any:
    data = CaseCreate(
        subject=subject, body="Máy in báo lỗi giấy.", customer_email=customer.emails[0],
        team_id=api.team_a,
    )  # fmt: skip
    return api.run(cases.open_case, SYSTEM, data)


def csrf(api: Api, path: str = "/support/login") -> str:
    page = api.client.get(path)
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def _mails(kind: str) -> list[dict[str, Any]]:
    return list(await OutboundMail.select().where(OutboundMail.kind == kind))


def mails(api: Api, kind: str) -> list[dict[str, Any]]:
    """Outbound mails of ``kind`` queued so far."""
    return api.run(_mails, kind)


async def _delivered_text(outbound_id: int) -> str:
    message, _ = await _render.build(outbound_id)
    body = message.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


def delivered_text(api: Api, mail: dict[str, Any]) -> str:
    """The text of a queued mail as it is sent: its link tokens written in
    (the row itself holds only placeholders)."""
    return api.run(_delivered_text, int(mail["id"]))


async def _has_mailbox() -> bool:
    return bool(await Mailbox.count())


def request_link(api: Api, email: str) -> Any:
    return api.client.post("/support/login", data={"email": email, "_csrf": csrf(api)})


def sign_in(api: Api, customer: Any) -> str:
    """Sign ``customer`` in through a magic link; the portal cookie as a header value."""
    api.client.cookies.clear()
    if not api.run(_has_mailbox):
        sending_mailbox(api)
    before = len(mails(api, "portal_login"))
    assert request_link(api, customer.emails[0]).status_code == 200
    sent = mails(api, "portal_login")
    assert len(sent) == before + 1
    found = LINK.search(delivered_text(api, sent[-1]))
    assert found
    token = found.group(1)
    path = f"/support/login/{token}"
    used = api.client.post(path, data={"_csrf": csrf(api, path)}, follow_redirects=False)
    assert used.status_code == 303
    assert used.headers["location"] == "/support/requests"
    cookie = api.client.cookies.get("hd_portal")
    assert cookie
    return f"hd_portal={cookie}"
