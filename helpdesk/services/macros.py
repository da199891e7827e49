"""Macros (canned replies): stored texts with placeholders that agents put into replies.

Every member of staff who works cases may list and use them; managers and
admins create, change and delete them (:attr:`Action.MANAGE_MACROS`).
Placeholders are filled by :func:`render_macro`, which is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import MacroIn, MacroOut
from helpdesk.services import audit
from helpdesk.services.rows import as_utc
from helpdesk.tables import Macro

PLACEHOLDERS = ("customer_name", "case_number", "agent_name")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def render_macro(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each ``{{name}}`` whose name is in ``values`` replaced.

    Unknown placeholders stay as they are, so a typo is visible in the reply
    box rather than silently dropped. Replacement values are inserted as
    they are (never interpreted again).
    """

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(replace, body)


def _out(row: dict[str, Any]) -> MacroOut:
    return MacroOut(
        id=row["id"],
        name=row["name"],
        body=row["body"],
        created_by_id=row["created_by"],
        updated_at=as_utc(row["updated_at"]),  # type: ignore[arg-type]
    )


async def list_macros(principal: Principal) -> list[MacroOut]:
    """Every macro, by name (one query)."""
    require(principal, Action.WORK_CASES)
    rows = await Macro.select().order_by(Macro.name)
    return [_out(row) for row in rows]


async def get_macro(principal: Principal, macro_id: int) -> MacroOut:
    """One macro."""
    require(principal, Action.WORK_CASES)
    row = await Macro.select().where(Macro.id == macro_id).first()
    if row is None:
        raise NotFoundError(f"macro {macro_id} not found")
    return _out(row)


async def _ensure_name_free(name: str, macro_id: int | None = None) -> None:
    query = Macro.exists().where(Macro.name == name)
    if macro_id is not None:
        query = query.where(Macro.id != macro_id)
    if await query:
        raise ConflictError(f"a macro named {name!r} exists", field="name")


async def create_macro(principal: Principal, data: MacroIn) -> MacroOut:
    """Create a macro (managers and admins); names are unique."""
    require(principal, Action.MANAGE_MACROS)
    async with transaction():
        await _ensure_name_free(data.name)
        now = utcnow()
        rows = await Macro.insert(
            Macro(
                name=data.name,
                body=data.body,
                created_by=principal.id if principal.kind == "agent" else None,
                created_at=now,
                updated_at=now,
            )
        )
        macro_id = int(rows[0]["id"])
        await audit.record(principal, "macro.created", entity="macro", entity_id=macro_id)
    return await get_macro(principal, macro_id)


async def update_macro(principal: Principal, macro_id: int, data: MacroIn) -> MacroOut:
    """Replace a macro's name and text (managers and admins)."""
    require(principal, Action.MANAGE_MACROS)
    async with transaction():
        await get_macro(principal, macro_id)
        await _ensure_name_free(data.name, macro_id)
        await Macro.update(
            {Macro.name: data.name, Macro.body: data.body, Macro.updated_at: utcnow()}
        ).where(Macro.id == macro_id)
        await audit.record(principal, "macro.updated", entity="macro", entity_id=macro_id)
    return await get_macro(principal, macro_id)


async def delete_macro(principal: Principal, macro_id: int) -> None:
    """Delete a macro (managers and admins). Replies that used it keep their text."""
    require(principal, Action.MANAGE_MACROS)
    async with transaction():
        await get_macro(principal, macro_id)
        await Macro.delete().where(Macro.id == macro_id)
        await audit.record(principal, "macro.deleted", entity="macro", entity_id=macro_id)
