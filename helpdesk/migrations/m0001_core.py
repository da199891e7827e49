"""The core tables and their indexes."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from helpdesk.tables import (
    CORE_TABLES,
    Attachment,
    AuditEntry,
    Case,
    CaseTag,
    Customer,
    CustomerEmail,
    Message,
    OutboxEvent,
    TeamMember,
)


async def apply(engine: Engine[Any]) -> None:
    """Create the core tables and the indexes the list queries rely on."""
    for table in CORE_TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, OutboxEvent, ["stream", "seq"], unique=True)
    await create_index(engine, TeamMember, ["team", "agent"], unique=True)
    await create_index(engine, TeamMember, ["agent"])
    await create_index(engine, CaseTag, ["case", "tag"], unique=True)
    await create_index(engine, CaseTag, ["tag", "case"])
    await create_index(engine, CustomerEmail, ["customer"])
    await create_index(engine, Customer, ["organization"])
    await create_index(engine, Message, ["case", "id"])
    await create_index(engine, Attachment, ["message"])
    await create_index(engine, AuditEntry, ["case", "id"])
    await create_index(engine, Case, ["updated_at", "id"])
    for column in ("status", "team", "assignee", "customer", "organization", "priority"):
        await create_index(engine, Case, [column, "updated_at", "id"])
