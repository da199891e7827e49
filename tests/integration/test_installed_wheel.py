"""The app installed from its wheel, as ``pip install .`` installs it, serves every page.

The rest of the suite runs on an editable install, which reads templates,
static files and catalogues straight from the source tree and so cannot see
package data left out of the wheel (issue 12: the admin settings pages'
templates in ``console/manage/`` were missing and every one answered 500).

Here the wheel is built and installed into a fresh virtual environment; that
environment migrates a SQLite database, loads the demo data and runs
``helpdesk run``. Then every GET route of the installed app (listed by the
installed app itself) is requested, ids filled in from the demo data and from
the links of the pages, as the demo admin in the console and with the admin's
API token on the API, and so is every static file the pages link to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.integration._processes import free_port, helpdesk_env
from tests.integration._wheel import (
    Installed,
    build_wheel,
    install_wheel,
    package_files,
    venv_daemons,
)

# Printed by the installed app: its package folders and its GET routes.
LIST_ROUTES = """
import json, helpdesk, agent_console
from litestar.routes import HTTPRoute
from helpdesk.app import create_app
app = create_app(run_worker=False)
routes = [r.path for r in app.routes if isinstance(r, HTTPRoute) and "GET" in r.methods]
print(json.dumps({"files": [helpdesk.__file__, agent_console.__file__], "routes": routes}))
"""
CSRF = re.compile(r'name="_csrf" value="([0-9a-f]{64})"')
LINK = re.compile(r'(?:href|src|action|hx-get)="([^"#]+)"')
PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
# Routes no crawl can reach with a 200: they need a secret from a mail, a signed-in
# customer, or a stored file. Each must still answer without a server error.
NEED_A_SECRET = {
    "/support/login/{token:str}",
    "/support/survey/{token:str}",
    "/chat/verify/{token:str}",
    "/support/requests/{case_id:int}",
    "/support/attachments/{attachment_id:int}",
    "/console/attachments/{attachment_id:int}",
    "/api/v1/attachments/{attachment_id:int}",
    "/schema/{path:str}",
}
# Pages that send the admin (signed in) or the anonymous customer elsewhere.
REDIRECT = {"/console/login", "/support/requests"}
MAX_REQUESTS = 1000  # the demo has articles, macros, rules and chats to follow too


@dataclass
class Site:
    """The installed app, running, with the demo data loaded."""

    base_url: str
    routes: list[str]
    admin_email: str
    admin_password: str
    token: str


@dataclass
class Crawl:
    """What was requested, and how each request was answered."""

    status: dict[str, int] = field(default_factory=dict)
    by_route: dict[str, set[int]] = field(default_factory=dict)
    static: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the working tree."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Installed:
    """The wheel installed into a fresh virtual environment."""
    return install_wheel(wheel, wheel.parents[1] / "venv")


@pytest.fixture(scope="module")
def site(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``helpdesk migrate``, ``demo`` and ``run`` of the installed app on a fresh SQLite file."""
    root = tmp_path_factory.mktemp("installed-site")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = helpdesk_env(f"sqlite:///{root / 'helpdesk.db'}", root / "data")
    env = {k: v for k, v in env.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env["HELPDESK_BASE_URL"] = base_url

    listed = json.loads(installed.run(["-c", LIST_ROUTES], env).splitlines()[-1])
    for module_file in listed["files"]:
        assert Path(module_file).is_relative_to(installed.root), module_file

    installed.run(["-m", "helpdesk.cli", "migrate"], env)
    demo = installed.run(["-m", "helpdesk.cli", "demo", "--cases", "20"], env)
    admin = re.search(r"^\s+admin\s+(\S+@\S+)\s+(\S+)", demo, re.MULTILINE)
    token = re.search(r"API token of .*:\n\s+(\S+)", demo)
    assert admin, demo
    assert token, demo

    daemons = venv_daemons(root, installed)
    server = daemons.start("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env)
    try:
        daemons.wait_healthy(server, base_url)
        yield Site(base_url, listed["routes"], admin.group(1), admin.group(2), token.group(1))
    finally:
        daemons.assert_all_stopped_cleanly()


def route_pattern(route: str) -> re.Pattern[str]:
    """A regular expression matching the paths of ``route`` (``/x/{id:int}``)."""
    kinds = {"int": r"\d+", "str": r"[^/]+", "path": r".+"}
    parts = PARAMETER.split(route)
    regex = "".join(
        re.escape(part) if index % 3 == 0 else kinds[part] if index % 3 == 2 else ""
        for index, part in enumerate(parts)
    )
    return re.compile(f"{regex}/?")


def first_urls(routes: list[str]) -> list[str]:
    """Each route without parameters, and each with integer ids only as id 1."""
    return [
        PARAMETER.sub("1", route)
        for route in routes
        if all(kind == "int" for _, kind in PARAMETER.findall(route))
    ]


def crawl(site: Site) -> Crawl:
    """Request every route (console signed in as admin, API with the token), following
    the same-site links of each HTML page that lead to a GET route, and every static file."""
    result = Crawl()
    patterns = {route: route_pattern(route) for route in site.routes}
    browser = httpx.Client(base_url=site.base_url, timeout=30)
    api = httpx.Client(
        base_url=site.base_url, timeout=30, headers={"Authorization": f"Bearer {site.token}"}
    )
    with browser, api:
        login = browser.get("/console/login")
        match = CSRF.search(login.text)
        assert match, login.text[:500]
        form = {"email": site.admin_email, "password": site.admin_password, "_csrf": match[1]}
        signed_in = browser.post("/console/login", data=form)
        assert signed_in.status_code == 303, signed_in.text[:500]

        queue = first_urls(site.routes)
        while queue and len(result.status) < MAX_REQUESTS:
            url = queue.pop(0)
            if url in result.status:
                continue
            client = api if url.startswith(("/api/", "/schema")) else browser
            response = client.get(url)
            result.status[url] = response.status_code
            path = urlsplit(url).path
            for route, pattern in patterns.items():
                if pattern.fullmatch(path):
                    result.by_route.setdefault(route, set()).add(response.status_code)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            for link in LINK.findall(response.text):
                target = urlsplit(urljoin(url, link.replace("&amp;", "&")))
                if target.netloc and target.netloc != urlsplit(site.base_url).netloc:
                    continue
                if target.path.startswith("/static/"):
                    result.static.add(target.path)
                elif any(p.fullmatch(target.path) for p in patterns.values()):
                    queue.append(target.path)  # the query (filters, paging) is left out
        for path in sorted(result.static):
            result.status[path] = browser.get(path).status_code
    return result


def test_the_wheel_ships_every_template_static_file_and_catalogue(wheel: Path) -> None:
    in_source, in_wheel = package_files(wheel)
    assert {p for p in in_source if "/manage/" in p}, "the admin templates moved: update the test"
    assert in_source - in_wheel == set()


def test_every_page_of_the_installed_app_answers(site: Site) -> None:
    result = crawl(site)
    assert len(result.status) < MAX_REQUESTS, "the crawl never ended"
    failures = {url: code for url, code in result.status.items() if code >= 500}
    assert failures == {}
    missing_static = {url for url in result.static if result.status[url] != 200}
    assert missing_static == set()
    assert {"/static/console/console.css", "/static/portal/portal.css"} <= result.static

    routes = {r for r in site.routes if not r.startswith("/static/")} - NEED_A_SECRET
    assert sorted(routes - result.by_route.keys()) == []
    pages = {r for r in routes if r.startswith(("/console", "/support")) and "{" not in r}
    not_shown = {r: result.by_route[r] for r in pages - REDIRECT if 200 not in result.by_route[r]}
    assert not_shown == {}
    # the settings pages, lists and the rows the demo has
    admin_pages = {r for r, codes in result.by_route.items() if "/admin/" in r and 200 in codes}
    assert len(admin_pages) >= 10, admin_pages
