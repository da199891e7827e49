"""Secrets at rest (SQLite and PostgreSQL).

* Sign-in and survey links are in no table, before or after their mail is
  sent (every row of every table is scanned), and the links of the mails the
  SMTP server received work.
* A survey link expires (410, a friendly page in both languages).
* Mailbox passwords are sealed at rest, old clear-text ones sealed on first
  read, and SMTP logs in with the unsealed one; the API never returns them.
* API tokens are listed (never the token) and revoked one by one.
* A password changes with the current one, or by an admin.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from helpdesk.channels.email import outbound
from helpdesk.channels.email.mailboxes import mailbox_password
from helpdesk.channels.email.survey_mail import queue_survey_mail
from helpdesk.channels.email.tables import Mailbox, OutboundMail
from helpdesk.clock import utcnow
from helpdesk.domain import Status
from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseUpdate
from helpdesk.services import agents, api_tokens, cases, surveys
from helpdesk.tables import all_tables
from tests.integration.api._portal_setup import (
    case_of,
    csrf,
    mails,
    new_customer,
    request_link,
)
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import PASSWORD, console_sign_in
from tests.mailservers import SmtpSink

LOGIN_LINK = re.compile(r"/support/login/([A-Za-z0-9_-]{20,})")
SURVEY_LINK = re.compile(r"/support/survey/([0-9]+\.[0-9]+\.[0-9a-f]{32})")
SMTP_USER, SMTP_PASSWORD = "hotro@congty.vn", "mat-khau-smtp-bi-mat-42"


async def _every_row() -> str:
    """Every row of every table, as one text to search."""
    parts = []
    for table in all_tables():
        parts.append(repr(await table.select()))
    return "\n".join(parts)


def _assert_nowhere(api: Api, *secrets: str) -> None:
    stored = api.run(_every_row)
    for secret in secrets:
        assert secret not in stored, f"{secret[:12]}… is stored"


def _sending_mailbox(api: Api, sink: SmtpSink) -> int:
    body = {
        "name": "Hỗ trợ", "address": "hotro@congty.vn", "imap_host": "imap.congty.vn",
        "imap_user": "hotro", "imap_password": "mật-khẩu-imap-bí-mật",
        "smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "plain",
        "smtp_user": SMTP_USER, "smtp_password": SMTP_PASSWORD,
    }  # fmt: skip
    created = api.post("/api/v1/mailboxes", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _solve(api: Api, case_id: int) -> None:
    case = api.run(cases.get_case, SYSTEM, case_id)
    api.run(
        cases.update_case, SYSTEM, case_id, CaseUpdate(version=case.version, status=Status.SOLVED)
    )


async def _last_error(outbound_id: int) -> str:
    row = await OutboundMail.select(OutboundMail.last_error).where(OutboundMail.id == outbound_id)
    return str(row[0]["last_error"])


def _send(api: Api, mail: dict[str, Any]) -> None:
    sent = api.run(outbound.send_outbound, int(mail["id"]))
    assert sent is True, api.run(_last_error, int(mail["id"]))


def test_sign_in_and_survey_links_are_never_stored(api: Api) -> None:
    sink = SmtpSink(credentials=(SMTP_USER, SMTP_PASSWORD))
    sink.start()
    try:
        # Given a mailbox that sends through a real SMTP server (with AUTH)
        _sending_mailbox(api, sink)
        customer = new_customer(api, locale="en")
        case = case_of(api, customer)

        # When a sign-in link is asked for and a survey is queued
        assert request_link(api, customer.emails[0]).status_code == 200
        _solve(api, case.id)
        assert api.run(queue_survey_mail, case.id) is not None
        (login_mail,) = mails(api, "portal_login")
        (survey_mail,) = mails(api, "survey")

        # Then the rows hold placeholders, no link
        assert "{{token:login:" in login_mail["body_text"]
        assert "{{token:survey:" in survey_mail["body_text"]
        assert not LOGIN_LINK.search(login_mail["body_text"])
        assert not SURVEY_LINK.search(survey_mail["body_text"])

        # When both are sent
        _send(api, login_mail)
        _send(api, survey_mail)
        received = sink.wait_for(2)
        texts = [m.parsed().get_body(("plain",)).get_content() for m in received]  # type: ignore[union-attr]
        login = next(f for t in texts if (f := LOGIN_LINK.search(t)))
        survey = next(f for t in texts if (f := SURVEY_LINK.search(t)))
        login_token, survey_token = login.group(1), survey.group(1)

        # Then no table holds either token (nor the survey's HMAC), queued or sent
        _assert_nowhere(api, login_token, survey_token, survey_token.rsplit(".", 1)[1])
        assert hashlib.sha256(login_token.encode()).hexdigest() in api.run(_every_row)

        # And the delivered links work: the survey takes a rating ...
        api.client.cookies.clear()
        path = f"/support/survey/{survey_token}"
        page = api.client.get(path + "?lang=en")
        assert page.status_code == 200
        assert 'name="rating"' in page.text
        answered = api.client.post(path, data={"rating": "5", "_csrf": csrf(api, path)})
        assert answered.status_code == 200
        # ... and the sign-in link signs the customer in, once
        path = f"/support/login/{login_token}"
        used = api.client.post(path, data={"_csrf": csrf(api, path)}, follow_redirects=False)
        assert used.status_code == 303
        assert api.client.get("/support/requests").status_code == 200
        _assert_nowhere(api, login_token, survey_token)
    finally:
        sink.stop()


def test_a_survey_link_expires_with_a_friendly_page_in_both_languages(api: Api) -> None:
    customer = new_customer(api)
    case = case_of(api, customer)
    secret = api.app.state.settings.secret_key
    old = surveys.solve_key(utcnow() - timedelta(days=surveys.LINK_DAYS, minutes=1))
    recent = surveys.solve_key(utcnow() - timedelta(days=surveys.LINK_DAYS - 1))
    expired = f"/support/survey/{surveys.survey_token(secret, case.id, old)}"

    vi = api.client.get(expired + "?lang=vi")
    assert vi.status_code == 410
    assert "hết hạn" in vi.text
    assert "Quý khách" in vi.text
    en = api.client.get(expired + "?lang=en")
    assert en.status_code == 410
    assert "This survey link has expired" in en.text
    answer = api.client.post(expired, data={"rating": "5", "_csrf": csrf(api)})
    assert answer.status_code == 410

    # A link within its days is no expired one (that solve is not current: closed)
    fresh = api.client.get(f"/support/survey/{surveys.survey_token(secret, case.id, recent)}")
    assert fresh.status_code == 200
    # A forged one is still not found
    forged = expired[:-1] + ("0" if expired[-1] != "0" else "1")
    assert api.client.get(forged).status_code == 404


async def _mailbox_row(mailbox_id: int) -> dict[str, Any]:
    row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
    assert row is not None
    return row


async def _legacy_mailbox() -> int:
    rows = await Mailbox.insert(
        Mailbox(
            name="Cũ", address="cu@congty.vn", imap_host="imap.congty.vn", imap_user="cu",
            imap_password="mat-khau-cu-ro-rang", smtp_password="smtp-cu-ro-rang",
        )
    )  # fmt: skip
    return int(rows[0]["id"])


def test_mailbox_passwords_are_sealed_and_never_returned(api: Api) -> None:
    sink = SmtpSink(credentials=(SMTP_USER, SMTP_PASSWORD))
    sink.start()
    try:
        mailbox_id = _sending_mailbox(api, sink)
        row = api.run(_mailbox_row, mailbox_id)
        for field, clear in (
            ("imap_password", "mật-khẩu-imap-bí-mật"),
            ("smtp_password", SMTP_PASSWORD),
        ):
            assert row[field].startswith("sealed:v1:")
            assert clear not in row[field]
            assert api.run(mailbox_password, row, field) == clear
        _assert_nowhere(api, SMTP_PASSWORD, "mật-khẩu-imap-bí-mật")
        for response in (api.get("/api/v1/mailboxes"), api.get(f"/api/v1/mailboxes/{mailbox_id}")):
            assert response.status_code == 200
            assert SMTP_PASSWORD not in response.text
            assert "sealed:v1:" not in response.text

        # An SMTP login with the unsealed password: a survey goes out through AUTH
        customer = new_customer(api)
        case = case_of(api, customer)
        _solve(api, case.id)
        assert api.run(queue_survey_mail, case.id) is not None
        _send(api, mails(api, "survey")[0])
        assert len(sink.wait_for(1)) == 1
    finally:
        sink.stop()

    # A clear-text password of an earlier release is sealed when first read
    legacy = api.run(_legacy_mailbox)
    assert api.run(_mailbox_row, legacy)["imap_password"] == "mat-khau-cu-ro-rang"
    listed = api.get("/api/v1/mailboxes")
    assert listed.status_code == 200
    assert "mat-khau-cu-ro-rang" not in listed.text
    row = api.run(_mailbox_row, legacy)
    assert row["imap_password"].startswith("sealed:v1:")
    assert row["smtp_password"].startswith("sealed:v1:")
    assert api.run(mailbox_password, row, "imap_password") == "mat-khau-cu-ro-rang"
    _assert_nowhere(api, "mat-khau-cu-ro-rang", "smtp-cu-ro-rang")


def test_api_tokens_are_listed_and_revoked_one_by_one(api: Api) -> None:
    me = api.agent_ids["agent_a"]
    spare = api.post(f"/api/v1/agents/{me}/tokens", role="agent_a", json={"name": "laptop"})
    assert spare.status_code == 201
    spare_token, spare_id = spare.json()["token"], spare.json()["id"]
    _assert_nowhere(api, spare_token)

    listed = api.get(f"/api/v1/agents/{me}/tokens", role="agent_a")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == ["laptop", "tests"]
    assert all(set(t) == {"id", "agent_id", "name", "created_at", "revoked", "revoked_at"}
               for t in listed.json())  # fmt: skip
    assert spare_token not in listed.text
    assert api.get(f"/api/v1/agents/{me}/tokens", role="agent_b").status_code == 403
    assert api.get(f"/api/v1/agents/{me}/tokens", role="admin").status_code == 200

    # The spare token works until it is revoked; the other one keeps working
    bearer = {"Authorization": f"Bearer {spare_token}"}
    assert api.client.get("/api/v1/agents/me", headers=bearer).status_code == 200
    other = api.get(f"/api/v1/agents/{api.agent_ids['agent_b']}/tokens", role="agent_b").json()
    wrong_agent = api.request("agent_b", "DELETE", f"/api/v1/agents/{me}/tokens/{other[0]['id']}")
    assert wrong_agent.status_code == 403
    mismatched = api.request("agent_a", "DELETE", f"/api/v1/agents/{me}/tokens/{other[0]['id']}")
    assert mismatched.status_code == 404
    assert mismatched.json()["code"] == "not_found"
    revoked = api.request("agent_a", "DELETE", f"/api/v1/agents/{me}/tokens/{spare_id}")
    assert revoked.status_code == 204
    refused = api.client.get("/api/v1/agents/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    assert api.get("/api/v1/agents/me", role="agent_a").status_code == 200
    again = api.request("admin", "DELETE", f"/api/v1/agents/{me}/tokens/{spare_id}")
    assert again.status_code == 204
    remaining = api.get(f"/api/v1/agents/{me}/tokens", role="agent_a").json()
    assert [t["name"] for t in remaining] == ["tests"]
    everything = api.get(f"/api/v1/agents/{me}/tokens?include_revoked=true", role="agent_a")
    laptop = next(t for t in everything.json() if t["name"] == "laptop")
    assert laptop["revoked"] is True
    assert laptop["revoked_at"] is not None


def test_a_password_changes_with_the_current_one_or_by_an_admin(api: Api) -> None:
    me = api.agent_ids["agent_a"]
    url = f"/api/v1/agents/{me}/password"

    # A token alone never sets its own agent's password
    first = api.put(url, role="agent_a", json={"new_password": "mat-khau-moi-1"})
    assert (first.status_code, first.json()["code"]) == (403, "current_password_required")
    patched = api.patch(f"/api/v1/agents/{me}", role="agent_a", json={"password": "x" * 12})
    assert (patched.status_code, patched.json()["code"]) == (403, "current_password_required")
    other = api.put(url, role="agent_b", json={"new_password": "mat-khau-moi-1"})
    assert (other.status_code, other.json()["code"]) == (403, "permission_denied")

    # An admin sets it without the current one (PUT, or PATCH as before)
    assert api.put(url, role="admin", json={"new_password": "mat-khau-dau-tien"}).status_code == 204
    admin_self = api.put(
        f"/api/v1/agents/{api.agent_ids['admin']}/password",
        role="admin",
        json={"new_password": "mat-khau-admin-1"},
    )
    assert (admin_self.status_code, admin_self.json()["code"]) == (
        403,
        "current_password_required",
    )

    # The agent changes it with the current one
    wrong_body = {"new_password": "mat-khau-moi-2", "current_password": "doan-bua"}
    wrong = api.put(url, role="agent_a", json=wrong_body)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "current_password_wrong")
    short = api.put(url, role="agent_a", json={"new_password": "ngan", "current_password": "x"})
    assert short.status_code == 400 or short.status_code == 422
    right = api.put(
        url,
        role="agent_a",
        json={"new_password": "mat-khau-moi-2", "current_password": "mat-khau-dau-tien"},
    )
    assert right.status_code == 204
    principal = api.run(agents.authenticate_password, "agent_a@support.test", "mat-khau-moi-2")
    assert principal.id == me
    _assert_nowhere(api, "mat-khau-moi-2", "mat-khau-dau-tien")


def test_the_console_profile_lists_tokens_revokes_them_and_changes_the_password(
    api: Api,
) -> None:
    me = api.agent_ids["agent_a"]
    api.run(api_tokens.create_token, SYSTEM, me, "máy tính bảng")
    token = console_sign_in(api, "agent_a")  # sets PASSWORD
    page = api.client.get("/console/profile?lang=en")
    assert page.status_code == 200
    assert "Agent_A" in page.text
    assert "máy tính bảng" in page.text
    assert "Change password" in page.text
    assert "Đổi mật khẩu" in api.client.get("/console/profile?lang=vi").text

    # Revoke the tablet's token from the page
    tablet = next(
        t for t in api.run(api_tokens.list_tokens, SYSTEM, me) if t.name == "máy tính bảng"
    )
    revoked = api.client.post(
        f"/console/profile/tokens/{tablet.id}/revoke", data={"_csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    assert revoked.status_code == 303
    assert "máy tính bảng" not in api.client.get("/console/profile").text

    # A wrong current password is refused on the page; the right one changes it
    form = {"_csrf": token, "current_password": "sai-roi-nhe", "new_password": "mat-khau-moi-9",
            "confirm_password": "mat-khau-moi-9"}  # fmt: skip
    refused = api.client.post("/console/profile/password?lang=en", data=form)
    assert refused.status_code == 403
    assert "The current password is not right." in refused.text
    mismatch = {**form, "current_password": PASSWORD, "confirm_password": "khac-hoan-toan"}
    assert api.client.post("/console/profile/password", data=mismatch).status_code == 422
    changed = api.client.post(
        "/console/profile/password", data={**form, "current_password": PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert changed.status_code == 303
    principal = api.run(agents.authenticate_password, "agent_a@support.test", "mat-khau-moi-9")
    assert principal.id == me
