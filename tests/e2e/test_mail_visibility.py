"""Issue 14, item 8 in a real browser: a failing mailbox is red on its page (and the
nav warns), the test connection button says what is wrong, and in demo mode the
outbox shows the sign-in link a customer asked for, which can be followed.

A server of its own: ``helpdesk run --demo`` on a fresh SQLite file, with a mailbox
whose IMAP server does not exist (a closed port on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, CustomerIn
from helpdesk.services import agents, customers
from tests.e2e._seed import PASSWORD, Seeded
from tests.e2e.conftest import Console, sign_in
from tests.integration._processes import Daemons, free_port, helpdesk_env

CUSTOMER = "thu.ha@khachhang.vn"


async def _seed(database_url: str, dead_port: int) -> Seeded:
    engine = create_engine(database_url)
    bind_engine(engine)
    await migrate(engine)
    admin = AgentIn(name="Quản trị", email="quantri@support.test", role=Role.ADMIN,
                    password=PASSWORD)  # fmt: skip
    await agents.create_agent(SYSTEM, admin)
    broken = MailboxIn(
        name="Hộp thư hỏng", address="hong@support.test", imap_host="127.0.0.1",
        imap_port=dead_port, imap_security="plain", imap_user="hong", imap_password="bi-mat",
    )  # fmt: skip
    await create_mailbox(SYSTEM, broken)
    await customers.create_customer(SYSTEM, CustomerIn(name="Thu Hà", emails=[CUSTOMER]))
    await close_pool(engine)
    return Seeded(emails={"admin": "quantri@support.test"})


@pytest.fixture(scope="module")
def demo_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """``helpdesk run --demo`` on a free port; stopped (and checked) at the end."""
    root = tmp_path_factory.mktemp("e2e-mail")
    database_url = f"sqlite:///{root / 'helpdesk.db'}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # first: it sets this process's secret key too, which seals the mailbox password
    env = {**helpdesk_env(database_url, root / "data"), "HELPDESK_BASE_URL": base_url}
    seeded = asyncio.run(_seed(database_url, free_port()))
    daemons = Daemons(root)
    args = ["run", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    server = daemons.start("run-demo", args, env)
    try:
        daemons.wait_healthy(server, base_url)
        yield Console(base_url=base_url, data=seeded)
    finally:
        daemons.assert_all_stopped_cleanly()


def _reload_until(page: Page, locator: str, tries: int = 20) -> None:
    """Reload ``page`` until ``locator`` is there (the server works in the background)."""
    for _ in range(tries):
        if page.locator(locator).count():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(locator).first).to_be_visible()


def test_a_failing_mailbox_is_red_and_test_connection_says_why(
    demo_console: Console, new_page: Callable[..., Page], shot: Callable[[Page, str], None]
) -> None:
    page = new_page()
    sign_in(page, demo_console, "admin", then="/console/admin/mailboxes")
    row = page.locator("tr[data-mailbox]", has_text="Hộp thư hỏng")
    _reload_until(page, "tr[data-mailbox] td[data-imap-state] [data-health=red]")
    expect(row.locator("td[data-imap-state]")).to_contain_text("Không kết nối được máy chủ")
    expect(page.locator(".nav-warning")).to_contain_text("hộp thư đang lỗi")
    # the demo mailbox sends through the mail catcher, and fetches nothing
    demo_row = page.locator("tr[data-mailbox]", has_text="hotro@hotro.example")
    expect(demo_row.locator("[data-health=off]").first).to_have_text("Chỉ gửi thư")
    shot(page, "mailbox-failing")

    row.get_by_role("link", name="Hộp thư hỏng").click()
    page.locator("button[data-test=imap]").click()
    result = page.locator("[data-test-result=imap]")
    expect(result).to_have_attribute("data-ok", "no")
    expect(result).to_contain_text("Kiểm tra IMAP không thành công")
    expect(result).to_contain_text("Không kết nối được máy chủ")
    expect(page.locator("input[name=imap_password]")).to_have_value("")
    shot(page, "test-connection")


def test_the_outbox_shows_a_sign_in_link_that_works(
    demo_console: Console, new_page: Callable[..., Page], shot: Callable[[Page, str], None]
) -> None:
    customer = new_page()
    customer.goto(demo_console.url("/support/login"))
    customer.locator("input[name=email]").fill(CUSTOMER)
    customer.locator("form[action='/support/login'] button[type=submit]").click()
    customer.wait_for_load_state()

    admin = new_page()
    sign_in(admin, demo_console, "admin", then="/console/admin/outbox")
    _reload_until(admin, f"tr[data-mail]:has-text('{CUSTOMER}')")
    shot(admin, "outbox")
    admin.locator(f"tr[data-mail]:has-text('{CUSTOMER}') a").first.click()
    link = admin.locator("a[data-link]").first
    expect(link).to_have_attribute("href", re.compile(r"/support/login/[A-Za-z0-9_-]+$"))
    shot(admin, "sign-in-mail")

    customer.goto(str(link.get_attribute("href")))
    customer.locator("form.confirm button[type=submit]").click()
    customer.wait_for_url(re.compile(r"/support/requests"))
    shot(customer, "signed-in")
