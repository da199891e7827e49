"""Typed rows of the core tables, and the helpers that read row values.

A piccolo ``select()`` hands back ``dict[str, Any]``; a function that passes
such a dict to another module hides its data from ``mypy --strict``. The
Structs here are what the core hands on instead: each is built once, where
the row is read, by its ``from_row`` constructor, which also normalises the
values the two engines return differently (timestamps as aware UTC, JSON
columns whether the driver decoded them or not).

Each ``from_row`` expects the columns its Struct names (more are ignored):
a row selected with fewer columns raises :class:`KeyError`, it is never
filled with guesses. Foreign keys are named ``<column>_id``, as in the API
Structs of :mod:`helpdesk.schemas`. Enumerated columns stay ``str`` (the
``StrEnum`` values of :mod:`helpdesk.domain` compare equal to them).

The row Structs of the other packages live with their tables' owners: the
SLA timer row in :mod:`helpdesk.sla._store`, the email channel's outbound
mail and sending mailbox in :mod:`helpdesk.channels.email._rows`, the
knowledge base's article row in :mod:`knowledge_base._rows`. A module that
reads a few columns for its own use keeps a small Struct of its own next to
the query (e.g. :mod:`helpdesk.routing.assign`), so that every query still
selects only what it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

__all__ = [
    "CaseRow",
    "MessageRow",
    "as_utc",
    "json_dict",
    "json_list",
    "stamp",
]


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as aware UTC (SQLite may hand back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamp(value: datetime | None) -> datetime:
    """A non-null timestamp column as aware UTC; :class:`ValueError` for a null."""
    moment = as_utc(value)
    if moment is None:
        raise ValueError("a non-null timestamp column was null")
    return moment


def json_list(value: Any) -> list[Any]:
    """A JSON column's list value, whether the driver decoded it or not."""
    if isinstance(value, str):
        decoded = msgspec.json.decode(value)
        return decoded if isinstance(decoded, list) else []
    return list(value or [])


def json_dict(value: Any) -> dict[str, Any]:
    """A JSON column's object value, whether the driver decoded it or not."""
    if isinstance(value, str):
        decoded = msgspec.json.decode(value)
        return decoded if isinstance(decoded, dict) else {}
    return dict(value or {})


class CaseRow(msgspec.Struct, frozen=True, kw_only=True):
    """A whole ``cases`` row (but ``search_text``, which only the list filter reads)."""

    id: int
    subject: str
    status: str
    priority: str
    channel: str
    customer_id: int
    organization_id: int | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    language: str
    version: int
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    routed_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CaseRow:
        """The case of a row from ``Case.select()`` (or ``RETURNING *``)."""
        return cls(
            id=row["id"],
            subject=row["subject"],
            status=row["status"],
            priority=row["priority"],
            channel=row["channel"],
            customer_id=row["customer"],
            organization_id=row["organization"],
            team_id=row["team"],
            assignee_id=row["assignee"],
            tags=json_list(row["tags"]),
            language=row["language"],
            version=row["version"],
            merged_into_id=row["merged_into"],
            created_at=stamp(row["created_at"]),
            updated_at=stamp(row["updated_at"]),
            first_response_at=as_utc(row["first_response_at"]),
            solved_at=as_utc(row["solved_at"]),
            closed_at=as_utc(row["closed_at"]),
            routed_at=as_utc(row["routed_at"]),
        )


class MessageRow(msgspec.Struct, frozen=True, kw_only=True):
    """A ``messages`` row, without ``meta`` (channel details that only the
    modules that wrote them read, from their own query)."""

    id: int
    case_id: int
    kind: str
    channel: str
    author_agent_id: int | None
    author_customer_id: int | None
    body_text: str
    body_html: str
    external_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MessageRow:
        """The message of a row from ``Message.select()``."""
        return cls(
            id=row["id"],
            case_id=row["case"],
            kind=row["kind"],
            channel=row["channel"],
            author_agent_id=row["author_agent"],
            author_customer_id=row["author_customer"],
            body_text=row["body_text"],
            body_html=row["body_html"],
            external_id=row["external_id"],
            created_at=stamp(row["created_at"]),
        )
