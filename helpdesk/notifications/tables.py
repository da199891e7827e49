"""Tables of the notifications: one row per notification, and each agent's choices.

A notification names its recipient, its kind, the case and the agent who
acted (if any), and short text parameters (a subject, a metric, a name) that
are never pre-translated: the reader's language is applied when it is shown.
``dedupe_key`` says which event it comes from; ``(agent, dedupe_key)`` is
unique (see ``m0017_notifications``), so one event notifies one agent once.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Agent, Case, register_tables


class Notification(Table, tablename="notifications"):
    """Something an agent is told: unread until ``read_at``."""

    id = Serial(primary_key=True)
    agent = ForeignKey(Agent, null=False)
    kind = Varchar(length=32)
    case = ForeignKey(Case, null=True, default=None)
    actor = ForeignKey(Agent, null=True, default=None)
    params = JSON(default={})
    dedupe_key = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class NotificationSetting(Table, tablename="notification_settings"):
    """An agent's choice for one kind: shown in the console, sent by email.
    A kind without a row uses the defaults (:data:`helpdesk.notifications.kinds.DEFAULTS`)."""

    id = Serial(primary_key=True)
    agent = ForeignKey(Agent, null=False)
    kind = Varchar(length=32)
    in_console = Boolean(default=True)
    by_email = Boolean(default=False)


register_tables(Notification, NotificationSetting)
