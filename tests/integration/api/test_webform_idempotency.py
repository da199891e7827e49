"""The web form page sends a fresh idempotency key with each rendering (SQLite and
PostgreSQL): a double submit opens one case and shows the same receipt, even when
the second copy arrives while the first is still being handled."""

from __future__ import annotations

import asyncio
import re

import httpx

from helpdesk.tables import Case
from knowledge_base.tables import KbDeflectionEvent
from tests.integration.api.conftest import Api

FORM = {
    "name": "Nguyễn Thị Lan",
    "email": "lan@example.vn",
    "subject": "Đơn hàng chưa giao",
    "message": "Đơn hàng #123 của tôi chưa được giao.",
}
KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')
FILES = {"attachments": ("hoá đơn.txt", b"so tien 100.000d", "text/plain")}


def key_of(html: str) -> str:
    found = KEY_FIELD.search(html)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def cases(api: Api) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = api.run(Case.select(Case.id, Case.subject).run)
    return rows


def test_each_rendering_of_the_form_has_a_fresh_key(api: Api) -> None:
    keys = {key_of(api.client.get("/support/request").text) for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) >= 32 for key in keys)


def test_a_double_submit_opens_one_case_and_shows_the_same_receipt(api: Api) -> None:
    # Given a rendered form, with a deflection token that had suggestions shown
    kb_token = "t" * 24
    api.run(KbDeflectionEvent.insert(KbDeflectionEvent(token=kb_token, kind="shown")).run)
    page = api.client.get("/support/request?lang=vi").text
    data = {**FORM, "idempotency_key": key_of(page), "kb_token": kb_token}
    # When it is sent twice (each copy is multipart with its own boundary)
    first = api.client.post("/support/request?lang=vi", data=data, files=FILES)
    second = api.client.post("/support/request?lang=vi", data=data, files=FILES)
    # Then both show the receipt of the one case
    assert first.status_code == second.status_code == 200
    assert "Mã yêu cầu: HD-000001" in first.text
    assert "Mã yêu cầu: HD-000001" in second.text
    assert cases(api) == [{"id": 1, "subject": FORM["subject"]}]
    # And the form counts as submitted once
    submitted = KbDeflectionEvent.count().where(KbDeflectionEvent.kind == "submitted")
    assert api.run(submitted.run) == 1


def test_copies_arriving_together_get_the_receipt_of_one_case(api: Api) -> None:
    data = {**FORM, "idempotency_key": key_of(api.client.get("/support/request").text)}

    async def double_click() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            copies = (client.post("/support/request?lang=en", data=data) for _ in "ab")
            return list(await asyncio.gather(*copies))

    answers = api.run(double_click)
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    assert all("Case number: HD-000001" in r.text for r in answers)
    assert len(cases(api)) == 1


def test_the_same_form_sent_with_other_content_is_shown_again_with_a_new_key(api: Api) -> None:
    key = key_of(api.client.get("/support/request").text)
    first = api.client.post("/support/request?lang=vi", data={**FORM, "idempotency_key": key})
    assert first.status_code == 200
    # When the form is sent again with the same key but another message (the Back button)
    changed = {**FORM, "message": "Một câu hỏi khác", "idempotency_key": key}
    refused = api.client.post("/support/request?lang=vi", data=changed)
    # Then it is shown again, with what was typed and a fresh key, and nothing is opened
    assert refused.status_code == 422
    assert "Quý khách vui lòng kiểm tra lại và gửi lại" in refused.text
    assert "Một câu hỏi khác" in refused.text
    fresh = key_of(refused.text)
    assert fresh != key
    assert len(cases(api)) == 1
    # And sent with the fresh key, it opens the new request
    again = api.client.post("/support/request?lang=vi", data={**changed, "idempotency_key": fresh})
    assert again.status_code == 200
    assert "HD-000002" in again.text


def test_a_form_without_a_key_still_works(api: Api) -> None:
    first = api.client.post("/support/request?lang=en", data=FORM)
    second = api.client.post("/support/request?lang=en", data=FORM)
    assert first.status_code == second.status_code == 200
    assert len(cases(api)) == 2
