"""Cases: open, read, list, change, assign and merge."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from helpdesk import _sql as sql
from helpdesk.clock import utcnow
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
    customer_streams,
    emit,
    team_stream,
)
from helpdesk.policy import SYSTEM, Action, Principal, require
from helpdesk.rows import CaseRow
from helpdesk.schemas import AssignIn, CaseCreate, CaseOut, CaseUpdate, MessageIn
from helpdesk.services import audit, case_search
from helpdesk.services._case_list import list_cases
from helpdesk.services.customers import (
    check_merge_allowed,
    find_or_create_by_email,
    get_customer,
    resolve_merged_customer,
)
from helpdesk.services.lookup import case_row, visible_case_row, visible_case_rows_locked
from helpdesk.services.messages import insert_message
from helpdesk.services.rows import case_out
from helpdesk.tables import Agent, Case, CaseTag, Customer, Message, Team
from helpdesk.text import detect_language, fold

__all__ = [
    "assign_case",
    "get_case",
    "list_cases",
    "merge_cases",
    "open_case",
    "update_case",
]


def _search_text(subject: str, customer_name: str) -> str:
    """What the case list's text filter matches (case numbers are found by id)."""
    return fold(f"{subject} {customer_name}")


async def _customer_for(principal: Principal, data: CaseCreate) -> int:
    if principal.kind == "customer":
        assert principal.id is not None
        return principal.id
    if data.customer_id is not None:
        await get_customer(principal, data.customer_id)
        return await resolve_merged_customer(data.customer_id)
    if data.customer_email is None:
        raise ValidationError("give customer_id or customer_email")
    return await find_or_create_by_email(data.customer_email, data.customer_name)


async def _ensure_team(team_id: int | None) -> None:
    if team_id is not None and not await Team.exists().where(Team.id == team_id):
        raise ValidationError(f"team {team_id} does not exist")


