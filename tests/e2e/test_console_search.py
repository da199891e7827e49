"""Browser test of the console's search and lists: search from the header, filter by
status, see the SLA badge of each line, and watch the queue's count change live
when another agent opens a case.

Real parts: ``helpdesk run`` (embedded, SQLite) on its own seeded database, Debian's
Chromium through Playwright, and the REST API for the other agent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpdesk import events
from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentIn, CaseCreate, CaseUpdate, MessageIn, TeamIn, TeamUpdate
from helpdesk.services import agents, api_tokens, cases, messages, teams
from helpdesk.sla import services as sla_services
from helpdesk.sla.schemas import PolicyIn
from helpdesk.sla.timers import fire_due
from helpdesk.sla.tracking import track_event
from tests.e2e._seed import PASSWORD
from tests.integration._processes import Daemons, free_port, helpdesk_env

Shot = Callable[[Page, str], None]
LIVE_MS = 20_000


@dataclass
class SearchConsole:
    base_url: str
    emails: dict[str, str]
    token: str
    team_id: int
    cases: dict[str, int]

    def url(self, path: str) -> str:
        return self.base_url + path


async def _seed(database_url: str) -> SearchConsole:
    engine = create_engine(database_url)
    bind_engine(engine)
    await migrate(engine)
    events.configure(None, reactors=[track_event])  # the SLA clocks follow, as in the app
    try:
        team = await teams.create_team(SYSTEM, TeamIn(name="Chăm sóc khách hàng"))
        emails, members = {}, []
        for key, name in (("lan", "Nguyễn Thị Lan"), ("minh", "Trần Văn Minh")):
            emails[key] = f"{key}@search.test"
            agent = await agents.create_agent(
                SYSTEM, AgentIn(name=name, email=emails[key], role=Role.AGENT, password=PASSWORD)
            )
            members.append(agent.id)
        await teams.update_team(SYSTEM, team.id, TeamUpdate(member_ids=members))
        token = (await api_tokens.create_token(SYSTEM, members[1], "e2e")).token
        hours = {"first_response": "PT1H", "resolution": "PT16H"}
        targets = dict.fromkeys(("low", "normal", "high", "urgent"), hours)
        await sla_services.create_policy(SYSTEM, PolicyIn(name="Thường", targets=targets))  # type: ignore[arg-type]
        late = await cases.open_case(
            SYSTEM,
            CaseCreate(subject="Không đăng nhập được", body="Tôi quên mật khẩu từ hôm qua.",
                       customer_email="dao@donga.vn", customer_name="Nguyễn Thị Đào",
                       team_id=team.id),
        )  # fmt: skip
        await fire_due(datetime.now(UTC) + timedelta(days=30))  # its first response: breached
        done = await cases.open_case(
            SYSTEM,
            CaseCreate(subject="Hóa đơn tháng 5", body="Xin gửi lại hóa đơn, đăng nhập rồi.",
                       customer_email="dao@donga.vn", team_id=team.id),
        )  # fmt: skip
        await messages.reply(SYSTEM, done.id, MessageIn(body="Đã gửi lại hóa đơn."))
        version = (await cases.get_case(SYSTEM, done.id)).version
        await cases.update_case(SYSTEM, done.id, CaseUpdate(version=version, status="solved"))  # type: ignore[arg-type]
    finally:
        events.configure(None)
        await close_pool(engine)
    return SearchConsole("", emails, token, team.id, {"late": late.id, "done": done.id})


@pytest.fixture(scope="module")
def search_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchConsole]:
    """``helpdesk run`` on a database seeded with two cases, an SLA policy and two agents."""
    root = tmp_path_factory.mktemp("search")
    daemons = Daemons(root)
    try:
        database_url = f"sqlite:///{root / 'helpdesk.db'}"
        seeded = asyncio.run(_seed(database_url))
        port = free_port()
        seeded.base_url = f"http://127.0.0.1:{port}"
        env = {**helpdesk_env(database_url, root / "data"), "HELPDESK_BASE_URL": seeded.base_url}
        server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
        daemons.wait_healthy(server, seeded.base_url)
        yield seeded
    finally:
        daemons.assert_all_stopped_cleanly()


def sign_in(page: Page, console: SearchConsole, who: str) -> None:
    page.goto(console.url("/console/"))
    page.locator("input[name=email]").fill(console.emails[who])
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(console.url("/console/"))))
    expect(page.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)


def test_search_filter_sla_badge_and_live_count(
    search_console: SearchConsole, new_page: Callable[..., Page], shot: Shot
) -> None:
    late, done = search_console.cases["late"], search_console.cases["done"]
    page = new_page()
    sign_in(page, search_console, "lan")

    # When Lan searches from the header, without diacritics, for words of both cases
    page.locator("header.top input[name=q]").fill("dang nhap")
    page.locator("header.top input[name=q]").press("Enter")
    expect(page).to_have_url(re.compile(r"/console/search\?q=dang(\+|%20)nhap"))
    # Then both are found, the subject match first, and the heading counts them
    rows = page.locator("#queue-results tr[data-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"HD-{late:06d}")
    expect(page.locator("#search-count")).to_have_text("Kết quả: 2")
    # and the breached case shows its SLA badge with its due time
    badge = rows.nth(0).locator(".sla-badge")
    expect(badge).to_have_attribute("data-sla", "breached")
    expect(badge).to_contain_text("Phản hồi đầu tiên")
    expect(rows.nth(0).locator(".sla-due")).to_have_text(
        re.compile(r"hạn \d\d/\d\d/\d{4} \d\d:\d\d")
    )
    shot(page, "1-search-results")

    # When she keeps only solved cases
    page.locator("main form.filters select[name=status]").select_option("solved")
    page.locator("main form.filters button[type=submit]").click()
    expect(page.locator("#search-count")).to_have_text("Kết quả: 1")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(f"HD-{done:06d}")
    shot(page, "2-search-solved")

    # When she watches the "all" queue and Minh opens a case through the API
    page.goto(search_console.url("/console/queues/all"))
    expect(page.locator("#live-status")).to_have_class(re.compile("live-on"), timeout=LIVE_MS)
    expect(page.locator("#live-status")).to_have_attribute(
        "data-subscribed", re.compile(f"team:{search_console.team_id}"), timeout=LIVE_MS
    )
    expect(page.locator("#queue-count")).to_have_text("1")  # the solved case is not active
    expect(page.locator("#queue-nav [data-count=all]")).to_have_text("1")
    page.evaluate("window.__notReloaded = true")
    shot(page, "3-queue-before")
    body = {"subject": "Máy in kẹt giấy", "body": "Máy in tầng 2 bị kẹt giấy.",
            "customer_email": "an@donga.vn", "team_id": search_console.team_id}  # fmt: skip
    response = httpx.post(
        search_console.url("/api/v1/cases"),
        json=body,
        headers={"Authorization": f"Bearer {search_console.token}"},
    )
    assert response.status_code == 201, response.text
    # Then the heading and the nav count it without a reload
    expect(page.locator("#queue-count")).to_have_text("2", timeout=LIVE_MS)
    expect(page.locator("#queue-nav [data-count=all]")).to_have_text("2", timeout=LIVE_MS)
    expect(page.locator("#queue-results tr[data-row]")).to_have_count(2)
    assert page.evaluate("window.__notReloaded === true")
    shot(page, "4-queue-after")
