"""Routing rules as pure data and the pure matcher.

A rule has conditions and actions, both msgspec Structs that reject unknown
keys. Rules are tried in ``(position, id)`` order and the first enabled rule
whose conditions all hold wins (:func:`first_matching_rule`). Nothing here
touches the database: :mod:`helpdesk.routing.assign` gathers the
:class:`CaseFacts` and applies the winner's :class:`RuleActions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Annotated

import msgspec
from msgspec import Meta

from helpdesk.domain import Channel, Priority
from helpdesk.schemas import Id, Language, Tag
from helpdesk.text import fold

Keyword = Annotated[str, Meta(min_length=1, max_length=100)]
RuleName = Annotated[str, Meta(min_length=1, max_length=200)]

__all__ = [
    "CaseFacts",
    "Keyword",
    "Rule",
    "RuleActions",
    "RuleConditions",
    "RuleName",
    "first_matching_rule",
    "keyword_in",
    "matches",
]


class RuleConditions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What a case must look like for a rule to fire.

    Every condition that is given must hold (AND); inside one condition any
    listed value will do (OR). A rule without conditions matches every case.
    Keywords are looked for as whole words in the subject and the first
    message, ignoring case and Vietnamese diacritics ("hoa don" finds
    "Hóa đơn"); tags match the case's tags as given when the case opened.
    """

    channels: Annotated[list[Channel], Meta(max_length=10)] = []
    mailbox_ids: Annotated[list[Id], Meta(max_length=100)] = []
    organization_ids: Annotated[list[Id], Meta(max_length=500)] = []
    languages: Annotated[list[Language], Meta(max_length=2)] = []
    keywords: Annotated[list[Keyword], Meta(max_length=100)] = []
    tags: Annotated[list[Tag], Meta(max_length=50)] = []
    priorities: Annotated[list[Priority], Meta(max_length=4)] = []


class RuleActions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What a rule does to the case it fired on.

    ``team_id`` replaces the case's team; ``add_tags`` are added to its tags;
    ``assignee_id`` gives the case to that agent directly (if active), else
    the team's strategy chooses, among agents with ``required_skill`` when
    one is given.
    """

    team_id: Id | None = None
    priority: Priority | None = None
    add_tags: Annotated[list[Tag], Meta(max_length=50)] = []
    assignee_id: Id | None = None
    required_skill: Tag | None = None


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A stored routing rule."""

    id: int
    name: str
    position: int
    enabled: bool = True
    conditions: RuleConditions = msgspec.field(default_factory=RuleConditions)
    actions: RuleActions = msgspec.field(default_factory=RuleActions)


class CaseFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules may look at in a new case."""

    channel: str
    mailbox_id: int | None = None
    organization_id: int | None = None
    language: str = ""
    subject: str = ""
    body: str = ""
    tags: frozenset[str] = frozenset()
    priority: str = Priority.NORMAL


def keyword_in(keyword: str, folded_text: str) -> bool:
    """True when ``keyword`` (folded here) occurs as whole words in ``folded_text``.

    ``folded_text`` must already be :func:`helpdesk.text.fold`-ed. An empty
    keyword (after folding) matches nothing.
    """
    needle = fold(keyword)
    if not needle:
        return False
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded_text) is not None


def _any(values: Iterable[object], present: object) -> bool:
    return any(value == present for value in values)


def _matches(conditions: RuleConditions, facts: CaseFacts, folded_text: str) -> bool:
    c = conditions
    checks = (
        not c.channels or _any(c.channels, facts.channel),
        not c.mailbox_ids or _any(c.mailbox_ids, facts.mailbox_id),
        not c.organization_ids or _any(c.organization_ids, facts.organization_id),
        not c.languages or _any(c.languages, facts.language),
        not c.priorities or _any(c.priorities, facts.priority),
        not c.tags or any(tag.strip().lower() in facts.tags for tag in c.tags),
    )
    if not all(checks):
        return False
    return not c.keywords or any(keyword_in(k, folded_text) for k in c.keywords)


def matches(conditions: RuleConditions, facts: CaseFacts) -> bool:
    """True when the case described by ``facts`` meets every given condition."""
    return _matches(conditions, facts, fold(f"{facts.subject}\n{facts.body}"))


def first_matching_rule(rules: Sequence[Rule], facts: CaseFacts) -> Rule | None:
    """The enabled rule that comes first in ``(position, id)`` order and matches, or None.

    The order of ``rules`` as given does not matter; disabled rules never match.
    """
    folded_text = fold(f"{facts.subject}\n{facts.body}")
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.enabled and _matches(rule.conditions, facts, folded_text):
            return rule
    return None
