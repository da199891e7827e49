"""Threat: an anonymous visitor choosing the address it is counted under.

``X-Forwarded-For`` is believed only from the proxies named in
``HELPDESK_TRUSTED_PROXIES`` (none by default), so a client cannot escape the
per-address rate limits or write another address into the records; behind a
configured proxy, the client's real address is used. Checked against a real
``helpdesk run`` (uvicorn), since the forwarding rules are the server's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.integration._processes import Daemons, free_port, helpdesk_env

FORGED = "203.0.113.9"
FORM = {
    "name": "Nguyễn Thị Lan",
    "email": "lan@example.vn",
    "subject": "Đơn hàng chưa giao",
    "message": "Đơn hàng #123 của tôi chưa được giao.",
}


@pytest.fixture
def daemons(tmp_path: Path) -> Any:
    started = Daemons(tmp_path)
    yield started
    started.assert_all_stopped_cleanly()


def recorded_address(tmp_path: Path, trusted: str | None, daemons: Daemons) -> str:
    """The client address stored for a web form sent with a forged X-Forwarded-For."""
    database = tmp_path / "desk.db"
    env = helpdesk_env(f"sqlite:///{database}", tmp_path / "data")
    if trusted is not None:
        env["HELPDESK_TRUSTED_PROXIES"] = trusted
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = daemons.start("run", ["run", "--port", str(port)], env)
    daemons.wait_healthy(server, base)
    sent = httpx.post(
        f"{base}/api/v1/public/webform", json=FORM, headers={"X-Forwarded-For": FORGED}
    )
    assert sent.status_code == 201, sent.text
    assert daemons.stop(server)[0] == 0, server.tail()
    with sqlite3.connect(database) as db:
        (meta,) = db.execute("SELECT meta FROM messages ORDER BY id LIMIT 1").fetchone()
    address: str = msgspec.json.decode(meta)["client_ip"]
    return address


def test_a_forged_forwarded_for_is_ignored_by_default(tmp_path: Path, daemons: Daemons) -> None:
    assert recorded_address(tmp_path, None, daemons) == "127.0.0.1"


def test_a_trusted_proxy_gives_the_clients_address(tmp_path: Path, daemons: Daemons) -> None:
    assert recorded_address(tmp_path, "127.0.0.1", daemons) == FORGED


def test_an_untrusted_proxy_is_not_believed(tmp_path: Path, daemons: Daemons) -> None:
    assert recorded_address(tmp_path, "10.0.0.0/8", daemons) == "127.0.0.1"
