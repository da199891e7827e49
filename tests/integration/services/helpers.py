"""Readers of stored state, for assertions in the service tests."""

from __future__ import annotations

from helpdesk.tables import Attachment, Case, CaseTag, Customer, Message, OutboxEvent


async def outbox(stream: str) -> list[tuple[int, str]]:
    """``(seq, type)`` of every stored event of ``stream``, in seq order."""
    rows = (
        await OutboxEvent.select(OutboxEvent.seq, OutboxEvent.type)
        .where(OutboxEvent.stream == stream)
        .order_by(OutboxEvent.seq)
    )
    return [(r["seq"], r["type"]) for r in rows]


async def outbox_count() -> int:
    return int(await OutboxEvent.count())


async def row_counts() -> dict[str, int]:
    """How many rows the tables a case touches hold."""
    tables = (Case, CaseTag, Customer, Message, Attachment, OutboxEvent)
    return {t._meta.tablename: int(await t.count()) for t in tables}


async def case_tags(case_id: int) -> list[str]:
    rows = await CaseTag.select(CaseTag.tag).where(CaseTag.case == case_id).order_by(CaseTag.tag)
    return [r["tag"] for r in rows]
