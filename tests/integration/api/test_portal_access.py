"""The portal's sign-in by magic link, its notes-free conversation, and the
table-driven proof that a customer never reaches another customer's request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from helpdesk.clock import utcnow
from helpdesk.errors import NotFoundError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import messages
from helpdesk.services.customers import principal_for_customer
from helpdesk.tables import PortalLoginToken
from tests.integration.api._portal_setup import (
    LINK,
    case_of,
    csrf,
    delivered_text,
    mails,
    new_customer,
    new_organization,
    request_link,
    sending_mailbox,
    sign_in,
)
from tests.integration.api.conftest import Api


def test_portal_magic_link_signs_in_once_and_never_reveals_an_address(api: Api) -> None:
    # Given a customer with a case, and a mailbox to send from
    sending_mailbox(api)
    customer = new_customer(api)
    case = case_of(api, customer)

    # When someone asks for a link for an unknown address, and for the customer's
    unknown = request_link(api, "nobody@portal.test")
    known = request_link(api, customer.emails[0])

    # Then both pages say the same, and only the customer gets a mail
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace("nobody@portal.test", customer.emails[0]) == known.text
    sent = mails(api, "portal_login")
    assert [m["to_address"] for m in sent] == [customer.emails[0]]
    assert "15 phút" in sent[0]["body_text"]
    assert "/support/login/{{token:login:" in sent[0]["body_text"]  # no token in the row
    found = LINK.search(delivered_text(api, sent[0]))
    assert found
    token = found.group(1)
    assert api.run(_stored_hashes) == [_sha256(token)]  # only the hash is stored

    # When the customer follows the link (one click, then signed in)
    path = f"/support/login/{token}"
    used = api.client.post(path, data={"_csrf": csrf(api, path)}, follow_redirects=False)
    assert used.status_code == 303
    page = api.client.get("/support/requests")
    assert page.status_code == 200
    assert case.reference in page.text

    # Then the link is used up
    again = api.client.post(path, data={"_csrf": csrf(api, path)}, follow_redirects=False)
    assert again.status_code == 401
    assert api.client.get(path).status_code == 400

    # And signing out ends the session
    api.client.post("/support/logout", data={"_csrf": csrf(api, "/support/requests")})
    out = api.client.get("/support/requests", follow_redirects=False)
    assert out.status_code == 302
    assert out.headers["location"] == "/support/login"


async def _stored_hashes() -> list[str]:
    return [r["token_hash"] for r in await PortalLoginToken.select(PortalLoginToken.token_hash)]


async def _expire_all() -> None:
    await PortalLoginToken.update(
        {PortalLoginToken.expires_at: utcnow() - timedelta(seconds=1)}, force=True
    )


def _sha256(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def test_portal_magic_link_expires(api: Api) -> None:
    sending_mailbox(api)
    customer = new_customer(api)
    request_link(api, customer.emails[0])
    found = LINK.search(delivered_text(api, mails(api, "portal_login")[0]))
    assert found
    api.run(_expire_all)
    path = f"/support/login/{found.group(1)}"
    assert api.client.get(path).status_code == 400
    used = api.client.post(path, data={"_csrf": csrf(api, "/support/login")})
    assert used.status_code == 401


def test_portal_magic_link_requests_are_rate_limited(api: Api) -> None:
    sending_mailbox(api)
    customer = new_customer(api)
    # per address: the sixth request in the window is dropped silently
    for _ in range(6):
        assert request_link(api, customer.emails[0]).status_code == 200
    assert len(mails(api, "portal_login")) == 5
    # per client address: refused once over the limit
    statuses = [request_link(api, f"x{n}@portal.test").status_code for n in range(30)]
    assert statuses[-1] == 429
    assert "quá nhiều" in request_link(api, "y@portal.test").text


def test_portal_csrf_is_required(api: Api) -> None:
    response = api.client.post("/support/login", data={"email": "a@portal.test"})
    assert response.status_code == 403


def test_a_portal_csrf_token_with_non_ascii_characters_is_refused_not_a_crash(api: Api) -> None:
    token = csrf(api)
    for bad in (token[:-1] + "é", "ư" * len(token)):
        response = api.client.post("/support/login", data={"email": "a@portal.test", "_csrf": bad})
        assert response.status_code == 403, bad
    # The session is unharmed: its real token still works
    right = api.client.post("/support/login", data={"email": "a@portal.test", "_csrf": token})
    assert right.status_code == 200


def test_portal_shows_replies_but_never_internal_notes(api: Api) -> None:
    # Given a case with a reply and an internal note, each with a file
    customer = new_customer(api)
    case = case_of(api, customer)
    agent = api.run(_agent_principal, api.agent_ids["agent_a"])
    files = [AttachmentIn(filename="ghi-chu.txt", content=b"noi bo")]
    note = api.run(
        messages.add_note, agent, case.id, MessageIn(body="Ghi chú bí mật", attachments=files)
    )
    files = [AttachmentIn(filename="huong-dan.txt", content=b"huong dan")]
    reply = api.run(
        messages.reply, agent, case.id, MessageIn(body="Anh thử lại nhé", attachments=files)
    )

    # Then the services, with the customer's principal, leave the note out
    principal = api.run(principal_for_customer, customer.id)
    listed = api.run(messages.list_messages, principal, case.id)
    assert note.id not in [m.id for m in listed]
    with pytest.raises(NotFoundError):
        api.run(messages.get_attachment, principal, note.attachments[0].id)

    # And so does the portal
    sign_in(api, customer)
    page = api.client.get(f"/support/requests/{case.id}")
    assert "Anh thử lại nhé" in page.text
    assert "Ghi chú bí mật" not in page.text
    assert "ghi-chu.txt" not in page.text
    assert api.client.get(f"/support/attachments/{reply.attachments[0].id}").content == (
        b"huong dan"
    )
    assert api.client.get(f"/support/attachments/{note.attachments[0].id}").status_code == 404


async def _agent_principal(agent_id: int) -> Any:
    from helpdesk.services import agents

    return await agents.principal_for_agent(agent_id)


def test_portal_customer_replies_with_a_file(api: Api) -> None:
    customer = new_customer(api)
    case = case_of(api, customer)
    sign_in(api, customer)
    path = f"/support/requests/{case.id}"
    response = api.client.post(
        f"{path}/reply",
        data={"body": "Tôi gửi ảnh chụp màn hình", "_csrf": csrf(api, path)},
        files={"attachments": ("anh chụp.png", b"\x89PNG", "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = api.client.get(path)
    assert "Tôi gửi ảnh chụp màn hình" in page.text
    assert "anh chụp.png" in page.text


def test_portal_live_stream_carries_replies_not_notes(api: Api) -> None:
    customer = new_customer(api)
    case = case_of(api, customer)
    cookie = sign_in(api, customer)
    agent = api.run(_agent_principal, api.agent_ids["agent_a"])
    with api.client.websocket_connect("/support/ws", headers={"cookie": cookie}) as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_json({"op": "subscribe", "stream": f"customer:{customer.id}"})
        assert _next(socket, "subscribed")["stream"] == f"customer:{customer.id}"
        api.run(messages.add_note, agent, case.id, MessageIn(body="Ghi chú"))
        api.run(messages.reply, agent, case.id, MessageIn(body="Trả lời"))
        event = _next(socket, "event")
        # the first event is the reply (the note was never on this stream)
        assert event["event"] == "case.message_added"
        assert event["payload"] == {"case_id": case.id}


def _next(socket: Any, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message: dict[str, Any] = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


# --- the matrix: customer A against everything of customer B -------------------


@dataclass(frozen=True)
class Door:
    label: str
    method: str
    path: str  # {case}, {attachment} of the other customer


DOORS = [
    Door("request page", "GET", "/support/requests/{case}"),
    Door("reply", "POST", "/support/requests/{case}/reply"),
    Door("survey answer", "POST", "/support/requests/{case}/survey"),
    Door("attachment", "GET", "/support/attachments/{attachment}"),
    Door("API case", "GET", "/api/v1/cases/{case}"),
    Door("API messages", "GET", "/api/v1/cases/{case}/messages"),
    Door("API attachment", "GET", "/api/v1/attachments/{attachment}"),
]

# who looks at whose case → may they see it
Pair = Callable[[Api], tuple[Any, Any]]


def _strangers(api: Api) -> tuple[Any, Any]:
    return new_customer(api), new_customer(api)


def _colleagues_not_shared(api: Api) -> tuple[Any, Any]:
    org = new_organization(api, shared=False)
    return new_customer(api, organization=org), new_customer(api, organization=org)


def _colleagues_shared(api: Api) -> tuple[Any, Any]:
    org = new_organization(api, shared=True)
    return new_customer(api, organization=org), new_customer(api, organization=org)


PAIRS: list[tuple[str, Pair, bool]] = [
    ("strangers", _strangers, False),
    ("same company, not shared", _colleagues_not_shared, False),
    ("same company, shared", _colleagues_shared, True),
]


@pytest.mark.parametrize(("relation", "pair", "visible"), PAIRS, ids=[p[0] for p in PAIRS])
def test_portal_permission_matrix(api: Api, relation: str, pair: Pair, visible: bool) -> None:
    viewer, owner = pair(api)
    case = case_of(api, owner, subject=f"Yêu cầu riêng {relation}")
    files = [AttachmentIn(filename="hop-dong.pdf", content=b"%PDF")]
    sent = api.run(
        messages.add_customer_message,
        SYSTEM,
        case.id,
        MessageIn(body="Hợp đồng", attachments=files),
    )
    ids = {"case": case.id, "attachment": sent.attachments[0].id}
    cookie = sign_in(api, viewer)
    token = csrf(api, "/support/requests")
    results = {}
    for door in DOORS:
        url = door.path.format(**ids)
        data = {"_csrf": token, "body": "xin chào", "rating": "5"}
        response = api.client.request(
            door.method, url, data=data if door.method == "POST" else None,
            follow_redirects=False,
        )  # fmt: skip
        results[door.label] = response.status_code
    expected = {
        "request page": 200 if visible else 404,
        "reply": 303 if visible else 404,
        "survey answer": 409 if visible else 404,  # not solved: nothing to rate
        "attachment": 200 if visible else 404,
        # customers have no API credentials: the portal cookie opens nothing there
        "API case": 401,
        "API messages": 401,
        "API attachment": 401,
    }
    assert results == expected
    listing = api.client.get("/support/requests").text
    assert (case.reference in listing) is visible

    # the websocket: only the viewer's own stream
    with api.client.websocket_connect("/support/ws", headers={"cookie": cookie}) as socket:
        assert socket.receive_json()["type"] == "hello"
        for stream in (f"customer:{owner.id}", f"case:{case.id}", "team:none"):
            socket.send_json({"op": "subscribe", "stream": stream})
            error = _next(socket, "error")
            assert error["code"] == "permission_denied", stream


def test_portal_socket_without_a_session_is_refused(api: Api) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        api.client.websocket_connect("/support/ws", headers={"cookie": "hd_portal=forged.x"}),
    ):
        pass
    assert refused.value.code == 4401


def test_portal_and_console_cookies_are_not_interchangeable(api: Api) -> None:
    customer = new_customer(api)
    cookie = sign_in(api, customer).split("=", 1)[1]
    api.client.cookies.clear()
    console = api.client.get(
        "/console/", headers={"cookie": f"hd_console={cookie}"}, follow_redirects=False
    )
    assert console.status_code == 302
