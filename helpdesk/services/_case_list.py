"""The case list: filters, permission scope, sort orders and keyset pagination."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.count import Count
from piccolo.query.methods.select import Select

from helpdesk.db import is_postgres
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal, case_scope, may_read_notes
from helpdesk.rows import CaseRow
from helpdesk.schemas import CaseFilter, CaseOut, Page
from helpdesk.services.rows import as_utc, case_out
from helpdesk.services.search import match_where, parse_search
from helpdesk.tables import Case, CaseTag

MAX_PAGE_SIZE = 500

Q = TypeVar("Q", Select[Any], Count)


class CaseSort(StrEnum):
    """Orders of the case list; each is a keyset on ``(column, id)``."""

    UPDATED_DESC = "-updated"  # most recently updated first (the default)
    UPDATED_ASC = "updated"  # waiting longest since the last change first
    CREATED_DESC = "-created"  # newest first
    CREATED_ASC = "created"  # oldest first

    @property
    def column(self) -> str:
        """The timestamp column the order is on."""
        return (
            "created_at" if self in (CaseSort.CREATED_DESC, CaseSort.CREATED_ASC) else "updated_at"
        )

    @property
    def descending(self) -> bool:
        """True for the newest-first orders."""
        return self.value.startswith("-")


def encode_cursor(stamp: datetime, case_id: int, sort: CaseSort = CaseSort.UPDATED_DESC) -> str:
    """The opaque cursor that continues a list after the case ``(stamp, id)``.

    ``stamp`` is the value of the sort's column. Cursors of the default order
    keep their original two-part form, so cursors handed out before sort
    orders existed stay valid.
    """
    moment = as_utc(stamp)
    assert moment is not None
    raw = f"{moment.isoformat()}|{case_id}"
    if sort != CaseSort.UPDATED_DESC:
        raw += f"|{sort.value}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: CaseSort = CaseSort.UPDATED_DESC) -> tuple[datetime, int]:
    """The ``(stamp, id)`` of a cursor; :class:`ValidationError` when it is not
    one, or was made for another sort order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, case_id, *rest = raw.split("|")
        made_for = CaseSort(rest[0]) if rest else CaseSort.UPDATED_DESC
        moment = as_utc(datetime.fromisoformat(stamp))
        assert moment is not None
        last_id = int(case_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError("invalid cursor") from exc
    if len(rest) > 1 or made_for != sort:
        raise ValidationError("invalid cursor")
    if not 0 <= last_id <= 2**31 - 1:  # ids are 32-bit; a larger one fails in the driver
        raise ValidationError("invalid cursor")
    return moment, last_id


def apply_filters(query: Q, filters: CaseFilter, *, notes: bool = False) -> Q:
    """``query`` narrowed by every filter that is set.

    The text filter finds what the case search finds (see
    :mod:`helpdesk.services.search`); internal notes count only with ``notes``.
    """
    if filters.status:
        query = query.where(Case.status.is_in([str(s) for s in filters.status]))
    if filters.priority:
        query = query.where(Case.priority.is_in([str(p) for p in filters.priority]))
    if filters.channel:
        query = query.where(Case.channel.is_in([str(c) for c in filters.channel]))
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
    if filters.team_ids is not None:
        query = query.where(Case.team.is_in(sorted(filters.team_ids) or [-1]))
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
        postgres = is_postgres(Case._meta.db)
        where = match_where(parse_search(filters.text), notes=notes, postgres=postgres)
        if where is not None:
            query = query.where(where)
    return query


def _scoped(query: Q, principal: Principal, filters: CaseFilter) -> Q:
    scope = case_scope(principal).where()
    if scope is not None:
        query = query.where(scope)
    return apply_filters(query, filters, notes=may_read_notes(principal))


async def list_cases(
    principal: Principal,
    filters: CaseFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
    sort: CaseSort = CaseSort.UPDATED_DESC,
) -> Page[CaseOut]:
    """Cases the principal may see, in ``sort`` order (default: most recently
    updated first), one page.

    Keyset pagination on ``(column, id)``: a page costs one query however
    deep it is, and walking the pages of an unchanging list yields every case
    exactly once. A case updated while paging may appear twice or be skipped;
    that is the usual trade of keyset paging on a changing sort key.
    ``limit`` must be at least 1 and is capped at 500. A cursor that was not
    made by this function for the same ``sort`` raises :class:`ValidationError`.
    """
    if limit < 1:
        raise ValidationError("limit must be at least 1")
    limit = min(limit, MAX_PAGE_SIZE)
    query = _scoped(Case.select(), principal, filters)
    column = sort.column
    if cursor:
        stamp, last_id = decode_cursor(cursor, sort)
        # A row-value comparison: both engines use it as an index bound.
        operator = "<" if sort.descending else ">"
        query = query.where(WhereRaw(f"({column}, id) {operator} ({{}}, {{}})", stamp, last_id))
    order = Case.created_at if column == "created_at" else Case.updated_at
    rows = await query.order_by(order, Case.id, ascending=not sort.descending).limit(limit + 1)
    items = [case_out(CaseRow.from_row(r)) for r in rows[:limit]]
    next_cursor = (
        encode_cursor(rows[limit - 1][column], rows[limit - 1]["id"], sort)
        if len(rows) > limit
        else None
    )
    return Page(items=items, next_cursor=next_cursor)


async def count_cases(principal: Principal, filters: CaseFilter) -> int:
    """How many cases the principal may see match ``filters`` (one query)."""
    return int(await _scoped(Case.count(), principal, filters))
