"""Choosing a policy, its targets per priority, and the escalation ladder (pure)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from helpdesk.domain import Channel, Priority
from helpdesk.sla.policies import (
    CaseSlaFacts,
    Escalation,
    Metric,
    PolicyConditions,
    PolicyRule,
    Targets,
    choose_policy,
    raised_priority,
)


def _policy(policy_id: int, position: int, **conditions: object) -> PolicyRule:
    return PolicyRule(
        id=policy_id,
        name=f"p{policy_id}",
        position=position,
        conditions=msgspec.convert(conditions, PolicyConditions),
        targets={Priority.HIGH: Targets(first_response=timedelta(hours=1))},
        warn_percent=80,
        escalation=Escalation(),
        calendar_id=None,
        version=1,
    )


def _facts(
    priority: str = "normal", org: int | None = None, channel: str = "email"
) -> CaseSlaFacts:
    return CaseSlaFacts(priority=priority, organization_id=org, channel=channel)


def test_the_first_matching_policy_by_position_then_id_wins() -> None:
    vip = _policy(3, 1, organization_ids=[7])
    chat = _policy(2, 2, channels=["chat"])
    fallback = _policy(1, 9)
    policies = [fallback, chat, vip]

    assert choose_policy(policies, _facts(org=7, channel="chat")) == vip
    assert choose_policy(policies, _facts(channel="chat")) == chat
    assert choose_policy(policies, _facts()) == fallback
    assert choose_policy([vip, chat], _facts()) is None


def test_every_non_empty_condition_must_match() -> None:
    policy = _policy(1, 1, priorities=["urgent", "high"], channels=[Channel.EMAIL])

    assert policy.matches(_facts("urgent", channel="email"))
    assert not policy.matches(_facts("urgent", channel="web"))
    assert not policy.matches(_facts("low", channel="email"))


def test_targets_are_per_priority_and_absent_ones_are_not_measured() -> None:
    policy = _policy(1, 1)

    assert policy.targets_for("high").of(Metric.FIRST_RESPONSE) == timedelta(hours=1)
    assert policy.targets_for("low") == Targets()
    assert policy.targets_for("nonsense") == Targets()


def test_a_target_must_be_between_a_second_and_ten_years() -> None:
    with pytest.raises(msgspec.ValidationError, match="between 1 second"):
        msgspec.convert({"resolution": "PT0S"}, Targets)
    assert msgspec.convert({"resolution": "PT4H"}, Targets).resolution == timedelta(hours=4)


@pytest.mark.parametrize(
    ("before", "after"),
    [("low", "normal"), ("normal", "high"), ("high", "urgent"), ("urgent", "urgent"), ("x", "x")],
)
def test_raising_a_priority_climbs_one_step(before: str, after: str) -> None:
    assert raised_priority(before) == after
