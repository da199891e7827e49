"""Row-to-Struct conversions and row value helpers, shared by the services and the
other domain packages (times as aware UTC, JSON columns, cases, messages, attachments)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from helpdesk.domain import case_reference
from helpdesk.schemas import AttachmentOut, CaseOut, MessageOut

__all__ = [
    "as_utc",
    "attachment_out",
    "case_out",
    "json_dict",
    "json_list",
    "message_out",
]


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as aware UTC (SQLite may hand back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


def case_out(row: dict[str, Any]) -> CaseOut:
    """A :class:`CaseOut` from a full ``cases`` row."""
    return CaseOut(
        id=row["id"],
        reference=case_reference(row["id"]),
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
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        updated_at=as_utc(row["updated_at"]),  # type: ignore[arg-type]
        first_response_at=as_utc(row["first_response_at"]),
        solved_at=as_utc(row["solved_at"]),
        closed_at=as_utc(row["closed_at"]),
    )


def attachment_out(row: dict[str, Any]) -> AttachmentOut:
    """An :class:`AttachmentOut` from an ``attachments`` row."""
    return AttachmentOut(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
    )


def message_out(row: dict[str, Any], attachments: list[AttachmentOut]) -> MessageOut:
    """A :class:`MessageOut` from a ``messages`` row and its attachments."""
    return MessageOut(
        id=row["id"],
        case_id=row["case"],
        kind=row["kind"],
        channel=row["channel"],
        author_agent_id=row["author_agent"],
        author_customer_id=row["author_customer"],
        body_text=row["body_text"],
        body_html=row["body_html"],
        external_id=row["external_id"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        attachments=attachments,
    )
