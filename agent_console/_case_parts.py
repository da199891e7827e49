"""The case page's own pieces: the reply box's "send and set status", and the
history panel's wording and times.

The history's sentences are English msgids marked here and translated when
shown; times are ``dd/mm/yyyy HH:MM`` in the viewer's time zone (the one
every console page uses: the browser's, else the helpdesk's).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import msgspec
from litestar.datastructures import FormMultiDict

from agent_console._forms import text
from agent_console._labels import LABELS, N_
from helpdesk.domain import Status
from helpdesk.errors import ValidationError
from helpdesk.i18n import Translator
from helpdesk.services.case_history import HistoryEntry, HistoryKind

__all__ = [
    "REPLY_STATUSES",
    "SENT_AND_SET",
    "HistoryLine",
    "history_lines",
    "reply_status",
    "reply_version",
]

REPLY_STATUSES = (Status.PENDING, Status.SOLVED)
"""The statuses the reply box offers to set with the reply."""

SENT_AND_SET: dict[str, str] = {
    Status.PENDING: N_("Reply sent; the case is now pending."),
    Status.SOLVED: N_("Reply sent; the case is now solved."),
}

_SENTENCES: dict[HistoryKind, str] = {
    HistoryKind.OPENED: N_("%(actor)s opened the case"),
    HistoryKind.STATUS: N_("%(actor)s changed the status from %(old)s to %(new)s"),
    HistoryKind.PRIORITY: N_("%(actor)s changed the priority from %(old)s to %(new)s"),
    HistoryKind.TEAM: N_("%(actor)s moved the case from %(old)s to %(new)s"),
    HistoryKind.ASSIGNEE: N_("%(actor)s assigned the case to %(new)s"),
    HistoryKind.TAGS: N_("%(actor)s changed the tags from “%(old)s” to “%(new)s”"),
    HistoryKind.SUBJECT: N_("%(actor)s changed the subject to “%(new)s”"),
    HistoryKind.ROUTED: N_("Routing rule “%(detail)s” applied"),
    HistoryKind.MERGED_INTO: N_("%(actor)s merged this case into %(detail)s"),
    HistoryKind.MERGED_FROM: N_("%(actor)s merged %(detail)s into this case"),
    HistoryKind.SLA_AT_RISK: N_("SLA at risk: %(detail)s"),
    HistoryKind.SLA_BREACHED: N_("SLA breached: %(detail)s"),
    HistoryKind.SLA_MET: N_("SLA met: %(detail)s"),
    HistoryKind.REPLY: N_("%(actor)s replied to the customer"),
    HistoryKind.NOTE: N_("%(actor)s added an internal note"),
    HistoryKind.CUSTOMER_MESSAGE: N_("%(actor)s wrote a message"),
    HistoryKind.SURVEY: N_("%(actor)s rated the case %(detail)s out of 5"),
}
_ROUTED_WITHOUT_RULE = N_("Routing found no matching rule")
_UNASSIGNED = N_("%(actor)s removed the assignee")
_REASONS: dict[str, str] = {
    "round_robin": N_("round-robin"),
    "least_loaded": N_("least loaded"),
    "rule": N_("routing rule"),
    "agent_unavailable": N_("the agent became unavailable"),
}
_BY_ROUTING = N_("%(sentence)s (routing: %(reason)s)")


class HistoryLine(msgspec.Struct, frozen=True):
    """One line of the history panel: when (as shown and as ISO), what, and its kind."""

    when: str
    iso: str
    text: str
    kind: str
    actor_kind: str


def reply_status(form: FormMultiDict) -> Status | None:
    """The status to set with the reply (the ``then`` button), or None to just send."""
    value = text(form, "then")
    if not value:
        return None
    if value not in REPLY_STATUSES:
        raise ValidationError(f"a reply cannot set the status {value!r}", field="then")
    return Status(value)


def reply_version(form: FormMultiDict) -> int | None:
    """The case version the page showed (None when the form did not say)."""
    value = text(form, "version")
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise ValidationError("not a version", field="version")
    return int(value)


def history_lines(entries: list[HistoryEntry], _: Translator, timezone: str) -> list[HistoryLine]:
    """The history panel's lines, newest first, worded in the translator's language."""
    zone = ZoneInfo(timezone)
    return [
        HistoryLine(
            when=entry.at.astimezone(zone).strftime("%d/%m/%Y %H:%M"),
            iso=entry.at.isoformat(),
            text=_sentence(entry, _),
            kind=str(entry.kind),
            actor_kind=entry.actor.kind,
        )
        for entry in reversed(entries)
    ]


def _value(entry: HistoryEntry, value: str, _: Translator) -> str:
    """An old or new value as shown: statuses and priorities by label; a missing team or
    assignee by name of its absence."""
    label: Callable[[str, str], str] = lambda kind, raw: _(LABELS[kind].get(raw, raw))  # noqa: E731
    if entry.kind == HistoryKind.STATUS:
        return label("status", value)
    if entry.kind == HistoryKind.PRIORITY:
        return label("priority", value)
    if entry.kind == HistoryKind.TEAM and not value:
        return _("No team")
    return value


def _sentence(entry: HistoryEntry, _: Translator) -> str:
    actor = entry.actor.name or _("System")
    detail = entry.detail
    if entry.kind in (HistoryKind.SLA_AT_RISK, HistoryKind.SLA_BREACHED, HistoryKind.SLA_MET):
        metric_label = LABELS["metric"].get(detail, detail)
        detail = _(metric_label)
    if entry.kind == HistoryKind.ROUTED and not detail:
        return _(_ROUTED_WITHOUT_RULE)
    if entry.kind == HistoryKind.ASSIGNEE and not entry.new:
        return _(_UNASSIGNED, actor=actor)
    sentence = _(
        _SENTENCES[entry.kind],
        actor=actor,
        old=_value(entry, entry.old, _),
        new=_value(entry, entry.new, _),
        detail=detail,
    )
    if entry.kind == HistoryKind.ASSIGNEE and entry.detail:
        reason = _REASONS.get(entry.detail)
        return _(_BY_ROUTING, sentence=sentence, reason=_(reason) if reason else entry.detail)
    return sentence
