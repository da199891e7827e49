"""The demo's content beyond cases: knowledge base, macros, routing rules,
satisfaction answers and live chats (one call from :func:`helpdesk.demo.load_demo`).

Runs after the cases are played, so the rules do not change the planned
cases of this run, and the surveys find the solves to rate. Each part finds
what exists by a unique name, address or id, so a second run creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.demo._chats import ensure_chats
from helpdesk.demo._kb import ensure_knowledge_base
from helpdesk.demo._load import World
from helpdesk.demo._macros import ensure_macros
from helpdesk.demo._people import STAFF
from helpdesk.demo._rules import ensure_rules
from helpdesk.demo._surveys import ensure_surveys
from helpdesk.domain import Role


@dataclass(frozen=True)
class ContentResult:
    """How many of each part were created by this run."""

    categories: int
    articles: int
    macros: int
    rules: int
    surveys: int
    chats: int


async def ensure_demo_content(world: World, secret_key: str, now: datetime) -> ContentResult:
    """Create the demo content that does not exist yet; articles and macros by
    the demo manager, rules by the demo admin, answers by each case's customer."""
    manager = world.principals[next(i for i, m in enumerate(STAFF) if m.role == Role.MANAGER)]
    admin = world.principals[next(i for i, m in enumerate(STAFF) if m.role == Role.ADMIN)]
    kb = await ensure_knowledge_base(manager, now)
    return ContentResult(
        categories=kb.categories_created,
        articles=kb.articles_created,
        macros=await ensure_macros(manager),
        rules=await ensure_rules(admin, world.teams),
        surveys=await ensure_surveys(now),
        chats=await ensure_chats(secret_key, world.teams, world.principals),
    )
