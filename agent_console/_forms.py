"""Turning query strings and posted forms into the domain's Structs.

Anything that does not fit raises :class:`~helpdesk.errors.ValidationError`,
except queue filters: a filter value that means nothing is ignored, so an
old bookmark still opens its queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict

from helpdesk.domain import Availability, Channel, Priority, Status, parse_case_reference
from helpdesk.errors import ValidationError
from helpdesk.schemas import AssignIn, CaseFilter, CaseUpdate, MacroIn, MessageIn
from helpdesk.services.customers import ConfirmationRequiredError
from helpdesk.services.queues import CaseSort
from helpdesk.web.uploads import uploaded_files

MAX_BODY = 1_000_000
ANY_STATUS = "any"
NO_TEAM = "none"


class QueueQuery(msgspec.Struct, kw_only=True):
    """The filter form of a queue as typed (shown again as it was)."""

    status: str = ""  # "": active statuses; "any"; or one status
    priority: str = ""
    team: str = ""  # a team id, "none", or "" for every team
    channel: str = ""
    tag: str = ""
    q: str = ""
    sort: str = str(CaseSort.UPDATED_DESC)
    cursor: str = ""

    def filters(self) -> CaseFilter:
        """The case filters this form asks for."""
        status: list[Status] = []
        if self.status == ANY_STATUS:
            status = list(Status)
        elif self.status in set(Status):
            status = [Status(self.status)]
        return CaseFilter(
            status=status,
            priority=[Priority(self.priority)] if self.priority in set(Priority) else [],
            channel=[Channel(self.channel)] if self.channel in set(Channel) else [],
            team_id=_team_filter(self.team),
            tag=self.tag.strip()[:64] or None,
            text=self.q.strip()[:200] or None,
        )

    def case_sort(self) -> CaseSort:
        """The sort order asked for (the default when unknown)."""
        return CaseSort(self.sort) if self.sort in set(CaseSort) else CaseSort.UPDATED_DESC

    def query_without_cursor(self) -> dict[str, str]:
        """The non-empty filter values, for "next page" links."""
        values = msgspec.structs.asdict(self)
        return {k: v for k, v in values.items() if v and k != "cursor"}


def _team_filter(value: str) -> int | None:
    if value == NO_TEAM:
        return 0
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 10 else None


def queue_query(params: Mapping[str, str]) -> QueueQuery:
    """The queue filter form from a query string; unknown parameters are ignored."""
    fields = QueueQuery.__struct_fields__
    return QueueQuery(**{name: str(params[name])[:500] for name in fields if params.get(name)})


def text(form: FormMultiDict, name: str) -> str:
    """A text field of ``form`` ("" when absent or not text)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def message_in(form: FormMultiDict) -> MessageIn:
    """A reply or note: the ``body`` text and the ``attachments`` files."""
    body = text(form, "body").replace("\r\n", "\n")
    if len(body) > MAX_BODY:
        raise ValidationError("the message is too long", field="body")
    return MessageIn(body=body, attachments=await uploaded_files(form))


def _convert(data: dict[str, Any], type_: type[Any]) -> Any:
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"invalid form: {exc}") from exc


def case_update(form: FormMultiDict) -> CaseUpdate:
    """Status, priority, team and tags from the case's properties form."""
    team = text(form, "team")
    tags = [t for t in text(form, "tags").replace(",", " ").split() if t]
    data: dict[str, Any] = {
        "version": text(form, "version"),
        "team_id": None if team in ("", NO_TEAM) else team,
        "tags": tags,
    }
    for name in ("status", "priority"):
        if text(form, name):
            data[name] = text(form, name)
    result: CaseUpdate = _convert(data, CaseUpdate)
    return result


def assignment(form: FormMultiDict) -> AssignIn:
    """Whom to give the case to ("" for nobody)."""
    assignee = text(form, "assignee")
    result: AssignIn = _convert({"assignee_id": assignee or None}, AssignIn)
    return result


def merge_target(form: FormMultiDict) -> int:
    """The case to merge into, typed as ``HD-000123``, ``#123`` or ``123``."""
    target = parse_case_reference(text(form, "target"))
    if target is None or not 0 < target <= 2**31 - 1:
        raise ValidationError("not a case number")
    return target


def merge_confirmation(form: FormMultiDict) -> list[int] | None:
    """The customers the agent confirmed a merge of (``confirm_customers``,
    "source,target" ids), or None when the form did not confirm one."""
    parts = [p.strip() for p in text(form, "confirm_customers").split(",") if p.strip()]
    if len(parts) != 2 or not all(
        p.isascii() and p.isdigit() and len(p) <= 10 and 0 < int(p) <= 2**31 - 1 for p in parts
    ):
        return None
    return [int(p) for p in parts]


def confirmation_asked(target: int | None, exc: ConfirmationRequiredError) -> dict[str, Any]:
    """What the page's confirming form shows for a merge of two customers'
    objects (both named) and sends back (``confirm_customers``)."""
    return {
        "target": target,
        "confirm_customers": ",".join(str(i) for i in exc.extra["confirm_customers"]),
        "source_customer": exc.extra["source_customer"],
        "target_customer": exc.extra["target_customer"],
    }


def macro_in(form: FormMultiDict) -> MacroIn:
    """A macro's name and text."""
    body = text(form, "body").replace("\r\n", "\n")
    result: MacroIn = _convert({"name": text(form, "name").strip(), "body": body}, MacroIn)
    return result


def availability(form: FormMultiDict) -> Availability:
    """The availability chosen in the header."""
    value = text(form, "availability")
    if value not in set(Availability):
        raise ValidationError(f"unknown availability {value!r}")
    return Availability(value)
