"""Saved views: named case lists an agent keeps, for themselves or shared with the team.

A view's :class:`ViewDefinition` is a queue, the list's filters and an
order: anything the case list can show. Opening a view lists the cases of
that definition *for the one who opens it*: the queue is theirs ("mine" is
their own cases) and the permission policy's scope applies as to any list,
so sharing a view never shows anyone a case they could not see otherwise.

Everyone may keep personal views; sharing a view, and changing or deleting a
shared one, is for those allowed :data:`~helpdesk.policy.Action.SHARE_VIEWS`
(managers and admins). A personal view is seen and changed by its owner only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError
from helpdesk.policy import Action, Principal, may, require
from helpdesk.rows import json_dict, stamp
from helpdesk.schemas import CaseFilter, CaseOut, Page
from helpdesk.services import audit
from helpdesk.services.queues import CaseSort, Queue, list_queue
from helpdesk.tables import SavedView
from helpdesk.text import clean_line

__all__ = [
    "ViewDefinition",
    "ViewIn",
    "ViewOut",
    "ViewUpdate",
    "create_view",
    "delete_view",
    "get_view",
    "list_views",
    "open_view",
    "update_view",
]

ViewName = Annotated[str, Meta(min_length=1, max_length=100)]


class ViewDefinition(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a view lists: a queue, narrowed by filters, in an order."""

    queue: Queue = Queue.ALL
    filters: CaseFilter = msgspec.field(default_factory=CaseFilter)
    sort: CaseSort = CaseSort.UPDATED_DESC


class ViewIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new view."""

    name: ViewName
    shared: bool = False
    definition: ViewDefinition = msgspec.field(default_factory=ViewDefinition)


class ViewUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a view; what is not given stays."""

    name: ViewName | UnsetType = UNSET
    shared: bool | UnsetType = UNSET
    definition: ViewDefinition | UnsetType = UNSET


class ViewOut(msgspec.Struct, kw_only=True):
    """A view as its reader sees it; ``editable``: the reader may change it."""

    id: int
    name: str
    shared: bool
    owner_id: int
    owner_name: str
    definition: ViewDefinition
    editable: bool
    updated_at: datetime


def _may_edit(principal: Principal, owner_id: int, shared: bool) -> bool:
    if shared:
        return may(principal, Action.SHARE_VIEWS)
    return principal.id == owner_id


def _out(principal: Principal, row: dict[str, Any]) -> ViewOut:
    return ViewOut(
        id=row["id"],
        name=row["name"],
        shared=bool(row["shared"]),
        owner_id=row["owner"],
        owner_name=row["owner.name"],
        definition=msgspec.convert(json_dict(row["definition"]), ViewDefinition),
        editable=_may_edit(principal, row["owner"], bool(row["shared"])),
        updated_at=stamp(row["updated_at"]),
    )


_COLUMNS = (
    SavedView.id,
    SavedView.name,
    SavedView.shared,
    SavedView.owner,
    SavedView.owner.name,
    SavedView.definition,
    SavedView.updated_at,
)


async def list_views(principal: Principal) -> list[ViewOut]:
    """The reader's own views, then the shared views of others, each by name."""
    require(principal, Action.WORK_CASES)
    rows = await (
        SavedView.select(*_COLUMNS)
        .where((SavedView.owner == (principal.id or 0)) | (SavedView.shared == True))  # noqa: E712
        .order_by(SavedView.name)
    )
    views = [_out(principal, row) for row in rows]
    return sorted(views, key=lambda v: (v.owner_id != principal.id, v.name.casefold()))


async def _visible_row(principal: Principal, view_id: int) -> dict[str, Any]:
    row = await SavedView.select(*_COLUMNS).where(SavedView.id == view_id).first()
    if row is None or not (row["shared"] or row["owner"] == principal.id):
        raise NotFoundError(f"view {view_id} not found")
    return row


async def get_view(principal: Principal, view_id: int) -> ViewOut:
    """One view the reader may see (their own or a shared one)."""
    require(principal, Action.WORK_CASES)
    return _out(principal, await _visible_row(principal, view_id))


async def _ensure_name_free(owner_id: int, name: str, except_id: int | None = None) -> None:
    query = SavedView.select(SavedView.id).where(
        (SavedView.owner == owner_id) & (SavedView.name == name)
    )
    row = await query.first()
    if row is not None and row["id"] != except_id:
        raise ConflictError(f"you already have a view named {name!r}")


async def create_view(principal: Principal, data: ViewIn) -> ViewOut:
    """Keep a new view; a shared one needs :data:`Action.SHARE_VIEWS`."""
    require(principal, Action.WORK_CASES)
    if data.shared:
        require(principal, Action.SHARE_VIEWS)
    owner_id = principal.id
    if owner_id is None:
        raise NotFoundError("only a member of staff keeps views")
    name = clean_line(data.name)
    async with transaction():
        await _ensure_name_free(owner_id, name)
        now = utcnow()
        rows = await SavedView.insert(
            SavedView(
                owner=owner_id,
                name=name,
                shared=data.shared,
                definition=msgspec.to_builtins(data.definition),
                created_at=now,
                updated_at=now,
            )
        ).returning(SavedView.id)
        view_id = int(rows[0]["id"])
        await audit.record(principal, "view.created", entity="view", entity_id=view_id)
    return await get_view(principal, view_id)


async def update_view(principal: Principal, view_id: int, data: ViewUpdate) -> ViewOut:
    """Rename, (un)share or redefine a view the reader may edit."""
    require(principal, Action.WORK_CASES)
    async with transaction():
        row = await _visible_row(principal, view_id)
        if not _may_edit(principal, row["owner"], bool(row["shared"])):
            require(principal, Action.SHARE_VIEWS)
        values: dict[Any, Any] = {SavedView.updated_at: utcnow()}
        if data.name is not UNSET:
            values[SavedView.name] = clean_line(data.name)
            await _ensure_name_free(row["owner"], values[SavedView.name], except_id=view_id)
        if data.shared is not UNSET:
            if data.shared != bool(row["shared"]):
                require(principal, Action.SHARE_VIEWS)
            values[SavedView.shared] = data.shared
        if data.definition is not UNSET:
            values[SavedView.definition] = msgspec.to_builtins(data.definition)
        await SavedView.update(values).where(SavedView.id == view_id)
        await audit.record(principal, "view.updated", entity="view", entity_id=view_id)
    return await get_view(principal, view_id)


async def delete_view(principal: Principal, view_id: int) -> None:
    """Delete a view the reader may edit."""
    require(principal, Action.WORK_CASES)
    async with transaction():
        row = await _visible_row(principal, view_id)
        if not _may_edit(principal, row["owner"], bool(row["shared"])):
            require(principal, Action.SHARE_VIEWS)
        await SavedView.delete().where(SavedView.id == view_id)
        await audit.record(principal, "view.deleted", entity="view", entity_id=view_id)


async def open_view(
    principal: Principal, view_id: int, *, cursor: str | None = None, limit: int = 50
) -> tuple[ViewOut, Page[CaseOut]]:
    """A view and one page of its cases, as the reader may see them."""
    view = await get_view(principal, view_id)
    definition = view.definition
    page = await list_queue(
        principal,
        definition.queue,
        definition.filters,
        cursor=cursor,
        limit=limit,
        sort=definition.sort,
    )
    return view, page
