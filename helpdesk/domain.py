"""Vocabulary of the domain: statuses, priorities, channels, roles, and the case state machine."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a case is in its life."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(StrEnum):
    """How urgent a case is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    """Where a case or message came from."""

    EMAIL = "email"
    WEB = "web"
    CHAT = "chat"
    API = "api"
    PHONE = "phone"  # entered by an agent for a customer who phoned
    WALK_IN = "walk_in"  # entered by an agent for a customer who came in person


class MessageKind(StrEnum):
    """Who wrote a message, and who may see it."""

    CUSTOMER = "customer"
    REPLY = "reply"
    NOTE = "note"


class Role(StrEnum):
    """What a member of staff may do; each role may do all that the one before may."""

    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


class Availability(StrEnum):
    """Whether routing may give an agent new cases."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


# Allowed status changes. "closed" is final: a customer writing into a closed
# case opens a follow-up case instead (the channels decide that).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}
    ),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    """True when a case may move from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


def case_reference(case_id: int) -> str:
    """The human-friendly case number, e.g. ``HD-000123``."""
    return f"HD-{case_id:06d}"


def parse_case_reference(text: str) -> int | None:
    """The case id in ``HD-000123`` (or ``123``), or None if it is not one.

    Only ASCII digits count: ``"²"`` or ``"٣"`` are digits to Python but not
    case numbers.
    """
    value = text.strip().upper().removeprefix("#").removeprefix("HD-")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None
