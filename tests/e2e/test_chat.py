"""Browser test of the live chat widget: a shop's page on another origin embeds the
script; the customer chats; the agent, signed into the console, sees the chat case
in the team queue, sees the customer typing and replies; the customer sees the reply
live.

Real parts: ``helpdesk run`` (embedded, SQLite, ``HELPDESK_CHAT_ORIGINS`` set to the
shop), a plain HTTP server for the shop's page, Debian's Chromium through Playwright.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, TeamIn, TeamUpdate
from helpdesk.services import agents, teams
from helpdesk.tables import Agent
from tests.e2e._seed import PASSWORD
from tests.integration._processes import Daemons, free_port, helpdesk_env

Shot = Callable[[Page, str], None]
LIVE_MS = 15_000
AGENT_EMAIL = "lan@chat.test"


@dataclass
class ChatSite:
    helpdesk: str
    shop: str
    team_id: int


async def _seed(database_url: str) -> int:
    engine = create_engine(database_url)
    bind_engine(engine)
    await migrate(engine)
    team = await teams.create_team(SYSTEM, TeamIn(name="Trò chuyện", is_default=True))
    agent = await agents.create_agent(
        SYSTEM, AgentIn(name="Nguyễn Thị Lan", email=AGENT_EMAIL, role=Role.AGENT,
                        password=PASSWORD)
    )  # fmt: skip
    await teams.update_team(SYSTEM, team.id, TeamUpdate(member_ids=[agent.id]))
    await Agent.update({Agent.availability: "available"}).where(Agent.id == agent.id)
    await close_pool(engine)
    return team.id


def _shop_page(helpdesk: str, team_id: int) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Plain shop page</h1><p>Nothing but a script tag below.</p>
<script src="{helpdesk}/static/portal/chat-widget.js" data-helpdesk="{helpdesk}"
 data-team="{team_id}" async></script>
</body></html>"""


@pytest.fixture(scope="module")
def chat_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatSite]:
    """The helpdesk on 127.0.0.1 and a shop on localhost (another origin) embedding it."""
    root = tmp_path_factory.mktemp("chat")
    database_url = f"sqlite:///{root / 'helpdesk.db'}"
    team_id = asyncio.run(_seed(database_url))
    port, shop_port = free_port(), free_port()
    helpdesk, shop = f"http://127.0.0.1:{port}", f"http://localhost:{shop_port}"
    site = root / "shop"
    site.mkdir()
    (site / "index.html").write_text(_shop_page(helpdesk, team_id), encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", shop_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**helpdesk_env(database_url, root / "data"), "HELPDESK_BASE_URL": helpdesk,
           "HELPDESK_CHAT_ORIGINS": shop}  # fmt: skip
    daemons = Daemons(root)
    try:
        process = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
        daemons.wait_healthy(process, helpdesk)
        yield ChatSite(helpdesk=helpdesk, shop=shop, team_id=team_id)
    finally:
        server.shutdown()
        daemons.assert_all_stopped_cleanly()


