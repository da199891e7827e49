"""The demo's routing rules ("quy tắc phân bổ"), through the routing services.

Rules are tried in order and the first match wins, so the billing rule comes
first: an urgent invoice question still goes to the billing team. No rule
names an assignee: the demo's teams assign by hand (and a later ``helpdesk
demo`` run with more cases replays its own assignments). Rules are found by
name, so a second run creates nothing.
"""

from __future__ import annotations

from helpdesk.domain import Priority
from helpdesk.policy import Principal
from helpdesk.routing import services as routing
from helpdesk.routing.rules import RuleActions, RuleConditions
from helpdesk.routing.schemas import RuleIn
from helpdesk.routing.tables import RoutingRule

BILLING_RULE = "Hoá đơn, thanh toán, hoàn tiền → nhóm Thanh toán"
_BILLING_WORDS = [
    "hoá đơn", "VAT", "thanh toán", "hoàn tiền", "trừ tiền", "gia hạn",
    "invoice", "receipt", "refund", "billing", "charged",
]  # fmt: skip
_URGENT_WORDS = [
    "khẩn cấp", "gấp", "sập", "không truy cập được", "không làm việc được",
    "urgent", "asap", "outage", "nobody can work",
]  # fmt: skip
_API_WORDS = ["API", "webhook", "tích hợp", "integration", "401", "token"]


def demo_rules(teams: dict[str, int]) -> list[RuleIn]:
    """The demo's rules, in order, for the team ids by key (``support``, ``billing``)."""
    return [
        RuleIn(
            name=BILLING_RULE,
            position=10,
            conditions=RuleConditions(keywords=_BILLING_WORDS),
            actions=RuleActions(team_id=teams["billing"], add_tags=["billing"]),
        ),
        RuleIn(
            name="Sự cố khẩn cấp → ưu tiên cao",
            position=20,
            # Only raises: an urgent case is never lowered to high.
            conditions=RuleConditions(
                keywords=_URGENT_WORDS, priorities=[Priority.LOW, Priority.NORMAL]
            ),
            actions=RuleActions(priority=Priority.HIGH, add_tags=["urgent"]),
        ),
        RuleIn(
            name="Tích hợp API, webhook → nhân viên có kỹ năng API",
            position=30,
            conditions=RuleConditions(keywords=_API_WORDS),
            actions=RuleActions(team_id=teams["support"], add_tags=["api"], required_skill="api"),
        ),
        RuleIn(
            name="Khách hàng nói tiếng Anh → nhãn english",
            position=40,
            conditions=RuleConditions(languages=["en"]),
            # The team's strategy prefers agents who speak the case's language; the tag
            # lets English-speaking agents filter their queue when teams assign by hand.
            actions=RuleActions(add_tags=["english"]),
        ),
    ]


async def ensure_rules(admin: Principal, teams: dict[str, int]) -> int:
    """Create the demo rules that do not exist yet (by name); how many were created.

    ``admin`` must be allowed to administer (the demo admin).
    """
    created = 0
    for rule in demo_rules(teams):
        if await RoutingRule.exists().where(RoutingRule.name == rule.name):
            continue
        await routing.create_rule(admin, rule)
        created += 1
    return created
