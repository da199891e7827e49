"""An agent's notifications: reading them, marking them read, choosing what to get.

Every function takes the acting principal and works on their own
notifications only (:data:`helpdesk.policy.Action.READ_NOTIFICATIONS`). A
notification about a case the agent may no longer see (moved to another
team) is neither listed nor counted (:func:`helpdesk.policy.case_scope`).
The unread count is always read from the table, so a page that reconnects
is right again at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import NotFoundError
from helpdesk.notifications.kinds import DEFAULTS, Choice, Kind
from helpdesk.notifications.tables import Notification, NotificationSetting
from helpdesk.policy import Action, Principal, case_scope, require
from helpdesk.rows import as_utc
from helpdesk.tables import Case

__all__ = [
    "PER_PAGE",
    "NotificationOut",
    "NotificationPage",
    "get_choices",
    "latest_unread",
    "list_notifications",
    "mark_all_read",
    "open_notification",
    "save_choices",
    "unread_count",
]

PER_PAGE = 20
_COLUMNS = (
    Notification.id, Notification.kind, Notification.case, Notification.actor.name,
    Notification.params, Notification.created_at, Notification.read_at,
)  # fmt: skip


class NotificationOut(msgspec.Struct, frozen=True, kw_only=True):
    """One notification as its recipient sees it (texts still to be translated)."""

    id: int
    kind: str
    case_id: int | None
    actor_name: str | None
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of an agent's notifications, newest first, and the unread count."""

    items: list[NotificationOut]
    page: int
    has_next: bool
    unread: int


def _me(principal: Principal) -> int:
    require(principal, Action.READ_NOTIFICATIONS)
    if principal.id is None:
        raise NotFoundError("the system has no notifications")
    return principal.id


def _mine(principal: Principal) -> Any:
    """Where-clause: the principal's notifications about cases they may see (or none)."""
    clause: Any = Notification.agent == _me(principal)
    scope = case_scope(principal).where()
    if scope is not None:
        visible = Case.select(Case.id).where(scope)
        clause = clause & (Notification.case.is_null() | Notification.case.is_in(visible))
    return clause


async def unread_count(principal: Principal) -> int:
    """How many of the principal's notifications are unread."""
    return int(await Notification.count().where(_mine(principal) & Notification.read_at.is_null()))


async def list_notifications(principal: Principal, page: int = 1) -> NotificationPage:
    """Page ``page`` (from 1) of the principal's notifications, newest first."""
    page = max(1, min(page, 10_000))
    rows = (
        await Notification.select(*_COLUMNS)
        .where(_mine(principal))
        .order_by(Notification.id, ascending=False)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .output(load_json=True)
    )  # fmt: skip
    return NotificationPage(
        items=[_out(row) for row in rows[:PER_PAGE]], page=page, has_next=len(rows) > PER_PAGE,
        unread=await unread_count(principal),
    )  # fmt: skip


async def latest_unread(principal: Principal) -> NotificationOut | None:
    """The principal's newest unread notification, if any."""
    rows = (
        await Notification.select(*_COLUMNS)
        .where(_mine(principal) & Notification.read_at.is_null())
        .order_by(Notification.id, ascending=False)
        .limit(1)
        .output(load_json=True)
    )  # fmt: skip
    return _out(rows[0]) if rows else None


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=row["id"], kind=row["kind"], case_id=row["case"], actor_name=row["actor.name"],
        params=row["params"] if isinstance(row["params"], dict) else {},
        created_at=as_utc(row["created_at"]) or utcnow(), read_at=as_utc(row["read_at"]),
    )  # fmt: skip


async def open_notification(principal: Principal, notification_id: int) -> int | None:
    """Mark one of the principal's notifications read; the case it is about.
    :class:`NotFoundError` when it is not theirs (or its case is out of their sight)."""
    async with transaction():
        row = (
            await Notification.select(Notification.case, Notification.read_at)
            .where(_mine(principal) & (Notification.id == notification_id))
            .first()
        )
        if row is None:
            raise NotFoundError(f"notification {notification_id} not found")
        if row["read_at"] is None:
            await Notification.update({Notification.read_at: utcnow()}).where(
                Notification.id == notification_id
            )
    return int(row["case"]) if row["case"] is not None else None


async def mark_all_read(principal: Principal) -> int:
    """Mark every unread notification of the principal read; how many were."""
    async with transaction():
        rows = (
            await Notification.update({Notification.read_at: utcnow()})
            .where((Notification.agent == _me(principal)) & Notification.read_at.is_null())
            .returning(Notification.id)
        )
    return len(rows)


async def get_choices(principal: Principal) -> dict[Kind, Choice]:
    """The principal's choice for every kind (the defaults where they chose nothing)."""
    rows = await NotificationSetting.select().where(NotificationSetting.agent == _me(principal))
    stored = {row["kind"]: (bool(row["in_console"]), bool(row["by_email"])) for row in rows}
    return {kind: stored.get(kind.value, DEFAULTS[kind]) for kind in Kind}


async def save_choices(principal: Principal, choices: dict[Kind, Choice]) -> None:
    """Store the principal's choices (kinds left out keep theirs)."""
    agent_id = _me(principal)
    async with transaction():
        for kind, (in_console, by_email) in sorted(choices.items()):
            await NotificationSetting.raw(
                "INSERT INTO notification_settings (agent, kind, in_console, by_email) "
                "VALUES ({}, {}, {}, {}) ON CONFLICT (agent, kind) "
                "DO UPDATE SET in_console = excluded.in_console, by_email = excluded.by_email",
                agent_id, kind.value, in_console, by_email,
            )  # fmt: skip
