"""Notifications for staff: the ``notifications`` and ``notification_settings``
tables (frozen at this step)."""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Agents = reference("agents")
_Cases = reference("cases")


class _Notification(Table, tablename="notifications"):
    id = Serial(primary_key=True)
    agent = ForeignKey(_Agents, null=False)
    kind = Varchar(length=32)
    case = ForeignKey(_Cases, null=True, default=None)
    actor = ForeignKey(_Agents, null=True, default=None)
    params = JSON(default={})
    dedupe_key = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class _NotificationSetting(Table, tablename="notification_settings"):
    id = Serial(primary_key=True)
    agent = ForeignKey(_Agents, null=False)
    kind = Varchar(length=32)
    in_console = Boolean(default=True)
    by_email = Boolean(default=False)


async def apply(engine: Engine[Any]) -> None:
    """Create both tables: one notification per event and agent (unique
    ``agent, dedupe_key``), unread ones found by agent, one choice per agent and kind."""
    bind(engine, _Notification, _NotificationSetting)
    await _Notification.create_table(if_not_exists=True)
    await create_index(engine, _Notification, ["agent", "dedupe_key"], unique=True)
    await create_index(engine, _Notification, ["agent", "read_at"])
    await create_index(engine, _Notification, ["case"])
    await _NotificationSetting.create_table(if_not_exists=True)
    await create_index(engine, _NotificationSetting, ["agent", "kind"], unique=True)
