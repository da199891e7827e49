"""The data the browser tests work on, written before the server starts.

Written through the domain services (as the app would write it) into a fresh
SQLite file; cases are routed here, so the server's start-up sweep finds
nothing to route and no case changes under a test's feet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpdesk.db import bind_engine, close_pool, create_engine
from helpdesk.domain import Priority, Role
from helpdesk.migrations import migrate
from helpdesk.policy import SYSTEM
from helpdesk.routing.assign import route_case
from helpdesk.schemas import (
    AgentIn,
    AttachmentIn,
    CaseCreate,
    MacroIn,
    MessageIn,
    TeamIn,
    TeamUpdate,
)
from helpdesk.services import agents, cases, macros, messages, teams
from helpdesk.storage import BlobStore, configure_blob_store
from knowledge_base.schemas import ArticleIn, ArticleStatus
from knowledge_base.services import create_article

PASSWORD = "mat-khau-e2e-2026"
E2E_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
"""A one-pixel PNG: the case page's attachment preview (tests/e2e/test_case_page.py)."""


@dataclass
class Seeded:
    """Who can sign in, and the cases they meet (by purpose)."""

    emails: dict[str, str] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)


async def _case(
    seeded: Seeded, key: str, subject: str, *, email: str, name: str, team_id: int | None,
    body: str, priority: Priority = Priority.NORMAL, files: list[AttachmentIn] | None = None,
) -> None:  # fmt: skip
    case = await cases.open_case(
        SYSTEM,
        CaseCreate(
            subject=subject,
            body=body,
            customer_email=email,
            customer_name=name,
            team_id=team_id,
            priority=priority,
            attachments=files or [],
        ),
    )
    await route_case(case.id)
    seeded.cases[key] = case.id
    seeded.subjects[key] = subject


async def _staff(seeded: Seeded, key: str, name: str, role: Role, team_ids: list[int]) -> None:
    email = f"{key}@support.test"
    agent = await agents.create_agent(
        SYSTEM, AgentIn(name=name, email=email, role=role, password=PASSWORD)
    )
    for team_id in team_ids:
        team = await teams.get_team(SYSTEM, team_id)
        await teams.update_team(
            SYSTEM, team_id, TeamUpdate(member_ids=[*team.member_ids, agent.id])
        )
    seeded.emails[key] = email


async def seed(database_url: str, data_dir: Path) -> Seeded:
    """Migrate the database at ``database_url`` and fill it; blobs go to ``data_dir``."""
    engine = create_engine(database_url)
    bind_engine(engine)
    configure_blob_store(BlobStore(data_dir / "attachments", max_bytes=5_000_000))
    await migrate(engine)
    seeded = Seeded()
    support = await teams.create_team(SYSTEM, TeamIn(name="Hỗ trợ kỹ thuật"))
    billing = await teams.create_team(SYSTEM, TeamIn(name="Kế toán"))
    await _staff(seeded, "lan", "Nguyễn Thị Lan", Role.AGENT, [support.id])
    await _staff(seeded, "minh", "Trần Văn Minh", Role.AGENT, [support.id])
    await _staff(seeded, "huy", "Phạm Quốc Huy", Role.MANAGER, [])
    await _staff(seeded, "an", "Lê Văn An", Role.ADMIN, [])  # tests/e2e/test_admin_forms.py
    await _staff(seeded, "thu", "Ngô Thị Thu", Role.AGENT, [support.id])  # test_profile.py
    screenshot = AttachmentIn(
        filename="ảnh chụp lỗi.txt", content=b"Error 500", content_type="text/plain"
    )
    await _case(
        seeded, "login", "Không đăng nhập được vào tài khoản", email="hoa@khach.vn",
        name="Lê Thị Hoa", team_id=support.id, priority=Priority.HIGH, files=[screenshot],
        body="Chào anh chị, từ sáng nay tôi không đăng nhập được. Xin giúp tôi với.",
    )  # fmt: skip
    await _case(
        seeded, "invoice", "Hóa đơn tháng 10 bị sai", email="ketoan@congty.vn",
        name="Công ty An Phát", team_id=billing.id, body="Hóa đơn số 123 ghi sai số tiền.",
    )  # fmt: skip
    await _case(
        seeded, "reset", "Cannot reset my password", email="john@example.com",
        name="John Smith", team_id=support.id, body="The reset link says it has expired.",
    )  # fmt: skip
    await _case(
        seeded, "forged", "Ứng dụng bị treo khi mở báo cáo", email="tuan@khach.vn",
        name="Đỗ Minh Tuấn", team_id=support.id, body="Ứng dụng bị treo mỗi khi tôi mở báo cáo.",
    )  # fmt: skip
    await _case(
        seeded, "case_page", "Máy in không nhận lệnh in", email="mai@khach.vn",
        name="Vũ Thị Mai", team_id=support.id, body="Máy in văn phòng không in được.",
        files=[AttachmentIn(filename="may in.png", content=E2E_PNG, content_type="image/png")],
    )  # fmt: skip
    await messages.add_note(SYSTEM, seeded.cases["login"], MessageIn(body="Khách hàng VIP."))
    await macros.create_macro(
        SYSTEM,
        MacroIn(
            name="Lời chào",
            body="Chào {{customer_name}},\nChúng tôi đang xử lý yêu cầu {{case_number}}.\n"
            "{{agent_name}}",
        ),
    )
    for title, body in (
        ("Không đăng nhập được vào tài khoản", "Bấm **Quên mật khẩu** để đặt lại mật khẩu."),
        ("Xuất hóa đơn điện tử", "Vào mục Hóa đơn, chọn tháng rồi bấm Xuất."),
    ):
        article = ArticleIn(title=title, body=body, status=ArticleStatus.PUBLISHED)
        seeded.articles[title] = (await create_article(SYSTEM, article)).id
    await close_pool(engine)
    return seeded
