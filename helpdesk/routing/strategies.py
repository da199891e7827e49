"""Assignment strategies as pure choice functions.

Given the agents of a team (as :class:`Candidate` snapshots taken under the
team's routing lock), a strategy picks the agent for one case. Nothing here
reads or writes the database; :mod:`helpdesk.routing.assign` supplies the
snapshot and records the choice, so the choice is only as fresh as the
snapshot (the lock is what makes it safe under concurrency).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import msgspec

__all__ = [
    "Candidate",
    "Strategy",
    "choose_agent",
    "choose_least_loaded",
    "choose_round_robin",
    "eligible",
    "rotation",
    "with_one_more_case",
]


class Strategy(StrEnum):
    """How a team gives its cases to its agents."""

    MANUAL = "manual"  # cases wait in the queue for an agent to take them
    ROUND_ROBIN = "round_robin"  # in turn, by agent id, after the last one served
    LEAST_LOADED = "least_loaded"  # the fewest open cases; ties go in turn


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One agent as routing sees them at a moment.

    ``load`` counts the agent's open cases (new, open, pending, on hold) in
    every team; ``available`` is True when the agent is active and their
    availability is "available".
    """

    agent_id: int
    load: int = 0
    capacity: int = 10
    available: bool = True
    languages: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()

    @property
    def has_room(self) -> bool:
        """True when the agent may take one more case."""
        return self.available and self.load < self.capacity


def eligible(
    candidates: Sequence[Candidate], *, skill: str | None = None, language: str | None = None
) -> list[Candidate]:
    """The candidates who may take the case now.

    Only available agents below their capacity count, and only those with
    ``skill`` when one is needed (no skilled agent: nobody). With a
    ``language``, the agents who speak it are preferred; when none of them
    has room, any agent with room will do.
    """
    fit = [c for c in candidates if c.has_room and (not skill or skill in c.skills)]
    if language:
        speakers = [c for c in fit if language in c.languages]
        if speakers:
            return speakers
    return fit


def rotation(candidates: Sequence[Candidate], last_agent_id: int | None) -> list[Candidate]:
    """``candidates`` by agent id, starting with the first one after ``last_agent_id``."""
    ordered = sorted(candidates, key=lambda c: c.agent_id)
    if last_agent_id is None:
        return ordered
    after = [c for c in ordered if c.agent_id > last_agent_id]
    return after + [c for c in ordered if c.agent_id <= last_agent_id]


def choose_round_robin(
    candidates: Sequence[Candidate], last_agent_id: int | None
) -> Candidate | None:
    """The next agent in id order after ``last_agent_id`` (wrapping), or None."""
    ordered = rotation(candidates, last_agent_id)
    return ordered[0] if ordered else None


def choose_least_loaded(
    candidates: Sequence[Candidate], last_agent_id: int | None
) -> Candidate | None:
    """The agent with the fewest open cases; among equals, the next in turn."""
    ordered = rotation(candidates, last_agent_id)
    return min(ordered, key=lambda c: c.load) if ordered else None


def choose_agent(
    strategy: Strategy,
    candidates: Sequence[Candidate],
    *,
    last_agent_id: int | None = None,
    skill: str | None = None,
    language: str | None = None,
) -> Candidate | None:
    """The agent ``strategy`` gives the case to, or None (manual, or nobody has room)."""
    if strategy == Strategy.MANUAL:
        return None
    pool = eligible(candidates, skill=skill, language=language)
    if strategy == Strategy.ROUND_ROBIN:
        return choose_round_robin(pool, last_agent_id)
    return choose_least_loaded(pool, last_agent_id)


def with_one_more_case(candidates: Sequence[Candidate], agent_id: int) -> list[Candidate]:
    """``candidates`` after ``agent_id`` got one more case."""
    return [
        msgspec.structs.replace(c, load=c.load + 1) if c.agent_id == agent_id else c
        for c in candidates
    ]
