"""Threat: a file that comes back other than it went in (a form parser that
changes line ends, drops bytes or decodes text; a name that loses its letters).

Every route that takes files stores them byte-exact: the public web form (the
page and the JSON endpoint), the portal's reply, and the console's reply and
note. Each test uploads files with all 256 byte values, a PNG header (whose
CR/LF and EOF bytes text handling would change), CR/LF line ends and a
non-ASCII name, then downloads them again through every download route that
may see them (the API, the console and, for what the customer sees, the
portal) and compares the bytes with ``==``. The chat takes no files.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests.integration.api._portal_setup import case_of, new_customer, sign_in
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')

ALL_BYTES = bytes(range(256)) * 3
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(255, -1, -1))
CRLF_TEXT = "dòng 1\r\ndòng 2\r\n\r\n--boundary\r\nContent-Type: text/html\r\n\r\n".encode()
FILES = {
    "tất cả byte.bin": (ALL_BYTES, "application/octet-stream"),
    "ảnh chụp màn hình.png": (PNG, "image/png"),
    "nhật ký\u00a0CRLF.txt": (CRLF_TEXT, "text/plain"),
}


def _multipart() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("attachments", (name, content, kind)) for name, (content, kind) in FILES.items()]


def _filename(response: Any) -> str:
    found = re.search(r"filename\*=UTF-8''(\S+)", response.headers["content-disposition"])
    assert found, response.headers["content-disposition"]
    return unquote(found.group(1))


def _attachments(api: Api, case_id: int) -> dict[str, int]:
    """The case's attachments, as seen by the API: {file name: id}."""
    listed = api.get(f"/api/v1/cases/{case_id}/messages", role="admin")
    assert listed.status_code == 200, listed.text
    return {a["filename"]: a["id"] for m in listed.json() for a in m["attachments"]}


def _downloads_match(api: Api, case_id: int, routes: tuple[str, ...]) -> None:
    """Every file of FILES is on the case, and each route gives its exact bytes."""
    stored = _attachments(api, case_id)
    assert set(FILES) <= set(stored), stored
    for name, (content, _) in FILES.items():
        for route in routes:
            url = f"{route}/{stored[name]}"
            response = (
                api.get(url, role="admin") if route.startswith("/api") else api.client.get(url)
            )
            assert response.status_code == 200, (url, response.text[:200])
            assert response.content == content, (url, name)
            assert _filename(response) == name


def _case_of_reference(api: Api, reference: str) -> int:
    found = api.get("/api/v1/cases", role="admin", params={"text": reference})
    assert found.status_code == 200, found.text
    [case] = [c for c in found.json()["items"] if c["reference"] == reference]
    return int(case["id"])


def test_the_web_form_page_stores_files_byte_exact(api: Api) -> None:
    page = api.client.get("/support/request")
    key = KEY.search(page.text)
    form = {
        "name": "Nguyễn Thị Lan", "email": "lan@example.vn", "subject": "Ảnh lỗi",
        "message": "Tệp đính kèm.", "idempotency_key": key.group(1) if key else "",
    }  # fmt: skip
    response = api.client.post("/support/request", data=form, files=_multipart())
    assert response.status_code == 200, response.text[:500]
    reference = re.search(r"HD-\d+", response.text)
    assert reference, response.text[:500]
    case_id = _case_of_reference(api, reference.group(0))
    _downloads_match(api, case_id, ("/api/v1/attachments",))
    console_sign_in(api, "admin")
    _downloads_match(api, case_id, ("/console/attachments",))


def test_the_web_form_json_endpoint_stores_files_byte_exact(api: Api) -> None:
    attachments = [
        {"filename": name, "content": base64.b64encode(content).decode(), "content_type": kind}
        for name, (content, kind) in FILES.items()
    ]
    body = {"name": "Lan", "email": "lan@example.vn", "subject": "Ảnh lỗi",
            "message": "Tệp đính kèm.", "attachments": attachments}  # fmt: skip
    response = api.post("/api/v1/public/webform", role="anonymous", json=body)
    assert response.status_code == 201, response.text
    _downloads_match(api, response.json()["case_id"], ("/api/v1/attachments",))


def test_the_portal_reply_stores_files_byte_exact(api: Api) -> None:
    customer = new_customer(api)
    case = case_of(api, customer)
    sign_in(api, customer)
    page = api.client.get(f"/support/requests/{case.id}")
    token = CSRF.search(page.text)
    assert token, page.text[:500]
    response = api.client.post(
        f"/support/requests/{case.id}/reply",
        data={"body": "Gửi thêm tệp", "_csrf": token.group(1)},
        files=_multipart(),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    _downloads_match(api, case.id, ("/api/v1/attachments", "/support/attachments"))


@pytest.mark.parametrize("action", ["reply", "note"])
def test_the_console_reply_and_note_store_files_byte_exact(api: Api, action: str) -> None:
    case = api.make_case(api.team_a)
    csrf = console_sign_in(api, "agent_a")
    response = api.client.post(
        f"/console/cases/{case.id}/{action}",
        data={"body": "Tệp cho chị", "_csrf": csrf},
        files=_multipart(),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    _downloads_match(api, case.id, ("/api/v1/attachments", "/console/attachments"))
