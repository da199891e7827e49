"""Cases: open, read, list, change, assign and merge."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Select

from helpdesk.db import transaction
from helpdesk.domain import Channel, MessageKind, Status, can_transition, case_reference
from helpdesk.errors import (
    AlreadyAssignedError,
    ConflictError,
    InvalidTransitionError,
    ValidationError,
    VersionConflictError,
)
from helpdesk.events import (
    CaseAssigned,
    CaseOpened,
    CasesMerged,
    CaseUpdated,
    case_stream,
    customer_stream,
    emit,
    team_stream,
)
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.schemas import (
    AssignIn,
    CaseCreate,
    CaseFilter,
    CaseOut,
    CaseUpdate,
    MessageIn,
    Page,
)
from helpdesk.services import audit
from helpdesk.services._convert import as_utc, case_out, utcnow
from helpdesk.services._lookup import visible_case_row
from helpdesk.services.customers import find_or_create_by_email, get_customer
from helpdesk.services.messages import insert_message
from helpdesk.tables import Agent, Case, CaseTag, Customer, Message, Team
from helpdesk.text import detect_language, fold


def _search_text(case_id: int, subject: str, customer_name: str) -> str:
    return fold(f"{case_reference(case_id)} {subject} {customer_name}")


async def _customer_for(principal: Principal, data: CaseCreate) -> int:
    if principal.kind == "customer":
        assert principal.id is not None
        return principal.id
    if data.customer_id is not None:
        await get_customer(principal, data.customer_id)
        return data.customer_id
    if data.customer_email is None:
        raise ValidationError("give customer_id or customer_email")
    return await find_or_create_by_email(data.customer_email, data.customer_name)


async def _ensure_team(team_id: int | None) -> None:
    if team_id is not None and not await Team.exists().where(Team.id == team_id):
        raise ValidationError(f"team {team_id} does not exist")


async def _set_tags(case_id: int, tags: list[str]) -> list[str]:
    clean = sorted(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    await CaseTag.delete().where(CaseTag.case == case_id)
    if clean:
        await CaseTag.insert(*(CaseTag(case=case_id, tag=t) for t in clean))
    return clean


async def open_case(
    principal: Principal,
    data: CaseCreate,
    *,
    external_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> CaseOut:
    """Open a case with its first customer message, in one transaction.

    The customer is the principal (customers), or found/created by address.
    Routing happens afterwards, in a worker, on the ``case.opened`` event.
    """
    if principal.kind == "agent":
        require(principal, Action.WORK_CASES)
    async with transaction():
        customer_id = await _customer_for(principal, data)
        customer = (
            await Customer.select(Customer.name, Customer.organization)
            .where(Customer.id == customer_id)
            .first()
        )
        assert customer is not None
        await _ensure_team(data.team_id)
        now = utcnow()
        rows = await Case.insert(
            Case(
                subject=data.subject,
                priority=data.priority,
                channel=data.channel,
                customer=customer_id,
                organization=customer["organization"],
                team=data.team_id,
                language=detect_language(f"{data.subject}\n{data.body}"),
                created_at=now,
                updated_at=now,
            )
        )
        case_id = int(rows[0]["id"])
        tags = await _set_tags(case_id, data.tags)
        await Case.update(
            {
                Case.tags: tags,
                Case.search_text: _search_text(case_id, data.subject, customer["name"]),
            }
        ).where(Case.id == case_id)
        row = {"id": case_id, "team": data.team_id, "customer": customer_id}
        await insert_message(
            case=row,
            kind=MessageKind.CUSTOMER,
            data=MessageIn(body=data.body, html=data.html, attachments=data.attachments),
            channel=data.channel,
            author_customer_id=customer_id,
            external_id=external_id,
            meta=meta,
        )
        await audit.record(
            principal, "case.opened", entity="case", entity_id=case_id, case_id=case_id
        )
        event = CaseOpened(
            case_id=case_id,
            customer_id=customer_id,
            team_id=data.team_id,
            channel=data.channel,
            priority=data.priority,
            subject=data.subject,
        )
        await emit(
            event, [case_stream(case_id), team_stream(data.team_id), customer_stream(customer_id)]
        )
    return await get_case(principal, case_id)


async def get_case(principal: Principal, case_id: int) -> CaseOut:
    """One case, if the principal may see it."""
    return case_out(await visible_case_row(principal, case_id))


def _encode_cursor(updated_at: datetime, case_id: int) -> str:
    raw = f"{as_utc(updated_at).isoformat()}|{case_id}"  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, case_id = raw.split("|")
        return datetime.fromisoformat(stamp), int(case_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError("invalid cursor") from exc


def _apply_filters(query: Select, filters: CaseFilter) -> Select:
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
        needle = fold(filters.text).replace("%", "").replace("_", "")
        if needle:
            query = query.where(Case.search_text.like(f"%{needle}%"))
    return query


async def list_cases(
    principal: Principal, filters: CaseFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[CaseOut]:
    """Cases the principal may see, most recently updated first, one page.

    Keyset pagination on ``(updated_at, id)``: a page costs the same however
    deep it is. A case updated while paging may appear twice or be skipped;
    that is the usual trade of keyset paging on a changing sort key.
    """
    query = Case.select()
    scope = case_scope(principal).where()
    if scope is not None:
        query = query.where(scope)
    query = _apply_filters(query, filters)
    if cursor:
        stamp, last_id = _decode_cursor(cursor)
        query = query.where(
            WhereRaw("(updated_at < {} OR (updated_at = {} AND id < {}))", stamp, stamp, last_id)
        )
    rows = await query.order_by(Case.updated_at, Case.id, ascending=False).limit(limit + 1)
    items = [case_out(r) for r in rows[:limit]]
    next_cursor = (
        _encode_cursor(rows[limit - 1]["updated_at"], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return Page(items=items, next_cursor=next_cursor)


async def _save(
    principal: Principal,
    case: dict[str, Any],
    values: dict[Any, Any],
    changes: dict[str, list[Any]],
    *,
    expected_version: int | None,
) -> None:
    """Write ``values`` with a version bump, checking ``expected_version``; emit and audit."""
    values[Case.version] = Case.version + 1
    values[Case.updated_at] = utcnow()
    condition = Case.id == case["id"]
    if expected_version is not None:
        condition = condition & (Case.version == expected_version)
    updated = await Case.update(values).where(condition).returning(Case.id)
    if not updated:
        raise VersionConflictError(
            f"case {case['id']} was changed (now version {case['version']})",
            current_version=case["version"],
        )
    new_team = values.get(Case.team, case["team"])
    streams = [
        case_stream(case["id"]),
        team_stream(case["team"]),
        team_stream(new_team),
        customer_stream(case["customer"]),
    ]
    await emit(
        CaseUpdated(case_id=case["id"], version=case["version"] + 1, changes=changes), streams
    )
    await audit.record(
        principal,
        "case.updated",
        entity="case",
        entity_id=case["id"],
        case_id=case["id"],
        changes=changes,
    )


def _status_values(current: Status, target: Status) -> dict[Any, Any]:
    if not can_transition(current, target):
        raise InvalidTransitionError(
            f"cannot change status from {current} to {target}", current=current, target=target
        )
    values: dict[Any, Any] = {Case.status: target}
    now = utcnow()
    if target == Status.SOLVED:
        values[Case.solved_at] = now
    elif target == Status.CLOSED:
        values[Case.closed_at] = now
    elif current == Status.SOLVED:
        values[Case.solved_at] = None
    return values


async def update_case(principal: Principal, case_id: int, data: CaseUpdate) -> CaseOut:
    """Change subject, status, priority, team or tags, if ``data.version`` is current.

    Status changes follow :data:`helpdesk.domain.TRANSITIONS`.
    """
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case["version"] != data.version:
            raise VersionConflictError(
                f"case {case_id} is at version {case['version']}, not {data.version}",
                current_version=case["version"],
            )
        values, changes = await _update_values(case, data)
        if values:
            await _save(principal, case, values, changes, expected_version=data.version)
    return await get_case(principal, case_id)


async def _update_values(
    case: dict[str, Any], data: CaseUpdate
) -> tuple[dict[Any, Any], dict[str, list[Any]]]:
    values: dict[Any, Any] = {}
    changes: dict[str, list[Any]] = {}
    if data.subject is not UNSET and data.subject != case["subject"]:
        values[Case.subject] = data.subject
        changes["subject"] = [case["subject"], data.subject]
        customer = (
            await Customer.select(Customer.name).where(Customer.id == case["customer"]).first()
        )
        values[Case.search_text] = _search_text(
            case["id"], data.subject, customer["name"] if customer else ""
        )
    if data.status is not UNSET and data.status != case["status"]:
        values.update(_status_values(Status(case["status"]), data.status))
        changes["status"] = [case["status"], data.status]
    if data.priority is not UNSET and data.priority != case["priority"]:
        values[Case.priority] = data.priority
        changes["priority"] = [case["priority"], data.priority]
    if data.team_id is not UNSET and data.team_id != case["team"]:
        await _ensure_team(data.team_id)
        values[Case.team] = data.team_id
        changes["team_id"] = [case["team"], data.team_id]
    if data.tags is not UNSET:
        from helpdesk.services._convert import json_list

        old = json_list(case["tags"])
        new = await _set_tags(case["id"], data.tags)
        if new != old:
            values[Case.tags] = new
            changes["tags"] = [old, new]
    return values, changes


async def assign_case(principal: Principal, case_id: int, data: AssignIn) -> CaseOut:
    """Give the case to an agent (or nobody).

    With ``only_if_unassigned`` this is "take": a conditional update, so when
    two agents take the same case at once exactly one wins and the other gets
    :class:`AlreadyAssignedError` (409).
    """
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case["status"] == Status.CLOSED:
            raise InvalidTransitionError(f"case {case_id} is closed")
        if data.assignee_id is not None:
            agent = await Agent.select(Agent.active).where(Agent.id == data.assignee_id).first()
            if agent is None or not agent["active"]:
                raise ValidationError(f"agent {data.assignee_id} does not exist or is inactive")
        condition = Case.id == case_id
        if data.only_if_unassigned:
            condition = condition & Case.assignee.is_null()
        if (
            data.only_if_unassigned
            and case["assignee"] is not None
            and case["assignee"] != data.assignee_id
        ):
            raise AlreadyAssignedError(
                f"case {case_id} is already assigned", assignee_id=case["assignee"]
            )
        updated = (
            await Case.update(
                {
                    Case.assignee: data.assignee_id,
                    Case.version: Case.version + 1,
                    Case.updated_at: utcnow(),
                }
            )
            .where(condition)
            .returning(Case.id)
        )
        if not updated:
            raise AlreadyAssignedError(f"case {case_id} is already assigned")
        event = CaseAssigned(
            case_id=case_id,
            assignee_id=data.assignee_id,
            previous_assignee_id=case["assignee"],
            team_id=case["team"],
        )
        await emit(event, [case_stream(case_id), team_stream(case["team"])])
        await audit.record(
            principal,
            "case.assigned",
            entity="case",
            entity_id=case_id,
            case_id=case_id,
            changes={"assignee_id": [case["assignee"], data.assignee_id]},
        )
    return await get_case(principal, case_id)


async def merge_cases(principal: Principal, source_id: int, target_id: int) -> CaseOut:
    """Merge ``source_id`` into ``target_id``: its messages move, its tags join,
    and it closes with a pointer to the target. Returns the target."""
    require(principal, Action.MERGE_CASES)
    if source_id == target_id:
        raise ValidationError("a case cannot be merged into itself")
    async with transaction():
        source = await visible_case_row(principal, source_id, for_update=True)
        target = await visible_case_row(principal, target_id, for_update=True)
        if source["status"] == Status.CLOSED or target["status"] == Status.CLOSED:
            raise ConflictError("closed cases cannot be merged")
        await Message.update({Message.case: target_id}).where(Message.case == source_id)
        from helpdesk.services._convert import json_list

        tags = await _set_tags(target_id, json_list(target["tags"]) + json_list(source["tags"]))
        await insert_message(
            case=target,
            kind=MessageKind.NOTE,
            data=MessageIn(body=f"{case_reference(source_id)} → {case_reference(target_id)}"),
            channel=Channel(target["channel"]),
            author_agent_id=principal.id if principal.kind == "agent" else None,
            meta={"merged_from": source_id},
        )
        await Case.update(
            {
                Case.status: Status.CLOSED,
                Case.closed_at: utcnow(),
                Case.merged_into: target_id,
                Case.version: Case.version + 1,
                Case.updated_at: utcnow(),
            }
        ).where(Case.id == source_id)
        await Case.update(
            {Case.tags: tags, Case.version: Case.version + 1, Case.updated_at: utcnow()}
        ).where(Case.id == target_id)
        changes = {"source_id": source_id, "target_id": target_id}
        await audit.record(
            principal,
            "case.merged",
            entity="case",
            entity_id=source_id,
            case_id=source_id,
            changes=changes,
        )
        await audit.record(
            principal,
            "case.merged",
            entity="case",
            entity_id=target_id,
            case_id=target_id,
            changes=changes,
        )
        streams = [
            case_stream(source_id),
            case_stream(target_id),
            team_stream(source["team"]),
            team_stream(target["team"]),
            customer_stream(source["customer"]),
            customer_stream(target["customer"]),
        ]
        await emit(CasesMerged(source_id=source_id, target_id=target_id), streams)
    return await get_case(principal, target_id)
