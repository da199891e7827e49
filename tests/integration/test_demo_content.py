"""The demo shows every feature: knowledge base, macros, routing rules, CSAT answers, chats.

One load of a small demo (the content does not depend on the number of
cases), checked through the same services the console and portal read, then
a second load that must create nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.clock import utcnow
from helpdesk.demo import load_demo
from helpdesk.demo._rules import BILLING_RULE
from helpdesk.domain import Channel, Priority, Status
from helpdesk.policy import SYSTEM, Principal
from helpdesk.routing import services as routing
from helpdesk.routing.assign import route_case
from helpdesk.routing.tables import CaseRouting, RoutingRule
from helpdesk.rows import as_utc
from helpdesk.schemas import CaseCreate
from helpdesk.services import agents, cases, macros
from helpdesk.tables import (
    Agent,
    AuditEntry,
    Case,
    ChatContact,
    Macro,
    Message,
    SurveyResponse,
    Team,
)
from knowledge_base import services as kb
from knowledge_base.schemas import ArticleStatus
from knowledge_base.tables import KbArticle, KbCategory

pytestmark = pytest.mark.usefixtures("db")

_SECRET = "demo-content-test-secret"


async def _staff(email: str) -> Principal:
    row = await Agent.select(Agent.id).where(Agent.email == email).first()
    assert row is not None, email
    return await agents.principal_for_agent(int(row["id"]))


async def _team(name: str) -> int:
    row = await Team.select(Team.id).where(Team.name == name).first()
    assert row is not None, name
    return int(row["id"])


async def _counts() -> dict[str, int]:
    tables: list[Any] = [KbCategory, KbArticle, Macro, RoutingRule, SurveyResponse, ChatContact,
                         Case, Message, AuditEntry]  # fmt: skip
    return {t._meta.tablename: await t.count() for t in tables}


async def _check_knowledge_base() -> None:
    rows = await KbArticle.select(KbArticle.id, KbArticle.locale, KbArticle.status)
    published = [r for r in rows if r["status"] == ArticleStatus.PUBLISHED]
    assert sum(r["locale"] == "vi" for r in published) >= 10
    english = [r for r in published if r["locale"] == "en"]
    assert len(english) >= 8
    assert any(r["status"] == ArticleStatus.DRAFT for r in rows)
    for row in english:  # every translation is linked to its Vietnamese original
        article = await kb.get_article(None, row["id"], "vi")
        assert article.locale == "vi", row
        assert not article.fallback
        assert [t.locale for t in article.translations] == ["en"]
        assert article.category_id is not None
        assert article.tags
        assert "1. " in article.body
        assert len(article.body) > 400
    categories = await KbCategory.select(KbCategory.name_vi, KbCategory.name_en)
    assert len(categories) >= 4
    assert all(c["name_en"] for c in categories)


async def _check_macros(manager: Principal) -> None:
    listed = await macros.list_macros(manager)
    assert len(listed) >= 8
    assert sum("Quý khách" in m.body for m in listed) >= 4
    assert sum("Hi {{customer_name}}" in m.body for m in listed) >= 3
    for macro in listed:
        filled = macros.render_macro(
            macro.body,
            {"customer_name": "Lan", "case_number": "HD-000042", "agent_name": "Mai"},
        )
        assert "{{" not in filled, macro.name
        assert "Mai" in filled, macro.name


async def _check_surveys() -> None:
    rows = await SurveyResponse.select(
        SurveyResponse.rating, SurveyResponse.created_at, SurveyResponse.case.solved_at
    )
    assert len(rows) >= 3
    ratings = [r["rating"] for r in rows]
    assert sum(r >= 4 for r in ratings) > len(ratings) / 2  # mostly good
    for row in rows:  # dated after the solve it rates, never in the future
        answered = as_utc(row["created_at"])
        solved = as_utc(row["case.solved_at"])
        assert answered is not None
        assert solved is not None
        assert solved <= answered <= utcnow()


async def _check_chats(support: int, mai: Principal) -> None:
    rows = await Case.select(
        Case.id, Case.status, Case.assignee, Case.team, Case.created_at
    ).where((Case.channel == Channel.CHAT) & Case.id.is_in(
        [r["case"] for r in await ChatContact.select(ChatContact.case)]
    ))  # fmt: skip
    waiting = [r for r in rows if r["status"] == Status.NEW]
    assert len(waiting) == 1
    assert waiting[0]["assignee"] is None
    assert waiting[0]["team"] == support
    ongoing = [r for r in rows if r["status"] == Status.OPEN]
    assert [r["assignee"] for r in ongoing] == [mai.id]
    finished = [r for r in rows if r["status"] in (Status.SOLVED, Status.CLOSED)]
    assert len(finished) >= 3
    assert {r["status"] for r in finished} == {Status.SOLVED, Status.CLOSED}
    oldest = min(as_utc(r["created_at"]) or utcnow() for r in rows)
    assert (utcnow() - oldest).days >= 5  # the finished ones are dated back
    lines = await Message.count().where(Message.case.is_in([r["id"] for r in ongoing]))
    assert lines >= 4  # a real conversation, not one line


async def _route_fresh(subject: str, body: str) -> dict[str, Any]:
    opened = await cases.open_case(
        SYSTEM, CaseCreate(subject=subject, body=body, customer_email="ke.toan@example.com")
    )
    assert await route_case(opened.id)
    row = await Case.select(Case.team, Case.priority, Case.tags).where(Case.id == opened.id).first()
    routing_row = await CaseRouting.select(CaseRouting.rule_name).where(
        CaseRouting.case == opened.id
    ).first()  # fmt: skip
    assert row is not None
    assert routing_row is not None
    return {**row, "rule": routing_row["rule_name"]}


async def test_the_demo_shows_every_feature_and_a_second_load_adds_nothing() -> None:
    # Given a small demo, loaded twice
    first = await load_demo(cases=24, seed=1, secret_key=_SECRET)
    assert first.cases_created == 24
    after_first = await _counts()
    second = await load_demo(cases=24, seed=1, secret_key=_SECRET)
    assert second.cases_created == 0
    assert await _counts() == after_first  # nothing new, anywhere

    # Then every feature has content
    manager = await _staff("hanh.bui@hotro.example")
    await _check_knowledge_base()
    await _check_macros(manager)
    await _check_surveys()
    support, billing = await _team("Hỗ trợ kỹ thuật"), await _team("Thanh toán")
    await _check_chats(support, await _staff("mai.nguyen@hotro.example"))
    rules = await routing.list_rules(await _staff("quantri@hotro.example"))
    assert len(rules) >= 3
    assert all(r.enabled for r in rules)

    # and the rules route fresh cases: an invoice question to billing, an outage up
    invoice = await _route_fresh(
        "Xin xuất hóa đơn VAT tháng 11", "Công ty tôi cần hóa đơn VAT cho đơn hàng DH123456."
    )
    assert (invoice["team"], invoice["rule"]) == (billing, BILLING_RULE)
    assert "billing" in invoice["tags"]
    outage = await _route_fresh("Hệ thống bị sập", "Cả văn phòng không làm việc được, xử lý gấp!")
    assert outage["team"] == support
    assert outage["priority"] == Priority.HIGH
    question = await _route_fresh("Hỏi về báo cáo", "Báo cáo tuần này có số liệu mới chưa?")
    assert question["team"] == support
    assert question["rule"] == ""
