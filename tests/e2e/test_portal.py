"""Browser test of the customer portal: sign in by magic link (taken from an SMTP
sink), follow a request live while an agent replies through the API, reply, and
rate the request once it is solved; in Vietnamese, then in English.

Real parts: ``helpdesk run`` (embedded, SQLite) sending mail to an aiosmtpd sink;
Debian's Chromium through Playwright. Screenshots under ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from helpdesk import secret_keys
from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, CaseCreate, CustomerIn, TeamIn, TeamUpdate
from helpdesk.services import agents, api_tokens, cases, customers, teams
from tests.integration._processes import TEST_SECRET_KEY, Daemons, free_port, helpdesk_env
from tests.mailservers import SmtpSink

Shot = Callable[[Page, str], None]
LIVE_MS = 15_000
CUSTOMER = "hoa@portal-e2e.test"
SUBJECT = "Không đăng nhập được vào ứng dụng"


@dataclass
class Portal:
    base_url: str
    sink: SmtpSink
    token: str
    case_id: int

    def url(self, path: str) -> str:
        return self.base_url + path

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url("/api/v1" + path), method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def mail_to(self, address: str, containing: str) -> str:
        """The text of the first mail to ``address`` containing ``containing`` (waits)."""
        deadline = time.monotonic() + LIVE_MS / 1000
        while time.monotonic() < deadline:
            for message in [m for m in self.sink.messages if address in m.rcpt_tos]:
                body = message.parsed().get_body(("plain",))
                if body is not None and containing in str(body.get_content()):
                    return str(body.get_content())
            time.sleep(0.1)
        raise AssertionError(f"no mail to {address} with {containing!r}")


async def _seed(database_url: str, sink: SmtpSink) -> tuple[str, int]:
    engine = create_engine(database_url)
    bind_engine(engine)
    await migrate(engine)
    secret_keys.configure(TEST_SECRET_KEY)  # the server's key: it opens the sealed passwords
    team = await teams.create_team(SYSTEM, TeamIn(name="Hỗ trợ khách hàng", is_default=True))
    agent = await agents.create_agent(
        SYSTEM, AgentIn(name="Nguyễn Thị Lan", email="lan@portal-e2e.test", role=Role.AGENT)
    )
    await teams.update_team(SYSTEM, team.id, TeamUpdate(member_ids=[agent.id]))
    token = (await api_tokens.create_token(SYSTEM, agent.id, "e2e")).token
    await mailboxes.create_mailbox(
        SYSTEM,
        MailboxIn(
            name="Hỗ trợ", address="hotro@portal-e2e.test", imap_host="127.0.0.1",
            imap_port=free_port(), imap_security="plain", imap_user="hotro",
            imap_password="x", smtp_host=sink.host, smtp_port=sink.port,
            smtp_security="plain", auto_acknowledge=False,
        ),
    )  # fmt: skip
    await customers.create_customer(SYSTEM, CustomerIn(name="Lê Thị Hoa", emails=[CUSTOMER]))
    case = await cases.open_case(
        SYSTEM,
        CaseCreate(subject=SUBJECT, body="Tôi quên mật khẩu.", customer_email=CUSTOMER,
                   team_id=team.id),
    )  # fmt: skip
    await close_pool(engine)
    return token, case.id


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """``helpdesk run`` sending its mail to an SMTP sink."""
    root = tmp_path_factory.mktemp("portal")
    sink = SmtpSink()
    sink.start()
    daemons = Daemons(root)
    try:
        database_url = f"sqlite:///{root / 'helpdesk.db'}"
        token, case_id = asyncio.run(_seed(database_url, sink))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**helpdesk_env(database_url, root / "data"), "HELPDESK_BASE_URL": base_url}
        server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
        daemons.wait_healthy(server, base_url)
        yield Portal(base_url=base_url, sink=sink, token=token, case_id=case_id)
    finally:
        daemons.assert_all_stopped_cleanly()
        sink.stop()


def test_portal_magic_link_live_reply_and_survey(
    portal: Portal, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Hoa on the portal, in Vietnamese (her browser's language)
    page = new_page("vi-VN")
    page.goto(portal.url("/"))
    page.get_by_role("link", name="Đăng nhập để theo dõi yêu cầu hỗ trợ").click()
    page.locator("input[name=email]").fill(CUSTOMER)
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("#login-sent")).to_contain_text(CUSTOMER)
    shot(page, "1-link-sent")

    # When she follows the link from her mail
    mail = portal.mail_to(CUSTOMER, "/support/login/")
    assert "Liên kết có hiệu lực trong 15 phút" in mail
    link = re.search(r"http://\S+/support/login/\S+", mail)
    assert link
    page.goto(link.group(0))
    page.locator("form.confirm button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Yêu cầu của tôi")
    shot(page, "2-my-requests")

    # Then she sees her request and opens it, live
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.locator("h1")).to_have_text(SUBJECT)
    expect(page.locator("#request-status")).to_have_text("Đang xử lý")  # customer's wording
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_MS)
    page.evaluate("window.__notReloaded = true")

    # When the agent replies through the API, the reply appears without a reload
    reply = "Chào chị, chị thử đặt lại mật khẩu bằng liên kết 'Quên mật khẩu' nhé."
    portal.api("POST", f"/cases/{portal.case_id}/messages", {"body": reply})
    expect(page.locator("#conversation")).to_contain_text("đặt lại mật khẩu", timeout=LIVE_MS)
    assert page.evaluate("window.__notReloaded === true")
    shot(page, "3-live-reply")

    # When she replies
    page.locator("#reply-body").fill("Cảm ơn em, chị đăng nhập được rồi.")
    page.locator("form.reply button[type=submit]").click()
    expect(page.locator("#conversation")).to_contain_text("đăng nhập được rồi")

    # When the agent solves it, the survey appears live; she rates it
    page.evaluate("window.__notReloaded = true")
    case = portal.api("GET", f"/cases/{portal.case_id}")
    portal.api("PATCH", f"/cases/{portal.case_id}", {"version": case["version"],
                                                     "status": "solved"})  # fmt: skip
    expect(page.locator("#request-status")).to_have_text("Đã giải quyết", timeout=LIVE_MS)
    expect(page.locator("form.survey")).to_be_visible()
    assert page.evaluate("window.__notReloaded === true")
    shot(page, "4-survey-offered")
    page.locator("form.survey input[name=rating][value='5']").check()
    page.locator("form.survey textarea[name=comment]").fill("Hỗ trợ rất nhanh!")
    page.locator("form.survey button[type=submit]").click()
    expect(page.locator("#survey")).to_contain_text("5 trên 5")
    shot(page, "5-survey-answered")

    # And the survey also went out by mail, with a link of its own
    survey_mail = portal.mail_to(CUSTOMER, "/support/survey/")
    assert "đã được giải quyết" in survey_mail

    # And the portal speaks English when she switches
    page.get_by_role("link", name="English").click()
    expect(page.locator("#survey")).to_contain_text("Thank you for your rating: 5 out of 5.")
    expect(page.locator("#request-status")).to_have_text("Solved")
    page.get_by_role("link", name="My requests").first.click()
    expect(page.locator("h1")).to_have_text("My requests")
    shot(page, "6-english")
