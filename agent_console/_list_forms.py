"""The list pages' own forms: a bulk change of the selected cases, and a saved view.

A saved view keeps the queue filter form (:class:`~agent_console._forms.QueueQuery`)
as a :class:`~helpdesk.services.saved_views.ViewDefinition`; :func:`view_query`
turns a definition back into that form, so opening a view is opening its
queue with its filters. A definition made through the API with several
statuses or priorities is shown with the first one the form can hold (the
API lists it exactly).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict

from agent_console._forms import ANY_STATUS, NO_TEAM, QueueQuery, text
from helpdesk.domain import Status, parse_case_reference
from helpdesk.errors import ValidationError
from helpdesk.services.bulk_cases import MAX_CASES, BulkChange
from helpdesk.services.queues import ACTIVE_STATUSES, Queue
from helpdesk.services.saved_views import ViewDefinition, ViewIn

__all__ = ["KEEP", "UNASSIGN", "bulk_change", "view_definition", "view_in", "view_query"]

KEEP = ""  # a bulk select left at "no change"
UNASSIGN = "none"  # the bulk assignee (or team) choice that removes it


def _ids(form: FormMultiDict) -> list[int]:
    raw = [v for v in form.getall("case", []) if isinstance(v, str)]
    ids = [int(v) for v in raw if v.isascii() and v.isdigit() and 0 < len(v) <= 10]
    if not ids:
        raise ValidationError("select at least one case", field="case")
    if len(ids) > MAX_CASES:
        raise ValidationError(f"at most {MAX_CASES} cases at once", field="case")
    return ids


def _tags(form: FormMultiDict, name: str) -> list[str]:
    return [t for t in text(form, name).replace(",", " ").split() if t]


def bulk_change(form: FormMultiDict) -> BulkChange:
    """The change asked for by the bulk bar, for the ticked cases."""
    data: dict[str, Any] = {"case_ids": _ids(form)}
    merge = text(form, "merge_into").strip()
    if merge:
        if text(form, "confirm_merge") != "yes":
            raise ValidationError("tick the box to confirm the merge", field="confirm_merge")
        target = parse_case_reference(merge)
        if target is None:
            raise ValidationError("not a case number", field="merge_into")
        data["merge_into"] = target
    for name in ("assignee", "team"):
        value = text(form, name)
        if value != KEEP:
            data[f"{name}_id"] = None if value == UNASSIGN else value
    for name in ("status", "priority"):
        if text(form, name) != KEEP:
            data[name] = text(form, name)
    data["add_tags"], data["remove_tags"] = _tags(form, "add_tags"), _tags(form, "remove_tags")
    try:
        return msgspec.convert(data, BulkChange, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"invalid bulk change: {exc}") from exc


def view_definition(queue: Queue, query: QueueQuery) -> ViewDefinition:
    """What the queue page shows now, as a view's definition."""
    return ViewDefinition(queue=queue, filters=query.filters(), sort=query.case_sort())


def view_in(form: FormMultiDict, definition: ViewDefinition) -> ViewIn:
    """A new view named in ``form`` (``shared`` ticked or not)."""
    name = text(form, "name").strip()
    if not name or len(name) > 100:
        raise ValidationError("a view's name has 1 to 100 characters", field="name")
    return ViewIn(name=name, shared=text(form, "shared") == "on", definition=definition)


def view_query(definition: ViewDefinition) -> QueueQuery:
    """The queue filter form that shows ``definition``."""
    filters = definition.filters
    status = ""
    if set(filters.status) == set(Status):
        status = ANY_STATUS
    elif filters.status and set(filters.status) != set(ACTIVE_STATUSES):
        status = str(filters.status[0])
    team = ""
    if filters.team_id is not None:
        team = NO_TEAM if filters.team_id == 0 else str(filters.team_id)
    return QueueQuery(
        status=status,
        priority=str(filters.priority[0]) if filters.priority else "",
        team=team,
        channel=str(filters.channel[0]) if filters.channel else "",
        tag=filters.tag or "",
        q=filters.text or "",
        sort=str(definition.sort),
    )
