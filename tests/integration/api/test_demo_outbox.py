"""Issue 14, item 8: in demo mode outbound mail needs no mail server. It takes the real
path (claim, SMTP, record) to the mail catcher the runtime starts, and admins read it
on /console/admin/outbox, which does not exist outside demo mode."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from helpdesk import jobs
from helpdesk.app import create_app
from helpdesk.channels.email.demo_sink import DEMO_ADDRESS, ensure_demo_mailbox
from helpdesk.channels.email.tables import Mailbox, OutboundMail
from helpdesk.settings import load_settings
from tests.integration.api import _portal_setup as portal
from tests.integration.api.conftest import Api, _reset_database, _seed
from tests.integration.api.test_console_permissions import console_sign_in


@pytest.fixture
def demo_api(
    database_url: str, db_kind: str, tmp_path: Path, server_errors: list[logging.LogRecord]
) -> Iterator[Api]:
    """The app in demo mode (its mail catcher on a free port), seeded like ``api``."""
    settings = load_settings(
        {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_DEMO": "1",
        }
    )
    app = create_app(settings, run_worker=False)
    with TestClient(app) as client:
        api = Api(app=app, client=client)
        api.run(_reset_database, app.state.runtime.engine, db_kind)
        api.run(_seed, api)
        # the runtime pointed the demo mailbox at its catcher on start; the reset wiped it
        api.run(ensure_demo_mailbox, app.state.runtime.demo_sink.port)
        yield api
    assert not server_errors, [r.getMessage() for r in server_errors]


async def _demo_mailboxes() -> list[dict[str, object]]:
    return list(await Mailbox.select().where(Mailbox.address == DEMO_ADDRESS))


async def _send_everything() -> list[str]:
    """Run the recorded jobs here (as the worker would): the mails go out through
    the real sender; the status and server answer of each."""
    await jobs.run_due_here()
    rows = await OutboundMail.select(OutboundMail.status, OutboundMail.server_reply)
    return [f"{row['status']} {row['server_reply']}" for row in rows]


def test_demo_mail_is_caught_and_shown_with_its_links(demo_api: Api) -> None:
    api = demo_api
    [box] = api.run(_demo_mailboxes)
    assert box["smtp_port"] == api.app.state.runtime.demo_sink.port

    # Given a reply by an agent in the console and a customer asking for a sign-in link
    case = api.make_case(api.team_a, customer_email="lan@khachhang.vn")
    token = console_sign_in(api, "admin")
    form = {"body": "Chào chị Lan, máy in đã được sửa.", "_csrf": token}
    sent = api.client.post(f"/console/cases/{case.id}/reply", data=form, follow_redirects=False)
    assert sent.status_code == 303
    customer = portal.new_customer(api)
    api.client.cookies.clear()
    assert portal.request_link(api, customer.emails[0]).status_code == 200

    # When the mail jobs run, both mails are sent to the catcher (no mail server)
    states = api.run(_send_everything)
    assert len(states) == 2
    assert all(re.fullmatch(r"sent 250 2\.0\.0 Ok: caught as demo mail \d+", s) for s in states)

    # Then the admin sees both on the outbox page, newest first
    console_sign_in(api, "admin")
    page = api.client.get("/console/admin/outbox")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-mail="(\d+)">(.*?)</tr>', page.text, re.S)
    assert [customer.emails[0] in row for _, row in rows] == [True, False]
    assert "lan@khachhang.vn" in rows[1][1]
    assert "Liên kết đăng nhập" in html.unescape(rows[0][1])  # the sign-in mail's subject
    assert 'href="/console/admin/outbox"' in page.text  # the nav links the outbox

    # ... opens the reply, then the sign-in mail, whose link signs the customer in
    reply = api.client.get(f"/console/admin/outbox/{rows[1][0]}").text
    assert "Chào chị Lan, máy in đã được sửa." in html.unescape(reply)
    sign_in = api.client.get(f"/console/admin/outbox/{rows[0][0]}").text
    link = re.search(r'<a href="(http://[^"]+/support/login/[^"]+)"[^>]*data-link', sign_in)
    assert link, sign_in
    path = "/support/login/" + link.group(1).rsplit("/", 1)[1]
    api.client.cookies.clear()
    assert api.client.get(path).status_code == 200
    used = api.client.post(path, data={"_csrf": portal.csrf(api, path)}, follow_redirects=False)
    assert used.status_code == 303

    # Agents may not read the outbox; unknown mails are 404
    console_sign_in(api, "agent_a")
    assert api.client.get("/console/admin/outbox").status_code == 403
    console_sign_in(api, "admin")
    assert api.client.get("/console/admin/outbox/999999").status_code == 404


def test_the_outbox_does_not_exist_outside_demo_mode(api: Api) -> None:
    console_sign_in(api, "admin")
    assert api.client.get("/console/admin/outbox").status_code == 404
    assert api.app.state.runtime.demo_sink is None
    assert 'href="/console/admin/outbox"' not in api.client.get("/console/").text
