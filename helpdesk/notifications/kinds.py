"""The kinds of notification, their default choices and their texts.

Texts are English msgids, translated where they are shown (console, mail) in
the reader's language; a notification stores only its parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from helpdesk.domain import case_reference

__all__ = ["DEFAULTS", "KIND_LABELS", "N_", "Choice", "Kind", "render_text"]


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


class Kind(StrEnum):
    """What happened, from the recipient's point of view."""

    ASSIGNED = "assigned"
    CUSTOMER_REPLIED = "customer_replied"
    CHAT_WAITING = "chat_waiting"
    MENTIONED = "mentioned"
    SLA_AT_RISK = "sla_at_risk"
    SLA_BREACHED = "sla_breached"


Choice = tuple[bool, bool]
"""``(in_console, by_email)`` for one kind."""

DEFAULTS: dict[Kind, Choice] = dict.fromkeys(Kind, (True, False))
"""Every kind is shown in the console and not mailed until the agent chooses otherwise."""

KIND_LABELS: dict[Kind, str] = {
    Kind.ASSIGNED: N_("A case is assigned to me"),
    Kind.CUSTOMER_REPLIED: N_("A customer replies on my case"),
    Kind.CHAT_WAITING: N_("A new chat waits in my team"),
    Kind.MENTIONED: N_("Someone mentions me in an internal note"),
    Kind.SLA_AT_RISK: N_("An SLA target is at risk"),
    Kind.SLA_BREACHED: N_("An SLA target is breached"),
}

_TEXTS: dict[Kind, str] = {
    Kind.ASSIGNED: N_("%(actor)s assigned %(case)s to you: %(subject)s"),
    Kind.CUSTOMER_REPLIED: N_("The customer replied on %(case)s: %(subject)s"),
    Kind.CHAT_WAITING: N_("A new chat waits in %(team)s: %(subject)s"),
    Kind.MENTIONED: N_("%(actor)s mentioned you in a note on %(case)s: %(excerpt)s"),
    Kind.SLA_AT_RISK: N_("%(case)s: the %(metric)s target is at risk (%(subject)s)"),
    Kind.SLA_BREACHED: N_("%(case)s: the %(metric)s target is breached (%(subject)s)"),
}
_KINDS = {kind.value: kind for kind in Kind}
_METRICS = {
    "first_response": N_("first response"),
    "next_response": N_("next response"),
    "resolution": N_("resolution"),
}
_ASSIGNED_BY_SYSTEM = N_("%(case)s was assigned to you: %(subject)s")


def render_text(
    kind: str,
    params: Mapping[str, Any],
    case_id: int | None,
    actor_name: str | None,
    _: Callable[..., str],
) -> str:
    """The sentence of a notification in the language of ``_`` (a translator).
    An unknown kind (a newer release's) shows the case number only."""
    values = {
        "case": case_reference(case_id) if case_id is not None else "",
        "actor": actor_name or "",
        "subject": str(params.get("subject", "")),
        "excerpt": str(params.get("excerpt", "")),
        "team": str(params.get("team", "")),
        "metric": _(_METRICS.get(str(params.get("metric")), str(params.get("metric", "")))),
    }
    known = _KINDS.get(kind)
    if known is None:
        return values["case"]
    by_system = known is Kind.ASSIGNED and not actor_name
    return _(_ASSIGNED_BY_SYSTEM if by_system else _TEXTS[known], **values)