def _clean_tags(tags: list[str]) -> list[str]:
    return sorted(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


async def _set_tags(case_id: int, tags: list[str]) -> list[str]:
    clean = _clean_tags(tags)
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
    Nothing is written when any part fails (e.g. an attachment over the limit).
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
        tags = _clean_tags(data.tags)
        rows = await sql.insert(
            Case,
            {
                "subject": data.subject,
                "status": Status.NEW,
                "priority": data.priority,
                "channel": data.channel,
                "customer": customer_id,
                "organization": customer["organization"],
                "team": data.team_id,
                "tags": tags,
                "language": detect_language(f"{data.subject}\n{data.body}"),
                "version": 1,
                "search_text": _search_text(data.subject, customer["name"]),
                "created_at": now,
                "updated_at": now,
            },
            returning="*",
        )
        case = CaseRow.from_row(rows[0])
        case_id = case.id
        if tags:
            await CaseTag.insert(*(CaseTag(case=case_id, tag=t) for t in tags))
        await insert_message(
            case=case,
            kind=MessageKind.CUSTOMER,
            data=MessageIn(body=data.body, html=data.html, attachments=data.attachments),
            channel=data.channel,
            author_customer_id=customer_id,
            external_id=external_id,
            meta=meta,
        )
        await case_search.reindex_cases([case_id])
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
        streams = [case_stream(case_id), team_stream(data.team_id)]
        await emit(event, streams + customer_streams(customer_id, customer["organization"]))
    return case_out(case)


async def get_case(principal: Principal, case_id: int) -> CaseOut:
    """One case, if the principal may see it."""
    return case_out(await visible_case_row(principal, case_id))


async def _save(
    principal: Principal,
    case: CaseRow,
    values: dict[Any, Any],
    changes: dict[str, list[Any]],
    *,
    expected_version: int | None,
) -> None:
    """Write ``values`` with a version bump, checking ``expected_version``; emit and audit."""
    values[Case.version] = Case.version + 1
    values[Case.updated_at] = utcnow()
    condition: Any = Case.id == case.id
    if expected_version is not None:
        condition = condition & (Case.version == expected_version)
    updated = await Case.update(values).where(condition).returning(Case.id)
    if not updated:
        raise VersionConflictError(
            f"case {case.id} was changed (now version {case.version})",
            current_version=case.version,
        )
    new_team = values.get(Case.team, case.team_id)
    streams = [
        case_stream(case.id),
        team_stream(case.team_id),
        team_stream(new_team),
        *customer_streams(case.customer_id, case.organization_id),
    ]
    await emit(CaseUpdated(case_id=case.id, version=case.version + 1, changes=changes), streams)
    await audit.record(
        principal,
        "case.updated",
        entity="case",
        entity_id=case.id,
        case_id=case.id,
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

    Status changes follow :data:`helpdesk.domain.TRANSITIONS`. A change that
    changes nothing keeps the version. The returned case is the case as
    changed, even when the change took it out of the caller's view.
    """
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case.version != data.version:
            raise VersionConflictError(
                f"case {case_id} is at version {case.version}, not {data.version}",
                current_version=case.version,
            )
        values, changes = await _update_values(case, data)
        if values:
            await _save(principal, case, values, changes, expected_version=data.version)
        if "subject" in changes or "tags" in changes:
            await case_search.reindex_cases([case_id])
    return case_out(await case_row(case_id))


async def _update_values(
    case: CaseRow, data: CaseUpdate
) -> tuple[dict[Any, Any], dict[str, list[Any]]]:
    values: dict[Any, Any] = {}
    changes: dict[str, list[Any]] = {}
    if data.subject is not UNSET and data.subject != case.subject:
        values[Case.subject] = data.subject
        changes["subject"] = [case.subject, data.subject]
        customer = (
            await Customer.select(Customer.name).where(Customer.id == case.customer_id).first()
        )
        values[Case.search_text] = _search_text(data.subject, customer["name"] if customer else "")
    if data.status is not UNSET and data.status != case.status:
        values.update(_status_values(Status(case.status), data.status))
        changes["status"] = [case.status, data.status]
    if data.priority is not UNSET and data.priority != case.priority:
        values[Case.priority] = data.priority
        changes["priority"] = [case.priority, data.priority]
    if data.team_id is not UNSET and data.team_id != case.team_id:
        await _ensure_team(data.team_id)
        values[Case.team] = data.team_id
        changes["team_id"] = [case.team_id, data.team_id]
    if data.tags is not UNSET:
        old = case.tags
        new = await _set_tags(case.id, data.tags)
        if new != old:
            values[Case.tags] = new
            changes["tags"] = [old, new]
    return values, changes


async def assign_case(principal: Principal, case_id: int, data: AssignIn) -> CaseOut:
    """Give the case to an agent (or nobody).

    With ``only_if_unassigned`` this is "take": when two agents take the same
    case at once exactly one wins and the other gets
    :class:`AlreadyAssignedError` (409). The row is locked (PostgreSQL) or
    the write transaction is immediate (SQLite), and the update is
    conditional on the case being unassigned as a second guard.

    Assigning a case to the agent who already has it changes nothing (no new
    version, no event), so a repeated "take" by the winner succeeds.
    """
    require(principal, Action.WORK_CASES)
    async with transaction():
        case = await visible_case_row(principal, case_id, for_update=True)
        if case.status == Status.CLOSED:
            raise InvalidTransitionError(f"case {case_id} is closed")
        if case.assignee_id != data.assignee_id:
            await _assign(principal, case, data)
    return case_out(await case_row(case_id))


async def _assign(principal: Principal, case: CaseRow, data: AssignIn) -> None:
    case_id = case.id
    if data.only_if_unassigned and case.assignee_id is not None:
        raise AlreadyAssignedError(
            f"case {case_id} is already assigned", assignee_id=case.assignee_id
        )
    if data.assignee_id is not None:
        agent = await Agent.select(Agent.active).where(Agent.id == data.assignee_id).first()
        if agent is None or not agent["active"]:
            raise ValidationError(f"agent {data.assignee_id} does not exist or is inactive")
    condition: Any = Case.id == case_id
    if data.only_if_unassigned:
        condition = condition & Case.assignee.is_null()
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
        previous_assignee_id=case.assignee_id,
        team_id=case.team_id,
        actor_id=principal.id if principal.kind == "agent" else None,
    )
    await emit(event, [case_stream(case_id), team_stream(case.team_id)])
    await audit.record(
        principal,
        "case.assigned",
        entity="case",
        entity_id=case_id,
        case_id=case_id,
        changes={"assignee_id": [case.assignee_id, data.assignee_id]},
    )


async def merge_cases(
    principal: Principal,
    source_id: int,
    target_id: int,
    confirm_customers: list[int] | None = None,
) -> CaseOut:
    """Merge ``source_id`` into ``target_id``: its messages move, its tags join,
    and it closes with a pointer to the target. Returns the target.

    Both rows are locked in id order, so concurrent merges cannot deadlock.

    Cases of two customers: the caller must confirm by naming both,
    ``confirm_customers == [source customer, target customer]``, and be an
    admin when the customers belong to different organizations (see
    :func:`helpdesk.services.customers.check_merge_allowed`: 409
    ``confirmation_required``, 403 ``cross_organization_merge``). The moved
    messages keep their author, but those the source customer could see
    (their messages and our replies to them) become internal notes of the
    target (``meta``: ``merged_from``, ``kind_before_merge``): staff read
    them, the target's customer never sees them nor their files, in the
    portal or the API. Messages of one customer's cases move as they are.
    """
    require(principal, Action.MERGE_CASES)
    if source_id == target_id:
        raise ValidationError("a case cannot be merged into itself")
    async with transaction():
        rows = await visible_case_rows_locked(principal, [source_id, target_id])
        source, target = rows[source_id], rows[target_id]
        if source.status == Status.CLOSED or target.status == Status.CLOSED:
            raise ConflictError("closed cases cannot be merged")
        other_customer = source.customer_id != target.customer_id
        if other_customer:
            await check_merge_allowed(
                principal,
                await get_customer(SYSTEM, source.customer_id),
                await get_customer(SYSTEM, target.customer_id),
                confirm_customers,
            )
        # Emitted first: its streams are a superset of the note's, so this
        # transaction takes its stream counters in one sorted pass.
        streams = [
            case_stream(source_id),
            case_stream(target_id),
            team_stream(source.team_id),
            team_stream(target.team_id),
            *customer_streams(source.customer_id, source.organization_id),
            *customer_streams(target.customer_id, target.organization_id),
        ]
        await emit(CasesMerged(source_id=source_id, target_id=target_id), streams)
        if other_customer:
            await _hide_from_target_customer(source_id)
        await Message.update({Message.case: target_id}).where(Message.case == source_id)
        tags = await _set_tags(target_id, target.tags + source.tags)
        await insert_message(
            case=target,
            kind=MessageKind.NOTE,
            data=MessageIn(body=f"{case_reference(source_id)} → {case_reference(target_id)}"),
            channel=Channel(target.channel),
            author_agent_id=principal.id if principal.kind == "agent" else None,
            meta={"merged_from": source_id},
        )
        now = utcnow()
        await Case.update(
            {
                Case.status: Status.CLOSED,
                Case.closed_at: now,
                Case.merged_into: target_id,
                Case.version: Case.version + 1,
                Case.updated_at: now,
            }
        ).where(Case.id == source_id)
        await Case.update(
            {Case.tags: tags, Case.version: Case.version + 1, Case.updated_at: now}
        ).where(Case.id == target_id)
        await case_search.reindex_cases([source_id, target_id])
        changes: dict[str, Any] = {"source_id": source_id, "target_id": target_id}
        if other_customer:
            changes["customers"] = [source.customer_id, target.customer_id]
        for case_id in (source_id, target_id):
            await audit.record(
                principal,
                "case.merged",
                entity="case",
                entity_id=case_id,
                case_id=case_id,
                changes=changes,
            )
    return case_out(await case_row(target_id))


async def _hide_from_target_customer(source_id: int) -> None:
    """Make the public messages of case ``source_id`` internal notes, keeping
    their author and recording their kind (before they move to another
    customer's case). One update per message: merges are rare."""
    public = (
        await Message.select(Message.id, Message.kind, Message.meta)
        .where((Message.case == source_id) & (Message.kind != MessageKind.NOTE))
        .output(load_json=True)
    )
    for row in public:
        meta = dict(row["meta"] or {})
        meta.update({"merged_from": source_id, "kind_before_merge": row["kind"]})
        await Message.update({Message.kind: MessageKind.NOTE, Message.meta: meta}).where(
            Message.id == row["id"]
        )
