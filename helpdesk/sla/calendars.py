"""Stored business calendars, for people: administrators change them, managers read them.

The calendar itself (hours, holidays, make-up days) is the pure
:class:`helpdesk.sla.calendar.BusinessCalendar`; this module stores, names,
validates and audits it. Every change is one transaction. A changed calendar
retargets, after the commit, the open cases whose policies use it.
"""

from __future__ import annotations

from typing import Any

from helpdesk.clock import utcnow
from helpdesk.db import current_engine, is_postgres, transaction
from helpdesk.errors import ConflictError, NotFoundError
from helpdesk.policy import Action, Principal, require
from helpdesk.services import audit
from helpdesk.services.rows import as_utc, json_dict
from helpdesk.sla._refresh import refresh_cases_later
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.schemas import CalendarIn, CalendarOut
from helpdesk.sla.tables import SlaCalendar, SlaPolicy

__all__ = [
    "calendar_users",
    "create_calendar",
    "delete_calendar",
    "list_calendars",
    "merge_calendar",
    "merge_definition",
    "update_calendar",
]


def _calendar_out(row: dict[str, Any]) -> CalendarOut:
    return CalendarOut(
        id=row["id"],
        name=row["name"],
        definition=json_dict(row["definition"]),
        created_at=as_utc(row["created_at"]) or utcnow(),
        updated_at=as_utc(row["updated_at"]) or utcnow(),
    )


async def _calendar_row(calendar_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = SlaCalendar.select().where(SlaCalendar.id == calendar_id)
    if lock and is_postgres(current_engine()):
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFoundError(f"calendar {calendar_id} not found")
    return row


async def _unique_calendar_name(name: str, own_id: int | None = None) -> None:
    row = await SlaCalendar.select(SlaCalendar.id).where(SlaCalendar.name == name).first()
    if row is not None and row["id"] != own_id:
        raise ConflictError(f"a calendar named {name!r} exists already")


async def create_calendar(principal: Principal, data: CalendarIn) -> CalendarOut:
    """Store a business calendar (admins); an invalid one is a ValidationError
    naming the field."""
    require(principal, Action.ADMINISTER)
    definition = BusinessCalendar.from_dict(data.definition).to_dict()
    async with transaction():
        await _unique_calendar_name(data.name)
        now = utcnow()
        rows = await SlaCalendar.insert(
            SlaCalendar(name=data.name, definition=definition, created_at=now, updated_at=now)
        )
        calendar_id = int(rows[0]["id"])
        await audit.record(
            principal, "sla_calendar.created", entity="sla_calendar", entity_id=calendar_id
        )
    return _calendar_out(await _calendar_row(calendar_id))


async def list_calendars(principal: Principal) -> list[CalendarOut]:
    """Every stored calendar (managers and admins)."""
    require(principal, Action.VIEW_REPORTS)
    rows = await SlaCalendar.select().order_by(SlaCalendar.name)
    return [_calendar_out(row) for row in rows]


async def _write(
    principal: Principal, calendar_id: int, name: str, definition: dict[str, Any]
) -> None:
    """Inside a transaction: store the (validated) calendar, audit, retarget later."""
    await _unique_calendar_name(name, calendar_id)
    await SlaCalendar.update(
        {
            SlaCalendar.name: name,
            SlaCalendar.definition: definition,
            SlaCalendar.updated_at: utcnow(),
        }
    ).where(SlaCalendar.id == calendar_id)
    await audit.record(
        principal, "sla_calendar.updated", entity="sla_calendar", entity_id=calendar_id
    )
    await refresh_cases_later(SlaPolicy.calendar == calendar_id)


async def update_calendar(principal: Principal, calendar_id: int, data: CalendarIn) -> CalendarOut:
    """Replace a calendar's name and definition (admins). Open cases keep
    their due times until their next change; new figures use the new hours."""
    require(principal, Action.ADMINISTER)
    definition = BusinessCalendar.from_dict(data.definition).to_dict()
    async with transaction():
        await _calendar_row(calendar_id)
        await _write(principal, calendar_id, data.name, definition)
    return _calendar_out(await _calendar_row(calendar_id))


def merge_definition(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``stored`` with the settings of ``changes`` put in; every other stored
    setting is kept, except a subdivision, which goes when the country goes
    (a subdivision without a country is no calendar). Not validated."""
    merged = {**stored, **changes}
    if merged.get("country") is None:
        merged.pop("subdivision", None)
    return merged


async def merge_calendar(principal: Principal, calendar_id: int, data: CalendarIn) -> CalendarOut:
    """Rename a calendar and change the settings given in ``data.definition``
    (admins), keeping every stored setting it leaves out (a subdivision,
    observed holidays, … that a form does not show); see :func:`merge_definition`.

    One transaction: the stored definition is read (its row locked on
    PostgreSQL), merged, validated (a ValidationError naming the field) and
    written, so a change saved meanwhile is never overwritten by an older copy
    of the settings left out. Open cases keep their due times until their next
    change; new figures use the new hours.
    """
    require(principal, Action.ADMINISTER)
    async with transaction():
        row = await _calendar_row(calendar_id, lock=True)
        merged = merge_definition(json_dict(row["definition"]), data.definition)
        definition = BusinessCalendar.from_dict(merged).to_dict()
        await _write(principal, calendar_id, data.name, definition)
    return _calendar_out(await _calendar_row(calendar_id))


async def calendar_users(principal: Principal, calendar_id: int) -> list[str]:
    """The names of the SLA policies that use a calendar, in their order
    (managers and admins; NotFoundError for an unknown calendar). A calendar
    with users cannot be deleted."""
    require(principal, Action.VIEW_REPORTS)
    await _calendar_row(calendar_id)
    rows = (
        await SlaPolicy.select(SlaPolicy.name)
        .where(SlaPolicy.calendar == calendar_id)
        .order_by(SlaPolicy.position)
        .order_by(SlaPolicy.id)
    )
    return [str(row["name"]) for row in rows]


async def delete_calendar(principal: Principal, calendar_id: int) -> None:
    """Remove a calendar that no policy uses (admins); else ConflictError."""
    require(principal, Action.ADMINISTER)
    async with transaction():
        await _calendar_row(calendar_id)
        if await SlaPolicy.exists().where(SlaPolicy.calendar == calendar_id):
            raise ConflictError(f"calendar {calendar_id} is used by a policy")
        await SlaCalendar.delete().where(SlaCalendar.id == calendar_id)
        await audit.record(
            principal, "sla_calendar.deleted", entity="sla_calendar", entity_id=calendar_id
        )
