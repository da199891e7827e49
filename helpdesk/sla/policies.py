"""SLA policies as plain data: which cases a policy covers, its targets, its escalations.

Pure: no database. A policy's conditions are matched against the facts of a
case (priority, organization, channel); policies are tried by ``(position,
id)`` and the first match wins, like routing rules. A policy's targets are
given per priority, so one policy covers all priorities of, say, a key
account, and a priority change moves the case to other targets of the same
policy (or to another policy, when the conditions say so).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from helpdesk.domain import Channel, Priority

__all__ = [
    "DEFAULT_WARN_PERCENT",
    "CaseSlaFacts",
    "Escalation",
    "EscalationActions",
    "Metric",
    "PolicyConditions",
    "PolicyRule",
    "Targets",
    "choose_policy",
    "raised_priority",
]

DEFAULT_WARN_PERCENT = 80
_MAX_TARGET = timedelta(days=3650)

WarnPercent = Annotated[int, Meta(ge=1, le=99)]


class Metric(StrEnum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"  # case opened → first public reply
    NEXT_RESPONSE = "next_response"  # a customer's later message → the reply to it
    RESOLUTION = "resolution"  # case opened → solved (pending time excluded)


class PolicyConditions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Which cases a policy covers; an empty list matches anything, and every
    non-empty list must match."""

    priorities: tuple[Priority, ...] = ()
    organization_ids: tuple[int, ...] = ()
    channels: tuple[Channel, ...] = ()


class Targets(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Business time allowed for each metric (ISO 8601 durations in JSON, e.g.
    ``"PT4H"``); a metric left out is not measured."""

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None

    def __post_init__(self) -> None:
        for metric in Metric:
            value = getattr(self, metric.value)
            if value is not None and not timedelta(seconds=1) <= value <= _MAX_TARGET:
                raise ValueError(f"{metric.value}: a target must be between 1 second and 10 years")

    def of(self, metric: Metric) -> timedelta | None:
        """The target of ``metric`` (None: not measured)."""
        value: timedelta | None = getattr(self, metric.value)
        return value


class EscalationActions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What happens when a target is at risk or breached.

    ``notify``: the assignee and the managers of the case's team get the
    event on their own stream. ``raise_priority``: one step up (urgent
    stays urgent). ``move_to_team_id``: the case goes to that team's queue,
    unassigned, to be routed by that team's strategy.
    """

    notify: bool = True
    raise_priority: bool = False
    move_to_team_id: int | None = None


class Escalation(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The actions at the warning share and at the breach."""

    at_risk: EscalationActions = msgspec.field(default_factory=EscalationActions)
    breached: EscalationActions = msgspec.field(default_factory=EscalationActions)


class CaseSlaFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a policy's conditions look at."""

    priority: str
    organization_id: int | None
    channel: str


class PolicyRule(msgspec.Struct, frozen=True, kw_only=True):
    """A stored policy in the form the engine uses."""

    id: int
    name: str
    position: int
    conditions: PolicyConditions
    targets: dict[Priority, Targets]
    warn_percent: int
    escalation: Escalation
    calendar_id: int | None
    version: int

    def matches(self, facts: CaseSlaFacts) -> bool:
        """Whether the policy covers a case with these facts."""
        c = self.conditions
        return (
            (not c.priorities or facts.priority in c.priorities)
            and (not c.organization_ids or facts.organization_id in c.organization_ids)
            and (not c.channels or facts.channel in c.channels)
        )

    def targets_for(self, priority: str) -> Targets:
        """The targets for a priority (none when the policy gives none for it)."""
        try:
            return self.targets.get(Priority(priority), Targets())
        except ValueError:
            return Targets()


def choose_policy(policies: Iterable[PolicyRule], facts: CaseSlaFacts) -> PolicyRule | None:
    """The first policy (by position, then id) that covers the case, if any."""
    ordered = sorted(policies, key=lambda p: (p.position, p.id))
    return next((policy for policy in ordered if policy.matches(facts)), None)


_LADDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


def raised_priority(priority: str) -> str:
    """One step up the priority ladder; urgent (or an unknown value) stays."""
    try:
        index = _LADDER.index(Priority(priority))
    except ValueError:
        return priority
    return _LADDER[min(index + 1, len(_LADDER) - 1)].value
