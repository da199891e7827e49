"""Row-to-Struct conversions shared by the services and the other domain
packages: cases, messages and attachments as the API shows them.

The row value helpers (:func:`as_utc`, :func:`json_list`, :func:`json_dict`)
live in :mod:`helpdesk.rows` with the typed rows; they are re-exported here
for the modules that import them from this one.
"""

from __future__ import annotations

from typing import Any

from helpdesk.domain import case_reference
from helpdesk.rows import CaseRow, MessageRow, as_utc, json_dict, json_list
from helpdesk.schemas import AttachmentOut, CaseOut, MessageOut

__all__ = [
    "as_utc",
    "attachment_out",
    "case_out",
    "json_dict",
    "json_list",
    "message_out",
]


def case_out(case: CaseRow) -> CaseOut:
    """The :class:`CaseOut` of a case row."""
    return CaseOut(
        id=case.id,
        reference=case_reference(case.id),
        subject=case.subject,
        status=case.status,  # type: ignore[arg-type]  # a Status value, not checked again
        priority=case.priority,  # type: ignore[arg-type]  # a Priority value
        channel=case.channel,  # type: ignore[arg-type]  # a Channel value
        customer_id=case.customer_id,
        organization_id=case.organization_id,
        team_id=case.team_id,
        assignee_id=case.assignee_id,
        tags=case.tags,
        language=case.language,
        version=case.version,
        merged_into_id=case.merged_into_id,
        created_at=case.created_at,
        updated_at=case.updated_at,
        first_response_at=case.first_response_at,
        solved_at=case.solved_at,
        closed_at=case.closed_at,
    )


def attachment_out(row: dict[str, Any]) -> AttachmentOut:
    """An :class:`AttachmentOut` from an ``attachments`` row (it goes straight
    out: no typed row in between)."""
    return AttachmentOut(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
    )


def message_out(message: MessageRow, attachments: list[AttachmentOut]) -> MessageOut:
    """The :class:`MessageOut` of a message row and its attachments."""
    return MessageOut(
        id=message.id,
        case_id=message.case_id,
        kind=message.kind,  # type: ignore[arg-type]  # a MessageKind value
        channel=message.channel,  # type: ignore[arg-type]  # a Channel value
        author_agent_id=message.author_agent_id,
        author_customer_id=message.author_customer_id,
        body_text=message.body_text,
        body_html=message.body_html,
        external_id=message.external_id,
        created_at=message.created_at,
        attachments=attachments,
    )
