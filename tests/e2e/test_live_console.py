"""Browser tests of live updates: a mail becomes a case that appears in an open queue
without a reload, the agent replies and the reply leaves by SMTP; two agents on one
case see each other viewing and typing.

Real parts: ``helpdesk run`` (embedded, SQLite) following a Dovecot mailbox over
IMAP and sending through an aiosmtpd sink; Debian's Chromium through Playwright.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from helpdesk import secret_keys
from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, TeamIn, TeamUpdate
from helpdesk.services import agents, teams
from tests.e2e._seed import PASSWORD
from tests.integration._processes import TEST_SECRET_KEY, Daemons, free_port, helpdesk_env
from tests.integration.email._mail import build_mail, new_address
from tests.mailservers import Dovecot, DovecotMissingError, MailboxUser, SmtpSink

Shot = Callable[[Page, str], None]
LIVE_MS = 20_000


@dataclass
class MailConsole:
    base_url: str
    mailbox: MailboxUser
    sink: SmtpSink
    emails: dict[str, str]

    def url(self, path: str) -> str:
        return self.base_url + path


async def _seed(database_url: str, user: MailboxUser, sink: SmtpSink) -> dict[str, str]:
    engine = create_engine(database_url)
    bind_engine(engine)
    await migrate(engine)
    secret_keys.configure(TEST_SECRET_KEY)  # the server's key: it opens the sealed passwords
    team = await teams.create_team(SYSTEM, TeamIn(name="Chăm sóc khách hàng", is_default=True))
    emails: dict[str, str] = {}
    members = []
    for key, name in (("lan", "Nguyễn Thị Lan"), ("minh", "Trần Văn Minh")):
        email = f"{key}@live.test"
        agent = await agents.create_agent(
            SYSTEM, AgentIn(name=name, email=email, role=Role.AGENT, password=PASSWORD)
        )
        members.append(agent.id)
        emails[key] = email
    await teams.update_team(SYSTEM, team.id, TeamUpdate(member_ids=members))
    await mailboxes.create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ", address=user.name, imap_host=user.host, imap_port=user.port,
            imap_security="plain", imap_user=user.name, imap_password=user.password,
            smtp_host=sink.host, smtp_port=sink.port, smtp_security="plain",
            auto_acknowledge=False,
        ),
    )  # fmt: skip
    await close_pool(engine)
    return emails


@pytest.fixture(scope="module")
def mail_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailConsole]:
    """``helpdesk run`` following a Dovecot mailbox and sending to an SMTP sink."""
    root = tmp_path_factory.mktemp("live")
    try:
        dovecot = Dovecot()
    except DovecotMissingError as exc:
        pytest.fail(f"Dovecot is required: {exc}")
    dovecot.start()
    sink = SmtpSink()
    sink.start()
    daemons = Daemons(root)
    try:
        user = dovecot.new_user()
        database_url = f"sqlite:///{root / 'helpdesk.db'}"
        emails = asyncio.run(_seed(database_url, user, sink))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**helpdesk_env(database_url, root / "data"), "HELPDESK_BASE_URL": base_url}
        server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
        daemons.wait_healthy(server, base_url)
        yield MailConsole(base_url=base_url, mailbox=user, sink=sink, emails=emails)
    finally:
        daemons.assert_all_stopped_cleanly()
        sink.stop()
        dovecot.close()


def sign_in(page: Page, console: MailConsole, who: str, then: str) -> None:
    page.goto(console.url(then))
    page.locator("input[name=email]").fill(console.emails[who])
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(console.url(then))))
    expect(page.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)


def test_a_mailed_case_appears_live_and_the_reply_leaves_by_smtp(
    mail_console: MailConsole, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Lan watching her team's queue, live
    page = new_page()
    sign_in(page, mail_console, "lan", "/console/queues/team")
    page.evaluate("window.__notReloaded = true")
    shot(page, "1-queue-before")

    # When a customer writes to the support mailbox
    customer = new_address()
    subject = "Máy in không kết nối được wifi"
    mail_console.mailbox.append(
        build_mail(sender=customer, to=mail_console.mailbox.name, subject=subject,
                   body="Chào anh chị, máy in của tôi không kết nối được wifi.\n")
    )  # fmt: skip

    # Then the case appears in the queue without a reload
    row = page.locator("#queue-results tr[data-row]", has_text=subject)
    expect(row).to_be_visible(timeout=LIVE_MS)
    assert page.evaluate("window.__notReloaded === true")
    shot(page, "2-queue-after-mail")

    # When she opens it and replies
    row.locator("a").first.click()
    expect(page.locator("h1")).to_have_text(subject)
    reply = "Chào anh, anh vui lòng khởi động lại máy in giúp em nhé."
    page.locator("#reply-body").fill(reply)
    page.locator("form.reply button[type=submit]").click()
    expect(page.locator("#conversation")).to_contain_text(reply)
    shot(page, "3-case-replied")

    # Then the reply leaves by SMTP to the customer
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:
        sent = [m for m in mail_console.sink.messages if customer in m.rcpt_tos]
        if sent or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(sent) == 1
    body = sent[0].parsed().get_body(("plain",))
    assert body is not None
    assert "khởi động lại máy in" in body.get_content()


def test_two_agents_on_one_case_see_each_other(
    mail_console: MailConsole, new_page: Callable[..., Page], shot: Shot
) -> None:
    subject = "Đơn hàng chưa được giao"
    mail_console.mailbox.append(
        build_mail(sender=new_address(), to=mail_console.mailbox.name, subject=subject)
    )
    lan, minh = new_page(), new_page()
    sign_in(lan, mail_console, "lan", "/console/queues/team")
    row = lan.locator("#queue-results tr[data-row]", has_text=subject)
    expect(row).to_be_visible(timeout=LIVE_MS)
    case_path = row.locator("a").first.get_attribute("href")
    assert case_path
    lan.goto(mail_console.url(case_path))
    sign_in(minh, mail_console, "minh", "/console/queues/team")
    minh.goto(mail_console.url(case_path))
    expect(minh.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)
    case_stream = f'#live-status[data-subscribed~="case:{case_path.rsplit("/", 1)[-1]}"]'
    expect(minh.locator(case_stream)).to_have_count(1, timeout=LIVE_MS)

    # Each sees the other viewing the case
    expect(lan.locator("#presence")).to_contain_text("Trần Văn Minh", timeout=LIVE_MS)
    expect(minh.locator("#presence")).to_contain_text("Nguyễn Thị Lan", timeout=LIVE_MS)

    # When Minh types a reply (once Lan's page follows the case), Lan sees it
    expect(lan.locator(case_stream)).to_have_count(1, timeout=LIVE_MS)
    minh.locator("#reply-body").press_sequentially("Để em xem", delay=20)
    expect(lan.locator("#presence")).to_contain_text("đang soạn trả lời", timeout=LIVE_MS)
    shot(lan, "lan-sees-minh-typing")
    # When Minh adds a note, it appears on Lan's page without a reload
    minh.locator("#note-body").fill("Khách hàng ở Đà Nẵng, kiểm tra kho miền Trung.")
    minh.locator("form.note button[type=submit]").click()
    expect(lan.locator("#conversation")).to_contain_text("kho miền Trung", timeout=LIVE_MS)
    shot(lan, "lan-sees-the-note")