def test_a_customer_chats_from_another_site_and_the_agent_answers_live(
    chat_site: ChatSite, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given a shop page (in English) with the widget, the customer opens the chat
    customer = new_page("en-US")
    customer.goto(chat_site.shop + "/index.html")
    customer.locator("button.btn", has_text="Chat with us").click()
    customer.locator("form[data-mode=chat] input[name=name]").fill("Tran Thi Binh")
    customer.locator("form[data-mode=chat] input[name=email]").fill("binh@khach.test")
    customer.locator("form[data-mode=chat] textarea[name=message]").fill("Where is my order?")
    customer.locator("form[data-mode=chat] button[type=submit]").click()
    expect(customer.locator(".line.customer")).to_contain_text("Where is my order?")
    reference = customer.locator(".body p.note").first.inner_text()
    match = re.search(r"HD-0*(\d+)", reference)
    assert match, reference
    case_id = int(match.group(1))
    shot(customer, "customer-started")

    # The agent sees the chat case in her team's queue, and its channel on its page
    agent = new_page("vi-VN")
    agent.goto(chat_site.helpdesk + "/console/queues/team")
    agent.locator("input[name=email]").fill(AGENT_EMAIL)
    agent.locator("input[name=password]").fill(PASSWORD)
    agent.locator("form[action='/console/login'] button[type=submit]").click()
    expect(agent.locator("#queue-results")).to_contain_text("Where is my order?", timeout=LIVE_MS)
    agent.goto(f"{chat_site.helpdesk}/console/cases/{case_id}")
    expect(agent.locator("body")).to_contain_text("Trò chuyện trực tuyến")
    expect(agent.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)
    subscribed = agent.locator(f'#live-status[data-subscribed~="case:{case_id}"]')
    expect(subscribed).to_have_count(1, timeout=LIVE_MS)

    # The customer types: the console shows it; the agent types: the widget shows it
    customer.locator(".foot input[name=text]").press_sequentially("Order 42", delay=20)
    expect(agent.locator("#presence")).to_contain_text("Tran Thi Binh", timeout=LIVE_MS)
    agent.locator("#reply-body").press_sequentially("Chào chị", delay=20)
    expect(customer.locator(".typing")).to_contain_text("Nguyễn Thị Lan is typing", timeout=LIVE_MS)
    shot(agent, "agent-sees-customer-typing")

    # The agent replies from the case page; the customer sees it live
    agent.locator("#reply-body").fill("Your order ships today.")
    agent.locator("form.reply button[type=submit]").click()
    expect(agent.locator("#conversation")).to_contain_text("Your order ships today.")
    expect(customer.locator(".line.agent")).to_contain_text(
        "Your order ships today.", timeout=LIVE_MS
    )
    shot(customer, "customer-sees-reply")

    # Reloading the page returns to the same chat with its transcript
    customer.reload()
    customer.locator("button.btn").click()
    expect(customer.locator(".line.agent")).to_contain_text("Your order ships today.")
    expect(customer.locator(".body p.note").first).to_contain_text(f"HD-{case_id:06d}")
    shot(customer, "customer-after-reload")


def _start_chat(page: Page, site: ChatSite, name: str, email: str, line: str) -> int:
    page.goto(site.shop + "/index.html")
    page.locator("button.btn").click()
    page.locator("form[data-mode=chat] input[name=name]").fill(name)
    page.locator("form[data-mode=chat] input[name=email]").fill(email)
    page.locator("form[data-mode=chat] textarea[name=message]").fill(line)
    page.locator("form[data-mode=chat] button[type=submit]").click()
    expect(page.locator(".line.customer")).to_contain_text(line)
    match = re.search(r"HD-0*(\d+)", page.locator(".body p.note").first.inner_text())
    assert match
    return int(match.group(1))


def test_an_agent_answers_two_chats_side_by_side_from_the_chat_desk(
    chat_site: ChatSite, new_page: Callable[..., Page], shot: Shot
) -> None:
    first, second = new_page("vi-VN"), new_page("vi-VN")
    first_id = _start_chat(first, chat_site, "Phạm Văn An", "an@khach.test", "Tôi cần đổi size áo")
    second_id = _start_chat(
        second, chat_site, "Đỗ Thị Mai", "mai@khach.test", "Shop còn hàng không?"
    )

    agent = new_page("vi-VN")
    agent.goto(f"{chat_site.helpdesk}/console/chats?open={first_id},{second_id}")
    agent.locator("input[name=email]").fill(AGENT_EMAIL)
    agent.locator("input[name=password]").fill(PASSWORD)
    agent.locator("form[action='/console/login'] button[type=submit]").click()
    panels = agent.locator("[data-chat-panel]")
    expect(panels).to_have_count(2)
    expect(panels.nth(0)).to_contain_text("Tôi cần đổi size áo")
    expect(panels.nth(1)).to_contain_text("Shop còn hàng không?")
    expect(agent.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)
    subscribed = agent.locator(f'#live-status[data-subscribed~="case:{second_id}"]')
    expect(subscribed).to_have_count(1, timeout=LIVE_MS)

    # Enter sends the line of the first panel; Shift+Enter only starts a new line
    box = agent.locator(f"#chat-text-{first_id}")
    box.fill("Dạ anh cần đổi sang size nào ạ?")
    box.press("Shift+Enter")
    expect(panels.nth(0).locator(".bubble-agent")).to_have_count(0)
    box.press("Enter")
    expect(panels.nth(0).locator(".bubble-agent")).to_contain_text("Dạ anh cần đổi sang size nào")
    expect(box).to_have_value("")
    expect(first.locator(".line.agent")).to_contain_text("Dạ anh cần đổi", timeout=LIVE_MS)

    # The second customer writes again: their panel shows it without a reload
    second.locator(".foot input[name=text]").fill("Size M màu xanh nhé")
    second.locator(".foot input[name=text]").press("Enter")
    expect(panels.nth(1).locator(".bubble-customer").last).to_contain_text(
        "Size M màu xanh nhé", timeout=LIVE_MS
    )
    shot(agent, "chat-desk-two-panels")
