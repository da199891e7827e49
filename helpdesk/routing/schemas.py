"""msgspec Structs in and out of the routing services (and the API).

Update Structs follow :mod:`helpdesk.schemas`: a field left out is not changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.routing.rules import RuleActions, RuleConditions, RuleName
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import Tag

Position = Annotated[int, Meta(ge=0, le=1_000_000)]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new routing rule; without a ``position`` it goes after every other rule."""

    name: RuleName
    position: Position | None = None
    enabled: bool = True
    conditions: RuleConditions = msgspec.field(default_factory=RuleConditions)
    actions: RuleActions


class RuleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a rule; ``conditions`` and ``actions`` are replaced whole."""

    name: RuleName | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    conditions: RuleConditions | UnsetType = UNSET
    actions: RuleActions | UnsetType = UNSET


class RuleOut(msgspec.Struct, kw_only=True):
    """A stored routing rule."""

    id: int
    name: str
    position: int
    enabled: bool
    conditions: RuleConditions
    actions: RuleActions
    created_at: datetime
    updated_at: datetime


class TeamRoutingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a team assigns its cases.

    ``required_skill``: only agents with this skill get the team's cases (a
    rule may ask for another). ``prefer_case_language``: a case goes to an
    agent who speaks its language when one has room. ``requeue_on_unavailable``:
    when an agent stops being available, their open cases of this team go
    back to the queue.
    """

    strategy: Strategy = Strategy.MANUAL
    required_skill: Tag | None = None
    prefer_case_language: bool = True
    requeue_on_unavailable: bool = False


class TeamRoutingOut(msgspec.Struct, kw_only=True):
    """A team's assignment settings and its round-robin position."""

    team_id: int
    strategy: Strategy
    required_skill: str | None
    prefer_case_language: bool
    requeue_on_unavailable: bool
    last_agent_id: int | None
