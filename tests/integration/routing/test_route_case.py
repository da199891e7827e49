"""Routing a new case: rules (first match wins, audited), default team, direct assignment."""

from __future__ import annotations

import msgspec

from helpdesk.channels.email import mailboxes
from helpdesk.channels.email.mailboxes import MailboxIn
from helpdesk.domain import Channel, Priority
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.assign import route_case
from helpdesk.routing.schemas import RuleIn
from helpdesk.routing.strategies import Strategy
from helpdesk.routing.tables import CaseRouting
from helpdesk.schemas import AssignIn
from helpdesk.services import audit, cases
from helpdesk.tables import Message
from tests.factories import make_case, make_customer, make_organization, make_team
from tests.integration.routing._support import assignee_of, available_agent, staffed_team
from tests.integration.services.helpers import case_tags

ENGLISH = "I cannot log in to my account since yesterday."


async def add_rule(name: str, position: int | None = None, **parts: object) -> int:
    data = msgspec.convert({"name": name, "position": position, **parts}, RuleIn)
    return (await routing.create_rule(SYSTEM, data)).id


async def routed_entries(case_id: int) -> list[dict[str, object]]:
    return [h.changes for h in await audit.case_history(case_id) if h.action == "case.routed"]


async def test_without_rules_a_case_goes_to_the_default_team_once(db):
    default = await make_team(is_default=True)
    case = await make_case()
    assert await route_case(case.id) is True
    assert await route_case(case.id) is False  # a second delivery changes nothing
    routed = await cases.get_case(SYSTEM, case.id)
    assert (routed.team_id, routed.assignee_id) == (default.id, None)  # manual team
    assert await routed_entries(case.id) == [{"team_id": [None, default.id]}]
    assert await route_case(10_000) is False


async def test_the_first_matching_rule_sets_team_priority_and_tags_and_is_audited(db):
    await make_team(is_default=True)
    billing = await make_team("Kế toán")
    other = await make_team()
    await add_rule("later", 20, conditions={"languages": ["vi"]}, actions={"team_id": other.id})
    rule_id = await add_rule(
        "Hóa đơn",
        10,
        conditions={"keywords": ["hoa don"]},
        actions={"team_id": billing.id, "priority": "high", "add_tags": ["Billing"]},
    )
    case = await make_case(subject="Xin gửi lại HÓA ĐƠN", tags=["vip"])

    assert await route_case(case.id)

    routed = await cases.get_case(SYSTEM, case.id)
    assert (routed.team_id, routed.priority, routed.tags) == (
        billing.id,
        "high",
        ["billing", "vip"],
    )
    assert await case_tags(case.id) == ["billing", "vip"]
    assert await routed_entries(case.id) == [
        {
            "rule_id": rule_id,
            "rule_name": "Hóa đơn",
            "team_id": [None, billing.id],
            "priority": ["normal", "high"],
            "tags": [["vip"], ["billing", "vip"]],
        }
    ]
    record = await CaseRouting.select().where(CaseRouting.case == case.id).first()
    assert (record["rule_id"], record["rule_name"]) == (rule_id, "Hóa đơn")
    assert "case.updated" in db.types(f"team:{billing.id}")


async def test_disabled_and_non_matching_rules_fall_through_to_the_case_team(db):
    await make_team(is_default=True)
    own = await make_team()
    elsewhere = await make_team()
    await add_rule("off", 1, enabled=False, actions={"team_id": elsewhere.id})
    await add_rule(
        "english", 2, conditions={"languages": ["en"]}, actions={"team_id": elsewhere.id}
    )
    case = await make_case(team_id=own.id)  # Vietnamese
    await route_case(case.id)
    assert (await cases.get_case(SYSTEM, case.id)).team_id == own.id
    assert await routed_entries(case.id) == [{}]


