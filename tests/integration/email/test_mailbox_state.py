"""Issue 14, item 8: a mailbox shows its state (last fetch, last error in plain words,
last SMTP send), admins test a connection before saving, and each mail of a case
shows its delivery state up to a bounce.

Real servers: the session's Dovecot (IMAP) and aiosmtpd sinks (SMTP); the app is
the real one (the ``api`` fixture), driven through its console pages.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from helpdesk.channels.email import imap
from helpdesk.channels.email.mailboxes import MailboxUpdate, update_mailbox
from helpdesk.channels.email.outbound import queue_reply, send_outbound
from helpdesk.channels.email.tables import Mailbox, OutboundMail
from helpdesk.policy import SYSTEM
from helpdesk.schemas import MessageIn
from helpdesk.services import messages
from tests.factories import make_agent
from tests.integration.api import conftest as api_fixtures
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in
from tests.integration.email._mail import add_mailbox, build_dsn, new_address
from tests.mailservers import MailboxUser, SmtpSink, free_port

api = api_fixtures.api  # the app fixture of the API tests, with its 500 check
server_errors = api_fixtures.server_errors

RED = 'data-health="red"'
GREEN = 'data-health="green"'


async def _row(mailbox_id: int) -> dict[str, Any]:
    row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
    assert row is not None
    return row


async def _follow_until(mailbox_id: int, column: str) -> dict[str, Any]:
    """Run the real ingester loop on the mailbox until ``column`` is set; the row."""
    stop = asyncio.Event()
    task = asyncio.create_task(imap.run_mailbox(mailbox_id, stop, poll_seconds=0.2))
    try:
        for _ in range(100):
            row = await _row(mailbox_id)
            if row[column]:
                return row
            await asyncio.sleep(0.1)
        raise AssertionError(f"{column} was never set: {row}")
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def _page(api: Api) -> str:
    response = api.client.get("/console/admin/mailboxes")
    assert response.status_code == 200
    return str(response.text)


def _row_html(page: str, mailbox_id: int) -> str:
    match = re.search(rf'<tr data-mailbox="{mailbox_id}">(.*?)</tr>', page, re.S)
    assert match, page[:2000]
    return match.group(1)


def test_a_refused_login_shows_red_in_plain_words_until_a_fetch_succeeds(
    api: Api, mailbox_user: MailboxUser, smtp_sink: SmtpSink
) -> None:
    box = api.run(add_mailbox, mailbox_user, smtp_sink)
    api.run(update_mailbox, SYSTEM, box.id, MailboxUpdate(imap_password="sai-mat-khau"))
    console_sign_in(api, "admin")

    # Given a wrong password, the ingester records "login refused" with its time
    row = api.run(_follow_until, box.id, "last_error_kind")
    assert row["last_error_kind"] == "login_refused"
    assert row["last_error_at"] is not None
    assert "LoginError" in row["last_error"]
    page = _page(api)
    imap_cell = _row_html(page, box.id).split("data-smtp-state")[0]
    assert RED in imap_cell
    assert "Đăng nhập bị từ chối" in imap_cell  # Vietnamese by default
    assert 'data-failing-mailboxes="1"' in page  # the nav warns admins
    assert "sai-mat-khau" not in page
    assert mailbox_user.password not in page
    english = api.client.get("/console/admin/mailboxes?lang=en").text
    assert "Login refused: check the user name and password." in english

    # When the password is right, a fetch records its time and clears the error
    api.run(update_mailbox, SYSTEM, box.id, MailboxUpdate(imap_password=mailbox_user.password))
    row = api.run(_follow_until, box.id, "last_polled_at")
    assert row["last_error"] == ""
    assert row["last_error_kind"] == ""
    page = _page(api)
    assert GREEN in _row_html(page, box.id).split("data-smtp-state")[0]
    assert "data-failing-mailboxes" not in page
    assert mailbox_user.password not in page

    # SMTP: no mail sent yet (amber); a sent reply turns it green with its time
    assert 'data-health="amber"' in _row_html(page, box.id).split("data-smtp-state")[1]
    case = api.make_case(customer_email=new_address())
    outbound_id = api.run(_reply_and_send, case.id)
    assert api.run(_row, box.id)["smtp_sent_at"] is not None
    assert GREEN in _row_html(_page(api), box.id).split("data-smtp-state")[1]

    # ... and a bounce of that mail shows on the case page, with the report
    api.run(_bounce, box.id, outbound_id, smtp_sink)
    case_page = api.client.get(f"/console/cases/{case.id}?lang=vi").text
    assert 'data-mail-state="bounced"' in case_page
    assert "Email bị trả về" in case_page

    # SMTP server gone: the mailbox's SMTP side fails ("server unreachable")
    dead = free_port()
    api.run(update_mailbox, SYSTEM, box.id, MailboxUpdate(smtp_port=dead))
    other = api.make_case(customer_email=new_address())  # the first address bounced
    api.run(_reply_and_send, other.id)
    row = api.run(_row, box.id)
    assert row["smtp_error_kind"] == "unreachable"
    smtp_cell = _row_html(_page(api), box.id).split("data-smtp-state")[1]
    assert RED in smtp_cell
    assert "Không kết nối được máy chủ" in smtp_cell


async def _reply_and_send(case_id: int) -> int:
    reply = await messages.reply(
        await make_agent(), case_id, MessageIn(body="Chào anh, đã xử lý xong.")
    )
    outbound_id = await queue_reply(reply.id)
    assert outbound_id is not None
    await send_outbound(outbound_id)
    return outbound_id


async def _bounce(mailbox_id: int, outbound_id: int, sink: SmtpSink) -> None:
    from helpdesk.channels.email.ingest import MailboxRef, ingest_mail

    mail = await OutboundMail.select().where(OutboundMail.id == outbound_id).first()
    assert mail is not None
    assert mail["status"] == "sent"
    original = sink.messages[-1].data
    row = await _row(mailbox_id)
    dsn = build_dsn(original, failed=mail["to_address"], to=row["address"])
    ref = MailboxRef(id=mailbox_id, address=row["address"], team_id=None, auto_acknowledge=False)
    result = await ingest_mail(ref, 1, 900 + outbound_id, dsn)
    assert result.outcome == "bounce", result


def _test(api: Api, token: str, url: str, **form: Any) -> tuple[str, str, str]:
    """Post a test connection; (ok, problem, page)."""
    response = api.client.post(url, data={**{k: str(v) for k, v in form.items()}, "_csrf": token})
    assert response.status_code == 200, response.text[:500]
    match = re.search(r'data-test-result="\w+" data-ok="(\w+)" data-problem="(\w*)"', response.text)
    assert match, response.text[:2000]
    return match.group(1), match.group(2), str(response.text)


def test_test_connection_says_what_is_wrong_without_showing_passwords(
    api: Api, mailbox_user: MailboxUser
) -> None:
    box = api.run(add_mailbox, mailbox_user)
    token = console_sign_in(api, "admin")
    saved = f"/console/admin/mailboxes/{box.id}/test/imap"
    imap_form = {"imap_host": mailbox_user.host, "imap_port": mailbox_user.port,
                 "imap_security": "plain", "imap_user": mailbox_user.name,
                 "imap_folder": "INBOX", "name": box.name}  # fmt: skip

    # The stored password is used when the field is left empty, and never shown
    ok, problem, page = _test(api, token, saved, **imap_form, imap_password="")
    assert (ok, problem) == ("yes", "")
    assert "Kết nối IMAP hoạt động" in page
    assert mailbox_user.password not in page
    # A wrong password typed in the (unsaved) form: login refused
    ok, problem, page = _test(api, token, saved, **imap_form, imap_password="khong-dung")
    assert (ok, problem) == ("no", "login_refused")
    assert "khong-dung" not in page
    # A folder that does not exist
    assert _test(api, token, saved, **{**imap_form, "imap_folder": "Khong-co"})[:2] == (
        "no", "folder_missing")  # fmt: skip
    # A dead port, before the mailbox exists: unreachable, a page (no 500)
    dead = {**imap_form, "imap_port": free_port(), "imap_password": "x"}
    new = "/console/admin/mailboxes/test/imap"
    assert _test(api, token, new, **dead)[:2] == ("no", "unreachable")
    # The stored password never goes to another server than the stored one
    other_host = {**imap_form, "imap_host": "localhost", "imap_password": ""}
    assert _test(api, token, saved, **other_host)[:2] == ("no", "login_refused")
    # Nonsense in the fields: said plainly
    assert _test(api, token, new, imap_host="máy chủ!", imap_port="abc")[:2] == (
        "no", "not_configured")  # fmt: skip

    # SMTP: EHLO and AUTH against a sink that requires a login; nothing is sent
    with SmtpSink(credentials=("gui-thu", "mat-khau-smtp")) as sink:
        smtp_form = {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "plain",
                     "smtp_user": "gui-thu"}  # fmt: skip
        ok, _, page = _test(api, token, "/console/admin/mailboxes/test/smtp", **smtp_form,
                            smtp_password="mat-khau-smtp")  # fmt: skip
        assert ok == "yes"
        assert "Kết nối SMTP hoạt động" in page
        assert "mat-khau-smtp" not in page
        assert _test(api, token, "/console/admin/mailboxes/test/smtp", **smtp_form,
                     smtp_password="sai")[:2] == ("no", "login_refused")  # fmt: skip
        assert sink.messages == []

    # Only admins may test (the policy says so)
    manager = console_sign_in(api, "manager")
    refused = api.client.post(saved, data={**imap_form, "_csrf": manager})
    assert refused.status_code == 403
