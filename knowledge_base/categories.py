"""Categories of the knowledge base: a tree, managed by managers and admins.

Anyone may read the categories (their names are not secret); changing them
needs :attr:`~helpdesk.policy.Action.PUBLISH_ARTICLES`. The tree is small, so
it is read whole and walked in Python.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.services import audit
from knowledge_base.schemas import CategoryIn, CategoryOut, CategoryUpdate
from knowledge_base.tables import KbArticle, KbCategory

__all__ = [
    "create_category",
    "delete_category",
    "descendant_ids",
    "get_category",
    "list_categories",
    "update_category",
]


class _Category(msgspec.Struct, frozen=True, kw_only=True):
    """A ``kb_categories`` row (its timestamps are not read)."""

    id: int
    parent_id: int | None
    name_vi: str
    name_en: str | None
    position: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> _Category:
        """The category of a row from ``KbCategory.select()``."""
        return cls(
            id=row["id"],
            parent_id=row["parent"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            position=row["position"],
        )


async def _all_rows() -> list[_Category]:
    rows = await KbCategory.select().order_by(KbCategory.position, KbCategory.id)
    return [_Category.from_row(row) for row in rows]


def _tree(rows: list[_Category]) -> list[CategoryOut]:
    """The categories depth-first (each parent before its children), siblings
    by ``(position, id)``."""
    children: dict[int | None, list[_Category]] = {}
    known = {row.id for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in known else None
        children.setdefault(parent, []).append(row)
    ordered: list[CategoryOut] = []
    stack: list[tuple[_Category, int]] = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        ordered.append(
            CategoryOut(
                id=row.id,
                name_vi=row.name_vi,
                name_en=row.name_en,
                parent_id=row.parent_id,
                position=row.position,
                depth=depth,
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return ordered


def _descendants(rows: list[_Category], category_id: int) -> set[int]:
    """``category_id`` and every category below it."""
    found = {category_id}
    frontier = [category_id]
    while frontier:
        parent = frontier.pop()
        for row in rows:
            if row.parent_id == parent and row.id not in found:
                found.add(row.id)
                frontier.append(row.id)
    return found


async def descendant_ids(category_id: int) -> list[int]:
    """``category_id`` and the ids of every category below it (no permission check)."""
    return sorted(_descendants(await _all_rows(), category_id))


async def list_categories(principal: Principal | None) -> list[CategoryOut]:
    """Every category, depth-first: a parent comes before its children."""
    return _tree(await _all_rows())


async def get_category(principal: Principal | None, category_id: int) -> CategoryOut:
    """One category, with its depth in the tree."""
    for category in _tree(await _all_rows()):
        if category.id == category_id:
            return category
    raise NotFoundError(f"category {category_id} not found")


async def _check_parent(parent_id: int | None, moving: int | None = None) -> None:
    if parent_id is None:
        return
    rows = await _all_rows()
    if parent_id not in {row.id for row in rows}:
        raise ValidationError(f"parent category {parent_id} does not exist")
    if moving is not None and parent_id in _descendants(rows, moving):
        raise ValidationError("a category cannot be moved below itself")


async def create_category(principal: Principal, data: CategoryIn) -> CategoryOut:
    """Add a category (managers and admins)."""
    require(principal, Action.PUBLISH_ARTICLES)
    async with transaction():
        await _check_parent(data.parent_id)
        now = utcnow()
        rows = await KbCategory.insert(
            KbCategory(
                parent=data.parent_id,
                name_vi=data.name_vi,
                name_en=data.name_en,
                position=data.position,
                created_at=now,
                updated_at=now,
            )
        )
        category_id = int(rows[0]["id"])
        await audit.record(
            principal,
            "kb_category.created",
            entity="kb_category",
            entity_id=category_id,
            changes={"name_vi": data.name_vi, "parent_id": data.parent_id},
        )
    return await get_category(principal, category_id)


async def update_category(
    principal: Principal, category_id: int, data: CategoryUpdate
) -> CategoryOut:
    """Rename, move or reorder a category (managers and admins). Moving it
    below itself or one of its own subcategories is refused (422)."""
    require(principal, Action.PUBLISH_ARTICLES)
    async with transaction():
        await get_category(principal, category_id)
        values: dict[Any, Any] = {}
        changes: dict[str, Any] = {}
        if data.name_vi is not UNSET:
            values[KbCategory.name_vi] = changes["name_vi"] = data.name_vi
        if data.name_en is not UNSET:
            values[KbCategory.name_en] = changes["name_en"] = data.name_en
        if data.parent_id is not UNSET:
            await _check_parent(data.parent_id, moving=category_id)
            values[KbCategory.parent] = changes["parent_id"] = data.parent_id
        if data.position is not UNSET:
            values[KbCategory.position] = changes["position"] = data.position
        if values:
            values[KbCategory.updated_at] = utcnow()
            await KbCategory.update(values).where(KbCategory.id == category_id)
            await audit.record(
                principal,
                "kb_category.updated",
                entity="kb_category",
                entity_id=category_id,
                changes=changes,
            )
    return await get_category(principal, category_id)


async def delete_category(principal: Principal, category_id: int) -> None:
    """Remove an empty category (managers and admins). One that still has
    subcategories or articles is refused with 409: move them first."""
    require(principal, Action.PUBLISH_ARTICLES)
    async with transaction():
        category = await get_category(principal, category_id)
        if await KbCategory.exists().where(KbCategory.parent == category_id):
            raise ConflictError(f"category {category_id} has subcategories")
        if await KbArticle.exists().where(KbArticle.category == category_id):
            raise ConflictError(f"category {category_id} has articles")
        await KbCategory.delete().where(KbCategory.id == category_id)
        await audit.record(
            principal,
            "kb_category.deleted",
            entity="kb_category",
            entity_id=category_id,
            changes={"name_vi": category.name_vi},
        )