async def test_conditions_on_channel_organization_tags_priority_and_language(db):
    await make_team(is_default=True)
    teams = {name: (await make_team()).id for name in ("web", "org", "tag", "urgent", "en")}
    org = await make_organization()
    await add_rule("web", conditions={"channels": ["web"]}, actions={"team_id": teams["web"]})
    await add_rule(
        "org", conditions={"organization_ids": [org.id]}, actions={"team_id": teams["org"]}
    )
    await add_rule("tag", conditions={"tags": ["vip"]}, actions={"team_id": teams["tag"]})
    await add_rule(
        "urgent", conditions={"priorities": ["urgent"]}, actions={"team_id": teams["urgent"]}
    )
    await add_rule("en", conditions={"languages": ["en"]}, actions={"team_id": teams["en"]})
    member = await make_customer(organization_id=org.id)
    made = {
        "web": await make_case(channel=Channel.WEB),
        "org": await make_case(customer_id=member.id),
        "tag": await make_case(tags=["VIP"]),
        "urgent": await make_case(priority=Priority.URGENT),
        "en": await make_case(subject="Login", body=ENGLISH),
    }
    for name, case in made.items():
        await route_case(case.id)
        assert (await cases.get_case(SYSTEM, case.id)).team_id == teams[name], name


async def test_a_mailbox_condition_uses_the_mail_that_opened_the_case(db):
    await make_team(is_default=True)
    sales = await make_team()
    box = await mailboxes.create_mailbox(
        SYSTEM,
        MailboxIn(name="Sales", address="sales@support.test", imap_host="h", imap_user="u",
                  imap_password="p"),
    )  # fmt: skip
    await add_rule("sales box", conditions={"mailbox_ids": [box.id]}, actions={"team_id": sales.id})
    by_mail = await make_case(channel=Channel.EMAIL)
    # the email channel records the mailbox on the message that opened the case
    await Message.update({Message.meta: {"mailbox_id": box.id}}).where(Message.case == by_mail.id)
    by_api = await make_case(channel=Channel.EMAIL)
    await route_case(by_mail.id)
    await route_case(by_api.id)
    assert (await cases.get_case(SYSTEM, by_mail.id)).team_id == sales.id
    assert (await cases.get_case(SYSTEM, by_api.id)).team_id != sales.id


async def test_a_rule_can_assign_directly_and_the_assignment_is_audited(db):
    team, _ = await staffed_team(2)
    boss = await available_agent([])  # in no team, with room or not: the rule decides
    rule_id = await add_rule("vip", conditions={"tags": ["vip"]}, actions={"assignee_id": boss})
    case = await make_case(team_id=team, tags=["vip"])
    await route_case(case.id)
    assert await assignee_of(case.id) == boss
    history = await audit.case_history(case.id)
    assert [h.action for h in history][-2:] == ["case.routed", "case.assigned"]
    assert history[-2].changes["rule_id"] == rule_id
    assert history[-1].changes == {"assignee_id": [None, boss], "reason": "rule"}
    assert db.types(f"case:{case.id}")[-1] == "case.assigned"


async def test_a_skill_from_a_rule_restricts_the_team_strategy(db):
    team, plain = await staffed_team(2)
    expert = await available_agent([team], skills=["vat"])
    await add_rule("vat", conditions={"keywords": ["vat"]}, actions={"required_skill": "vat"})
    first = await make_case(team_id=team, subject="VAT invoice")
    second = await make_case(team_id=team, subject="Hóa đơn VAT")
    other = await make_case(team_id=team, subject="Đổi mật khẩu")
    for case in (first, second, other):
        await route_case(case.id)
    assert await assignee_of(first.id) == expert
    assert await assignee_of(second.id) == expert  # round-robin never gives it to the others
    assert await assignee_of(other.id) in [*plain, expert]


async def test_a_case_taken_before_routing_keeps_its_agent(db):
    team, agents = await staffed_team(2)
    taker = await available_agent([team])
    case = await make_case(team_id=team)
    await cases.assign_case(SYSTEM, case.id, AssignIn(assignee_id=taker))
    assert await route_case(case.id)
    assert await assignee_of(case.id) == taker
    assert (await routing.get_team_routing(SYSTEM, team)).last_agent_id is None
    assert agents  # the team could have taken it


async def test_a_manual_team_leaves_the_case_in_its_queue(db):
    team, _ = await staffed_team(2, Strategy.MANUAL)
    case = await make_case(team_id=team)
    await route_case(case.id)
    assert await assignee_of(case.id) is None
