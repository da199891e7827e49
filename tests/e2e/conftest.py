"""Browser tests: a real ``helpdesk run`` server and Debian's Chromium driven by Playwright.

One server per test session, in embedded mode on a fresh SQLite file in a
temp data dir (seeded by :mod:`tests.e2e._seed` before it starts), on a free
port. One Chromium per test module, a fresh browser context (cookies, language)
per test. Every test leaves screenshots under ``test-artifacts/e2e/<test>/``.

Chromium comes from Debian (``apt-get install chromium``; ``scripts/test.sh``
installs it): ``playwright install`` cannot download browsers here. A missing
browser fails the tests with that message; it never skips them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e._seed import PASSWORD, Seeded, seed
from tests.integration._processes import Daemons, free_port, helpdesk_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 10_000


@dataclass
class Console:
    """The running server and what was seeded into it."""

    base_url: str
    data: Seeded

    def url(self, path: str) -> str:
        """An absolute URL on the server."""
        return self.base_url + path

    def case_url(self, key: str) -> str:
        """The console page of a seeded case."""
        return self.url(f"/console/cases/{self.data.cases[key]}")


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """``helpdesk run`` on a free port, seeded; stopped (and checked) at the end."""
    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    database_url = f"sqlite:///{root / 'helpdesk.db'}"
    seeded = asyncio.run(seed(database_url, data_dir))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**helpdesk_env(database_url, data_dir), "HELPDESK_BASE_URL": base_url}
    daemons = Daemons(root)
    server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
    try:
        daemons.wait_healthy(server, base_url)
        yield Console(base_url=base_url, data=seeded)
    finally:
        daemons.assert_all_stopped_cleanly()


# Module scope, not session: sync Playwright keeps an asyncio loop running in
# this thread while it is open, and later tests that call asyncio.run() (the
# database fixtures) would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _test_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (``locale`` sets Accept-Language); each
    page's last state is saved as a screenshot when the test ends."""
    contexts: list[BrowserContext] = []
    artifacts = _test_dir(request)

    def open_page(locale: str = "vi-VN") -> Page:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for number, context in enumerate(contexts):
        for index, page in enumerate(context.pages):
            page.screenshot(path=artifacts / f"end-{number}-{index}.png", full_page=True)
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """``shot(page, "name")`` saves a full-page screenshot as a test artifact."""
    artifacts = _test_dir(request)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)

    return save


def sign_in(page: Page, console: Console, who: str, *, then: str = "/console/") -> None:
    """Sign in through the form as the seeded member of staff ``who``."""
    page.goto(console.url(then))
    page.locator("input[name=email]").fill(console.data.emails[who])
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(console.url(then.split("?")[0]))))
    page.locator("header.top").wait_for()
