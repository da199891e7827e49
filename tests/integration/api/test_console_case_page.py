"""The console's case page: send and set status in one request, the case history,
Markdown replies and notes (sanitised, previewed), signatures, attachment previews."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

from helpdesk.channels.email import _render
from helpdesk.channels.email.mailboxes import MailboxIn, create_mailbox
from helpdesk.channels.email.outbound import queue_reply
from helpdesk.events import case_stream
from helpdesk.policy import SYSTEM
from helpdesk.routing.assign import route_case
from helpdesk.schemas import AttachmentIn, MessageIn
from helpdesk.services import cases, customers, messages
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.sla.timers import fire_due, fire_timer
from helpdesk.tables import Job, OutboxEvent
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HOSTILE = (
    "**Đã xử lý** cho _Quý khách_\n\n- bước 1\n- bước 2\n\n"
    "<script>alert('x')</script> [bấm vào đây](javascript:alert(1)) "
    "[dữ liệu](data:text/html;base64,PHNjcmlwdD4=) [hướng dẫn](https://help.example.vn/a)\n\n"
    "> trích dẫn\n\n`mã lỗi 42`"
)
MAILBOX = MailboxIn(
    name="Hỗ trợ", address="support@helpdesk.test", imap_host="127.0.0.1",
    imap_user="u", imap_password="p", smtp_host="127.0.0.1", smtp_security="plain",
)  # fmt: skip
SIGNATURE = "Trân trọng,\n**Bích** – Bộ phận hỗ trợ"


def post(api: Api, url: str, token: str, **data: str) -> Response:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def policy(api: Api) -> None:
    body = {
        "name": "Thường",
        "targets": {
            p: {"first_response": "PT1H", "resolution": "PT16H"}
            for p in ("low", "normal", "high", "urgent")
        },
    }
    assert api.post("/api/v1/sla/policies", json=body).status_code == 201


def rows(api: Api, query: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return list(await query.output(load_json=True))

    return api.run(run)


def status_events(api: Api, case_id: int) -> list[list[str]]:
    found = rows(
        api,
        OutboxEvent.select(OutboxEvent.payload)
        .where((OutboxEvent.stream == case_stream(case_id)) & (OutboxEvent.type == "case.updated"))
        .order_by(OutboxEvent.seq),
    )
    return [r["payload"]["changes"]["status"] for r in found if "status" in r["payload"]["changes"]]


def test_send_and_solve_in_one_request_signed_sanitised_and_refused_when_stale(api: Api) -> None:
    policy(api)
    case = api.make_case(api.team_a)
    token = console_sign_in(api, "agent_a")
    # Given agent A's signature, saved on the profile page
    assert post(api, "/console/profile/signature", token, signature=SIGNATURE).status_code == 303
    assert "Trân trọng," in api.client.get("/console/profile").text
    too_long = post(api, "/console/profile/signature", token, signature="x" * 2001)
    assert too_long.status_code == 422
    assert "2.000" in too_long.text

    # A stale page (version 0) sends nothing and says why; an unknown status is a 400
    stale = post(
        api, f"/console/cases/{case.id}/reply", token, body="Cũ", then="solved", version="0"
    )
    assert stale.status_code == 409
    assert "Cũ</textarea>" in stale.text
    wrong = post(api, f"/console/cases/{case.id}/reply", token, body="Sai", then="closed")
    assert wrong.status_code == 422
    assert [m.kind for m in api.run(messages.list_messages, SYSTEM, case.id)] == ["customer"]
    # while a plain reply from the same stale page is sent: only a status change checks it
    plain = post(api, f"/console/cases/{case.id}/reply", token, body="Đang xem", version="0")
    assert plain.status_code == 303

    # When the agent sends a Markdown reply with "Send and set Solved"
    page = api.client.get(f"/console/cases/{case.id}").text
    offered = re.search(r'<select name="then" id="reply-then".*?</select>', page, re.S)
    assert offered is not None
    assert re.findall(r'value="(\w*)"', offered.group(0)) == ["", "pending", "solved"]
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    sent = post(
        api,
        f"/console/cases/{case.id}/reply",
        token,
        body=HOSTILE,
        then="solved",
        version=version.group(1),
    )
    assert sent.status_code == 303, sent.text[:300]

    # Then the case is solved, as a status change makes it: event, survey job, SLA stopped
    assert api.run(cases.get_case, SYSTEM, case.id).status == "solved"
    assert status_events(api, case.id) == [["new", "open"], ["open", "solved"]]
    jobs = rows(api, Job.select(Job.actor, Job.args))
    assert [j["args"] for j in jobs if "survey" in j["actor"]] == [[case.id]]
    timers = rows(api, CaseSlaTimer.select().where(CaseSlaTimer.case == case.id))
    assert {t["metric"]: t["completed_at"] is not None for t in timers} == {
        "first_response": True,
        "resolution": True,
    }
    # and the reply is signed, its HTML part safe, its text part the readable Markdown
    reply = api.run(messages.list_messages, SYSTEM, case.id)[-1]
    assert reply.kind == "reply"
    assert reply.body_text.startswith("**Đã xử lý**")
    assert reply.body_text.endswith("-- \n" + SIGNATURE)
    html = reply.body_html
    assert "<strong>Đã xử lý</strong>" in html
    assert "<em>Quý khách</em>" in html
    assert "<li>bước 1</li>" in html
    assert "<blockquote>" in html
    assert "<code>mã lỗi 42</code>" in html
    assert '<a href="https://help.example.vn/a" rel="noopener noreferrer nofollow">' in html
    assert "<script" not in html
    assert 'href="javascript:' not in html
    assert 'href="data:' not in html
    assert "&lt;script&gt;" in html
    assert "<strong>Bích</strong>" in html
    # and its mail carries the HTML part and the readable text part, both signed
    api.run(create_mailbox, SYSTEM, MAILBOX)
    mail, _ = api.run(_render.build, api.run(queue_reply, reply.id))
    assert "<strong>Đã xử lý</strong>" in mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "**Đã xử lý**" in text
    assert "[hướng dẫn](https://help.example.vn/a)" in text
    assert "-- \nTrân trọng," in text
    shown = api.client.get(f"/console/cases/{case.id}").text
    assert "<strong>Đã xử lý</strong>" in shown
    assert "<script>alert(" not in shown
    assert "Đã gửi câu trả lời; yêu cầu đã được giải quyết." in shown

    # A note is Markdown too, but never signed
    assert post(api, f"/console/cases/{case.id}/note", token, body="*nội bộ*").status_code == 303
    note = api.run(messages.list_messages, SYSTEM, case.id)[-1]
    assert (note.kind, note.body_text, note.body_html) == (
        "note",
        "*nội bộ*",
        "<p><em>nội bộ</em></p>",
    )


def test_the_history_names_who_did_what_for_every_kind_of_change(api: Api) -> None:
    policy(api)
    case = api.make_case(None, subject="Hóa đơn tháng 3")
    other = api.make_case(api.team_a, subject="Trùng")
    rule = {
        "name": "Hóa đơn",
        "conditions": {"keywords": ["hoa don"]},
        "actions": {"team_id": api.team_a},
    }
    assert api.post("/api/v1/routing/rules", json=rule).status_code == 201
    api.run(route_case, case.id)
    first = rows(
        api,
        CaseSlaTimer.select()
        .where(CaseSlaTimer.case == case.id)
        .where(CaseSlaTimer.metric == "first_response"),
    )[0]
    api.run(fire_timer, first["id"], first["warn_at"])  # at risk
    api.run(fire_due, datetime.now(UTC) + timedelta(days=30))  # then breached
    token = console_sign_in(api, "agent_a")
    assert post(api, f"/console/cases/{case.id}/take", token).status_code == 303
    form = {"version": "", "status": "pending", "priority": "high", "team": str(api.team_a)}
    form["version"] = str(api.run(cases.get_case, SYSTEM, case.id).version)
    assert (
        post(api, f"/console/cases/{case.id}/update", token, tags="vip", **form).status_code == 303
    )
    assert post(api, f"/console/cases/{case.id}/reply", token, body="Chào chị").status_code == 303
    assert post(api, f"/console/cases/{case.id}/note", token, body="Ghi chú").status_code == 303
    customer_message = MessageIn(body="Cảm ơn")
    api.run(messages.add_customer_message, SYSTEM, case.id, customer_message)
    token = console_sign_in(api, "manager")
    assert (
        post(api, f"/console/cases/{other.id}/merge", token, target=str(case.id)).status_code == 303
    )

    page = api.client.get(f"/console/cases/{case.id}?lang=en").text
    history = page[page.index('id="history"') :]
    lines = re.findall(
        r'data-kind="(\w+)">\s*<time datetime="[^"]+">([^<]+)</time>\s*<span>([^<]+)', history
    )
    said = {kind: text for kind, _, text in reversed(lines)}
    assert said["opened"] == "System opened the case"
    assert said["routed"] == "Routing rule “Hóa đơn” applied"
    assert said["team"] == "System moved the case from No team to Team A"
    assert said["assignee"] == "Agent_A assigned the case to Agent_A"
    assert said["priority"] == "Agent_A changed the priority from Normal to High"
    assert said["tags"] == "Agent_A changed the tags from “” to “vip”"
    assert said["reply"] == "Agent_A replied to the customer"
    assert said["note"] == "Agent_A added an internal note"
    customer = api.run(customers.get_customer, SYSTEM, case.customer_id).name
    assert said["customer_message"] == f"{customer} wrote a message"
    assert said["merged_from"] == f"Manager merged {other.reference} into this case"
    assert said["sla_at_risk"] == "SLA at risk: First response"
    breaches = [text for kind, _, text in lines if kind == "sla_breached"]
    assert sorted(breaches) == ["SLA breached: First response", "SLA breached: Resolution"]
    assert said["sla_met"] == "SLA met: First response"  # the new target after the priority change
    statuses = [text for kind, _, text in lines if kind == "status"]
    assert statuses == [
        f"{customer} changed the status from Pending to Open",  # reopened by their message
        "Agent_A changed the status from New to Pending",
    ]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", when) for _, when, _ in lines)
    # newest first, and Vietnamese by default
    assert [kind for kind, _, _ in lines][:1] + [kind for kind, _, _ in lines][-2:] == [
        "merged_from",
        "routed",
        "opened",
    ]
    assert "đã tạo yêu cầu" in api.client.get(f"/console/cases/{case.id}?lang=vi").text
    # an agent who may not see the case sees no history either
    console_sign_in(api, "agent_b")
    assert api.client.get(f"/console/cases/{case.id}").status_code == 404


def test_previews_of_markdown_and_attachments_only_for_agents_who_may_see_the_case(
    api: Api,
) -> None:
    case = api.make_case(api.team_a)
    files = [
        AttachmentIn(filename="ảnh lỗi.png", content=PNG, content_type="image/png"),
        AttachmentIn(filename="hóa đơn.pdf", content=PDF, content_type="application/pdf"),
        AttachmentIn(filename="logo.svg", content=SVG, content_type="image/svg+xml"),
    ]
    api.run(
        messages.add_customer_message, SYSTEM, case.id, MessageIn(body="Gửi tệp", attachments=files)
    )
    ids = {
        a.filename: a.id for a in api.run(messages.list_messages, SYSTEM, case.id)[-1].attachments
    }
    token = console_sign_in(api, "agent_a")
    api.client.post("/console/profile/signature", data={"signature": "*Bích*", "_csrf": token})

    preview = post(api, f"/console/cases/{case.id}/preview", token, body=HOSTILE, kind="reply")
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("text/html")
    assert "<strong>Đã xử lý</strong>" in preview.text
    assert "<em>Bích</em>" in preview.text
    assert "<script" not in preview.text
    assert 'href="javascript:' not in preview.text
    note = post(api, f"/console/cases/{case.id}/preview", token, body="**a**", kind="note")
    assert note.text == "<p><strong>a</strong></p>"  # no signature on notes

    page = api.client.get(f"/console/cases/{case.id}").text
    assert f'<img src="/console/attachments/{ids["ảnh lỗi.png"]}/view"' in page
    assert f'href="/console/attachments/{ids["hóa đơn.pdf"]}/view"' in page
    assert f"/console/attachments/{ids['logo.svg']}/view" not in page
    image = api.client.get(f"/console/attachments/{ids['ảnh lỗi.png']}/view")
    assert image.status_code == 200
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline;")
    assert image.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in image.headers["content-security-policy"]
    pdf = api.client.get(f"/console/attachments/{ids['hóa đơn.pdf']}/view")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == PDF
    assert pdf.headers["content-disposition"].startswith("inline;")
    assert "default-src 'none'" in pdf.headers["content-security-policy"]
    svg = api.client.get(f"/console/attachments/{ids['logo.svg']}/view")
    assert svg.headers["content-disposition"].startswith("attachment;")  # never run inline

    # A pasted image (sent with the reply as its file) shows where it was pasted
    pasted = "pasted-20261207-091500-1.png"
    reply = api.client.post(
        f"/console/cases/{case.id}/reply",
        data={
            "body": f"Ảnh màn hình: [{pasted}] và [pasted-20261207-091500-9.png]",
            "_csrf": token,
        },
        files={"attachments": (pasted, PNG, "image/png")},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    sent = api.run(messages.list_messages, SYSTEM, case.id)[-1]
    inline = f'<img class="inline-image" src="/console/attachments/{sent.attachments[0].id}/view"'
    thread = api.client.get(f"/console/cases/{case.id}").text
    assert f'{inline} alt="{pasted}">' in thread
    assert "[pasted-20261207-091500-9.png]" in thread  # not a file of the message: stays text

    token_b = console_sign_in(api, "agent_b")
    for attachment_id in ids.values():
        assert api.client.get(f"/console/attachments/{attachment_id}/view").status_code == 404
    hidden = post(api, f"/console/cases/{case.id}/preview", token_b, body="x", kind="reply")
    assert hidden.status_code == 404
