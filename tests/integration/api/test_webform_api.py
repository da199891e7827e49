"""The web form channel: the public page in both languages and the JSON endpoint."""

from __future__ import annotations

from helpdesk.channels.email.tables import OutboundMail
from helpdesk.channels.webform import PER_ADDRESS_PER_HOUR
from helpdesk.policy import SYSTEM
from helpdesk.services import cases, messages
from helpdesk.tables import Case, CustomerEmail

FORM = {
    "name": "Nguyễn Thị Lan",
    "email": "Lan@Example.VN",
    "subject": "Đơn hàng chưa giao",
    "message": "Đơn hàng #123 của tôi chưa được giao.",
}


def test_page_follows_accept_language_and_explicit_choice(api):
    vi = api.client.get("/support/request", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    en = api.client.get("/support/request", headers={"Accept-Language": "en-US,en;q=0.9"})
    chosen = api.client.get("/support/request?lang=en", headers={"Accept-Language": "vi"})
    assert vi.status_code == en.status_code == chosen.status_code == 200
    assert "Gửi yêu cầu hỗ trợ" in vi.text
    assert 'lang="vi"' in vi.text
    assert "Send us a request" in en.text
    assert 'lang="en"' in en.text
    assert "Send us a request" in chosen.text
    assert chosen.cookies.get("helpdesk_lang") == "en"


def test_form_opens_a_case_on_the_customer_record_with_attachment(api):
    response = api.client.post(
        "/support/request?lang=vi",
        data=FORM,
        files={"attachments": ("hoá đơn.txt", b"C:\\new\\table \xc4\x91", "text/plain")},
    )
    assert response.status_code == 200
    assert "Mã yêu cầu: HD-000001" in response.text
    case = api.run(cases.get_case, SYSTEM, 1)
    assert case.channel == "web"
    assert case.subject == FORM["subject"]
    conversation = api.run(messages.list_messages, SYSTEM, 1)
    assert conversation[0].body_text == FORM["message"]
    assert [a.filename for a in conversation[0].attachments] == ["hoá đơn.txt"]
    emails = api.run(CustomerEmail.select(CustomerEmail.address, CustomerEmail.customer).run)
    assert emails == [{"address": "lan@example.vn", "customer": case.customer_id}]


def test_second_request_joins_the_same_customer(api):
    first = api.client.post("/api/v1/public/webform", json=FORM)
    second = api.client.post("/api/v1/public/webform", json={**FORM, "email": "lan@example.vn"})
    assert first.status_code == second.status_code == 201
    rows = api.run(Case.select(Case.customer).run)
    assert len(rows) == 2
    assert rows[0]["customer"] == rows[1]["customer"]


def test_honeypot_refuses_and_writes_nothing(api):
    response = api.client.post("/api/v1/public/webform", json={**FORM, "website": "http://spam"})
    assert response.status_code == 422
    assert response.json()["code"] == "spam_suspected"
    assert api.run(Case.count().run) == 0


def test_invalid_form_is_shown_again_with_what_was_typed(api):
    response = api.client.post("/support/request?lang=vi", data={**FORM, "email": "not-an-address"})
    assert response.status_code == 422
    assert "Vui lòng điền đầy đủ" in response.text
    assert FORM["message"] in response.text
    assert api.run(Case.count().run) == 0


def test_rate_limit_per_address(api):
    statuses = [
        api.client.post("/api/v1/public/webform", json={**FORM, "subject": f"Lần {n}"}).status_code
        for n in range(PER_ADDRESS_PER_HOUR + 2)
    ]
    assert statuses[:PER_ADDRESS_PER_HOUR] == [201] * PER_ADDRESS_PER_HOUR
    assert statuses[PER_ADDRESS_PER_HOUR:] == [429, 429]
    assert api.run(Case.count().run) == PER_ADDRESS_PER_HOUR


def test_confirmation_mail_is_queued_when_a_mailbox_exists(api):
    created = api.post(
        "/api/v1/mailboxes",
        json={
            "name": "Hỗ trợ",
            "address": "hotro@shop.vn",
            "imap_host": "127.0.0.1",
            "imap_user": "hotro",
            "imap_password": "secret",
            "smtp_host": "127.0.0.1",
        },
    )
    assert created.status_code == 201, created.text
    assert "secret" not in created.text
    assert created.json()["has_imap_password"] is True
    assert api.client.post("/api/v1/public/webform", json=FORM).status_code == 201
    rows = api.run(OutboundMail.select(OutboundMail.kind, OutboundMail.to_address).run)
    assert rows == [{"kind": "acknowledgement", "to_address": "lan@example.vn"}]
