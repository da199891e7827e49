"""The words shown for the domain's codes (statuses, priorities, …) and the
console's messages, as English msgids marked for extraction.

They are translated where they are shown (``label()`` in the templates,
:func:`agent_console._pages.render`), never here.
"""

from __future__ import annotations

from helpdesk.domain import Availability, Channel, MessageKind, Priority, Role, Status
from helpdesk.services.queues import CaseSort, Queue


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "status": {
        Status.NEW: N_("New"),
        Status.OPEN: N_("Open"),
        Status.PENDING: N_("Pending"),
        Status.ON_HOLD: N_("On hold"),
        Status.SOLVED: N_("Solved"),
        Status.CLOSED: N_("Closed"),
    },
    "priority": {
        Priority.LOW: N_("Low"),
        Priority.NORMAL: N_("Normal"),
        Priority.HIGH: N_("High"),
        Priority.URGENT: N_("Urgent"),
    },
    "channel": {
        Channel.EMAIL: N_("Email"),
        Channel.WEB: N_("Web form"),
        Channel.CHAT: N_("Live chat"),
        Channel.API: N_("API"),
        Channel.PHONE: N_("Phone"),
        Channel.WALK_IN: N_("Walk-in"),
    },
    "metric": {
        "first_response": N_("First response"),
        "next_response": N_("Next response"),
        "resolution": N_("Resolution"),
    },
    "sla_state": {
        "running": N_("Running"),
        "paused": N_("Paused"),
        "at_risk": N_("At risk"),
        "breached": N_("Breached"),
        "met": N_("Met"),
        "missed": N_("Missed"),
        "cancelled": N_("No longer applies"),
    },
    "kind": {
        MessageKind.CUSTOMER: N_("Customer"),
        MessageKind.REPLY: N_("Reply"),
        MessageKind.NOTE: N_("Internal note"),
    },
    "availability": {
        Availability.AVAILABLE: N_("Available"),
        Availability.AWAY: N_("Away"),
        Availability.OFFLINE: N_("Offline"),
    },
    "role": {
        Role.AGENT: N_("Agent"),
        Role.MANAGER: N_("Manager"),
        Role.ADMIN: N_("Admin"),
    },
    "language": {
        "vi": N_("Vietnamese"),
        "en": N_("English"),
    },
    "queue": {
        Queue.MINE: N_("My cases"),
        Queue.TEAM: N_("My teams"),
        Queue.UNASSIGNED: N_("Unassigned"),
        Queue.ALL: N_("All cases"),
    },
    "sort": {
        CaseSort.UPDATED_DESC: N_("Recently updated"),
        CaseSort.UPDATED_ASC: N_("Least recently updated"),
        CaseSort.CREATED_DESC: N_("Newest"),
        CaseSort.CREATED_ASC: N_("Oldest"),
    },
}

# What a successful action says.
DONE: dict[str, str] = {
    "reply": N_("Reply sent."),
    "note": N_("Internal note added."),
    "take": N_("You are now handling this case."),
    "assign": N_("Assignment saved."),
    "update": N_("Case updated."),
    "merge": N_("The cases were merged."),
    "macro_saved": N_("Macro saved."),
    "macro_deleted": N_("Macro deleted."),
    "availability": N_("Availability updated."),
}

LOGIN_FAILED = N_("Wrong email or password.")
LOGIN_RATE_LIMITED = N_("Too many sign-in attempts. Please wait a few minutes and try again.")
