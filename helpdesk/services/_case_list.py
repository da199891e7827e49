"""The case list: filters, permission scope and keyset pagination."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Select

from helpdesk.domain import parse_case_reference
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal, case_scope
from helpdesk.schemas import CaseFilter, CaseOut, Page
from helpdesk.services._convert import as_utc, case_out
from helpdesk.tables import Case, CaseTag
from helpdesk.text import fold

MAX_PAGE_SIZE = 500


def encode_cursor(updated_at: datetime, case_id: int) -> str:
    """The opaque cursor that continues a list after the case ``(updated_at, id)``."""
    stamp = as_utc(updated_at)
    assert stamp is not None
    raw = f"{stamp.isoformat()}|{case_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The ``(updated_at, id)`` of a cursor; :class:`ValidationError` when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, case_id = raw.split("|")
        moment = as_utc(datetime.fromisoformat(stamp))
        assert moment is not None
        last_id = int(case_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError("invalid cursor") from exc
    if not 0 <= last_id <= 2**31 - 1:  # ids are 32-bit; a larger one fails in the driver
        raise ValidationError("invalid cursor")
    return moment, last_id


def like_pattern(text: str) -> str | None:
    """A ``LIKE … ESCAPE '\\'`` pattern matching folded ``text`` anywhere, or None if empty."""
    needle = fold(text)
    if not needle:
        return None
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def apply_filters(query: Select[Any], filters: CaseFilter) -> Select[Any]:
    """``query`` narrowed by every filter that is set."""
    if filters.status:
        query = query.where(Case.status.is_in([str(s) for s in filters.status]))
    if filters.priority:
        query = query.where(Case.priority.is_in([str(p) for p in filters.priority]))
    if filters.assignee_id is not None:
        query = query.where(
            Case.assignee.is_null()
            if filters.assignee_id == 0
            else Case.assignee == filters.assignee_id
        )
    if filters.team_id is not None:
        query = query.where(
            Case.team.is_null() if filters.team_id == 0 else Case.team == filters.team_id
        )
    if filters.customer_id is not None:
        query = query.where(Case.customer == filters.customer_id)
    if filters.organization_id is not None:
        query = query.where(Case.organization == filters.organization_id)
    if filters.tag:
        query = query.where(
            Case.id.is_in(
                CaseTag.select(CaseTag.case).where(CaseTag.tag == filters.tag.strip().lower())
            )
        )
    if filters.text:
        text = filters.text.strip().upper().lstrip("#")
        reference = parse_case_reference(text) if text.startswith("HD-") else None
        pattern = like_pattern(filters.text)
        if reference is not None:
            query = query.where(Case.id == reference)
        elif pattern is not None:
            query = query.where(WhereRaw("search_text LIKE {} ESCAPE '\\'", pattern))
    return query


async def list_cases(
    principal: Principal, filters: CaseFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[CaseOut]:
    """Cases the principal may see, most recently updated first, one page.

    Keyset pagination on ``(updated_at, id)``: a page costs one query however
    deep it is, and walking the pages of an unchanging list yields every case
    exactly once. A case updated while paging may appear twice or be skipped;
    that is the usual trade of keyset paging on a changing sort key.
    ``limit`` must be at least 1 and is capped at 500. A cursor that was not
    made by this function raises :class:`ValidationError`.
    """
    if limit < 1:
        raise ValidationError("limit must be at least 1")
    limit = min(limit, MAX_PAGE_SIZE)
    query = Case.select()
    scope = case_scope(principal).where()
    if scope is not None:
        query = query.where(scope)
    query = apply_filters(query, filters)
    if cursor:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(
            # A row-value comparison: both engines use it as an index bound.
            WhereRaw("(updated_at, id) < ({}, {})", stamp, last_id)
        )
    rows = await query.order_by(Case.updated_at, Case.id, ascending=False).limit(limit + 1)
    items = [case_out(r) for r in rows[:limit]]
    next_cursor = (
        encode_cursor(rows[limit - 1]["updated_at"], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return Page(items=items, next_cursor=next_cursor)
