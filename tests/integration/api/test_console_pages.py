"""The console's pages outside the happy path: refused changes, cookies, headers, and the API
beside it (which keeps its bearer tokens and knows nothing of console sessions)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from httpx import Response
from litestar.testing import TestClient

from helpdesk.app import create_app
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AgentUpdate
from helpdesk.services import agents
from helpdesk.settings import load_settings
from tests.integration.api.conftest import MAX_ATTACHMENT_BYTES, Api
from tests.integration.api.test_console_permissions import console_sign_in, csrf_token


def post(api: Api, url: str, token: str, **data: str) -> Response:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def test_a_stale_version_is_refused_with_the_reason_and_the_current_values(api: Api) -> None:
    case = api.make_case(api.team_a)
    token = console_sign_in(api, "agent_a")
    form = {"version": "1", "status": "pending", "priority": "normal", "team": str(api.team_a)}
    assert post(api, f"/console/cases/{case.id}/update", token, **form).status_code == 303
    again = post(api, f"/console/cases/{case.id}/update", token, **{**form, "status": "solved"})
    assert again.status_code == 409
    assert "Người khác vừa thay đổi yêu cầu này" in again.text
    assert 'name="version" value="2"' in again.text  # the form now carries the current version


def test_a_refused_reply_keeps_what_was_typed(api: Api) -> None:
    case = api.make_case(api.team_a)
    token = console_sign_in(api, "agent_a")
    files = {"attachments": ("big.bin", b"x" * (MAX_ATTACHMENT_BYTES + 1), "application/pdf")}
    data = {"body": "Gửi chị tệp hướng dẫn", "_csrf": token}
    response = api.client.post(f"/console/cases/{case.id}/reply", data=data, files=files)
    assert response.status_code == 413
    assert "Tệp đính kèm quá lớn." in response.text
    assert "Gửi chị tệp hướng dẫn</textarea>" in response.text


def test_merging_into_an_unknown_case_says_so_on_the_case_page(api: Api) -> None:
    case = api.make_case(api.team_a)
    token = console_sign_in(api, "manager")
    response = post(api, f"/console/cases/{case.id}/merge", token, target="HD-999999")
    assert response.status_code == 404
    assert case.reference in response.text
    assert "Không tìm thấy trang hoặc yêu cầu này" in response.text
    bad = post(api, f"/console/cases/{case.id}/merge", token, target="không phải mã")
    assert bad.status_code == 422


def test_a_csrf_token_with_non_ascii_characters_is_refused_not_a_crash(api: Api) -> None:
    case = api.make_case(api.team_a)
    token = console_sign_in(api, "agent_a")
    url = f"/console/cases/{case.id}/note"
    # In the form field and in the header (which the server reads as Latin-1)
    assert post(api, url, token[:-1] + "é", body="x").status_code == 403
    assert post(api, url, "đ" * len(token), body="x").status_code == 403
    header = {b"x-csrf-token": (token[:-1] + "é").encode("latin-1")}
    by_header = api.client.post(url, data={"body": "x"}, headers=header, follow_redirects=False)
    assert by_header.status_code == 403
    # The session is unharmed: its real token still works
    assert post(api, url, token, body="Ghi chú").status_code == 303


def test_a_bad_cursor_is_an_error_page_not_a_crash(api: Api) -> None:
    console_sign_in(api, "admin")
    response = api.client.get("/console/queues/all", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]


def test_the_session_cookie_and_the_security_headers(api: Api) -> None:
    api.client.cookies.clear()
    response = api.client.get("/console/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("hd_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # the base URL is http
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_behind_https(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_BASE_URL": "https://support.example.vn",
        }
    )
    with TestClient(create_app(settings, run_worker=False)) as client:
        cookie = client.get("/console/login").headers["set-cookie"]
    assert "Secure" in cookie


def test_the_api_keeps_its_bearer_tokens_and_ignores_console_sessions(api: Api) -> None:
    case = api.make_case(api.team_a)
    console_sign_in(api, "admin")
    # a console session is no API credential
    assert api.client.get("/api/v1/cases").status_code == 401
    # and the API needs no CSRF token
    response = api.post(f"/api/v1/cases/{case.id}/messages", json={"body": "Xin chào"})
    assert response.status_code == 201


def test_a_deactivated_agent_is_signed_out_and_sign_out_ends_the_session(api: Api) -> None:
    token = console_sign_in(api, "agent_b")
    assert api.client.get("/console/", follow_redirects=False).status_code == 200
    api.run(agents.update_agent, SYSTEM, api.agent_ids["agent_b"], AgentUpdate(active=False))
    gone = api.client.get("/console/cases/1", follow_redirects=False)
    assert gone.status_code == 302
    assert gone.headers["location"] == "/console/login?next=%2Fconsole%2Fcases%2F1"

    token = console_sign_in(api, "agent_a")
    assert post(api, "/console/logout", token).status_code == 303
    assert api.client.get("/console/", follow_redirects=False).status_code == 302
    assert post(api, "/console/cases/1/note", token, body="x").status_code == 302
    # the old token does not work for the next visitor either
    visitor = csrf_token(api)
    assert visitor != token


def test_a_long_queue_pages_with_next_page_links(api: Api) -> None:
    subjects = {f"Yêu cầu số {n}" for n in range(53)}
    for subject in subjects:
        api.make_case(api.team_a, subject=subject)
    console_sign_in(api, "agent_a")
    first = api.client.get("/console/queues/team", params={"sort": "created", "priority": ""})
    assert first.status_code == 200
    assert first.text.count("<tr data-row") == 50
    link = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert link, "no next page link"
    second = api.client.get(html.unescape(link.group(1)))
    assert second.text.count("<tr data-row") == 3
    assert 'rel="next"' not in second.text
    seen = set(re.findall(r"Yêu cầu số \d+", first.text + second.text))
    assert seen == subjects


def test_times_follow_the_viewers_time_zone(api: Api) -> None:
    from helpdesk.i18n import format_when

    case = api.make_case(api.team_a)
    console_sign_in(api, "agent_a")
    api.client.cookies.set("helpdesk_tz", "Europe/Berlin")
    page = api.client.get(f"/console/cases/{case.id}")
    assert format_when(case.created_at, "vi", "Europe/Berlin") in page.text
    assert format_when(case.created_at, "vi", "Asia/Ho_Chi_Minh") not in page.text
    api.client.cookies.set("helpdesk_tz", "Not/AZone")
    fallback = api.client.get(f"/console/cases/{case.id}")
    assert format_when(case.created_at, "vi", "Asia/Ho_Chi_Minh") in fallback.text
