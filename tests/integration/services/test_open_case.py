"""Opening a case: customer, organization, language, tags, attachments, atomicity."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from helpdesk.domain import Channel, MessageKind, Status
from helpdesk.errors import AttachmentTooLargeError, ValidationError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, CaseCreate
from helpdesk.services import audit, cases, customers, messages
from helpdesk.storage import blob_store
from helpdesk.tables import Customer, CustomerEmail
from tests.factories import (
    customer_principal,
    make_agent,
    make_case,
    make_customer,
    make_organization,
    make_team,
)
from tests.integration.services.helpers import case_tags, outbox, row_counts


def blob_files() -> list[str]:
    root = blob_store().root
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_new_address_creates_customer_and_first_message(db):
    # When a case is opened for an address nobody has used
    case = await make_case(email="lan.nguyen@example.vn", customer_name="Nguyễn Thị Lan")

    # Then a customer exists for it, and the case starts "new" with one customer message
    customer = await customers.get_customer(SYSTEM, case.customer_id)
    assert customer.name == "Nguyễn Thị Lan"
    assert customer.emails == ["lan.nguyen@example.vn"]
    assert case.status == Status.NEW
    assert case.reference == f"HD-{case.id:06d}"
    assert case.version == 1
    conversation = await messages.list_messages(SYSTEM, case.id)
    assert [(m.kind, m.author_customer_id) for m in conversation] == [
        (MessageKind.CUSTOMER, customer.id)
    ]
    assert conversation[0].body_text == "Tôi không đăng nhập được vào tài khoản."


async def test_address_is_matched_case_insensitively_after_normalising(db):
    first = await make_case(email="Lan.Nguyen@Example.VN")
    second = await make_case(email="  lan.nguyen@example.vn ")
    third = await make_case(email="LAN.NGUYEN@EXAMPLE.VN")

    assert first.customer_id == second.customer_id == third.customer_id
    assert await Customer.count() == 1
    stored = await CustomerEmail.select(CustomerEmail.address)
    assert stored == [{"address": "lan.nguyen@example.vn"}]


async def test_customer_is_linked_to_organization_by_email_domain(db):
    org = await make_organization(domains=["acme.vn"])
    other = await make_organization(domains=["other.vn"])

    case = await make_case(email="Minh@ACME.vn")
    outsider = await make_case(email="minh@gmail.com")

    assert case.organization_id == org.id != other.id
    assert (await customers.get_customer(SYSTEM, case.customer_id)).organization_id == org.id
    assert outsider.organization_id is None


async def test_existing_customer_by_id_keeps_their_organization(db):
    org = await make_organization()
    customer = await make_customer(organization_id=org.id, email="a@gmail.com")
    case = await make_case(customer_id=customer.id)
    assert (case.customer_id, case.organization_id) == (customer.id, org.id)


async def test_language_is_detected_from_subject_and_body(db):
    vi = await make_case(subject="Lỗi thanh toán", body="Tôi đã chuyển khoản nhưng đơn hàng chưa")
    en = await make_case(subject="Payment failed", body="I paid but the order is still open")
    assert (vi.language, en.language) == ("vi", "en")


async def test_tags_are_normalised_deduplicated_and_stored_as_rows(db):
    case = await make_case(tags=["Billing", "login", "billing", "VIP"])
    assert case.tags == ["billing", "login", "vip"]
    assert await case_tags(case.id) == ["billing", "login", "vip"]


async def test_attachments_are_stored_content_addressed(db):
    # Given two files, two of them with the same bytes
    pdf = b"%PDF-1.7 invoice " * 100
    png = b"\x89PNG\r\n\x1a\n"
    files = [
        AttachmentIn(filename="hoá đơn.pdf", content=pdf, content_type="application/pdf"),
        AttachmentIn(filename="copy.pdf", content=pdf, content_type="application/pdf"),
        AttachmentIn(filename="screen.png", content=png, content_type="image/png"),
    ]

    # When a case is opened with them
    case = await make_case(attachments=files)

    # Then each attachment keeps its name, type and size, under its SHA-256
    [first] = await messages.list_messages(SYSTEM, case.id)
    got = [(a.filename, a.content_type, a.size, a.sha256) for a in first.attachments]
    digest = hashlib.sha256(pdf).hexdigest()
    png_digest = hashlib.sha256(png).hexdigest()
    assert got == [
        ("hoá đơn.pdf", "application/pdf", len(pdf), digest),
        ("copy.pdf", "application/pdf", len(pdf), digest),
        ("screen.png", "image/png", len(png), png_digest),
    ]
    # And the same bytes are stored once
    assert blob_files() == sorted([digest, png_digest])
    assert blob_store().get(digest) == pdf
    meta, data = await messages.get_attachment(SYSTEM, first.attachments[2].id)
    assert (meta.filename, data) == ("screen.png", png)


@pytest.mark.parametrize(
    "sizes",
    [
        pytest.param([1_000_001], id="one-file-over-the-limit"),
        pytest.param([10, 1_000_001], id="second-file-over-the-limit"),
        pytest.param([600_000, 600_000], id="together-over-the-limit"),
    ],
)
async def test_attachment_over_the_limit_writes_nothing(db, sizes):
    # Given a database with one case already
    await make_case(email="before@example.vn")
    before = await row_counts()
    published = len(db.frames)
    files = [
        AttachmentIn(filename=f"f{i}.bin", content=bytes([i]) * size)
        for i, size in enumerate(sizes)
    ]

    # When a case with too large attachments is opened for a new customer
    with pytest.raises(AttachmentTooLargeError) as raised:
        await make_case(email="new.sender@example.vn", attachments=files)

    # Then it is a 413, and no row, blob or event of it exists
    assert raised.value.status == 413
    assert raised.value.extra["limit"] == 1_000_000
    assert await row_counts() == before
    assert len(db.frames) == published
    assert blob_files() == []
    assert not await CustomerEmail.exists().where(CustomerEmail.address == "new.sender@example.vn")


async def test_unknown_team_is_refused_and_nothing_is_written(db):
    before = await row_counts()
    with pytest.raises(ValidationError):
        await make_case(team_id=999)
    assert await row_counts() == before


async def test_needs_a_customer(db):
    with pytest.raises(ValidationError):
        await cases.open_case(SYSTEM, CaseCreate(subject="x", body="y"))


async def test_customer_opens_a_case_for_themselves(db):
    customer = await make_customer(email="me@example.vn")
    me = await customer_principal(customer.id)
    case = await cases.open_case(
        me,
        CaseCreate(subject="Help", body="Please", customer_email="someone.else@example.vn"),
    )
    assert case.customer_id == customer.id
    assert not await CustomerEmail.exists().where(
        CustomerEmail.address == "someone.else@example.vn"
    )


async def test_events_and_audit_of_a_new_case(db):
    team = await make_team()
    case = await make_case(team_id=team.id, channel=Channel.EMAIL)
    for stream in (f"case:{case.id}", f"team:{team.id}", f"customer:{case.customer_id}"):
        assert await outbox(stream) == [(1, "case.message_added"), (2, "case.opened")]
        assert db.types(stream) == ["case.message_added", "case.opened"]
    opened = [e for e in db.events if type(e).__name__ == "CaseOpened"]
    assert [(e.case_id, e.team_id, e.channel) for e in opened] == [(case.id, team.id, "email")]
    history = await audit.case_history(case.id)
    assert [(h.action, h.actor_kind) for h in history] == [("case.opened", "system")]


async def test_agent_gets_back_a_case_opened_outside_their_teams(db):
    # An agent of team A may file a case for team B; the committed case is returned
    team_a, team_b = await make_team(), await make_team()
    agent = await make_agent(team_ids=[team_a.id])
    case = await make_case(agent, team_id=team_b.id)
    assert case.team_id == team_b.id


async def test_html_body_is_sanitised(db):
    case = await cases.open_case(
        SYSTEM,
        CaseCreate(
            subject="HTML",
            body="hi",
            html='<p onclick="x()">hi<script>alert(1)</script><img src="http://t.example/p.gif"></p>',
            customer_email="html@example.vn",
        ),
    )
    [message] = await messages.list_messages(SYSTEM, case.id)
    assert "script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "t.example" not in message.body_html
    assert "hi" in message.body_html


async def test_concurrent_cases_from_one_new_address_share_one_customer(db):
    # Two mails from the same new sender processed at the same moment
    opened = await asyncio.gather(
        *(make_case(email="burst@example.vn") for _ in range(5)),
    )
    assert len({c.customer_id for c in opened}) == 1
    assert await Customer.count() == 1
    assert await CustomerEmail.count() == 1
