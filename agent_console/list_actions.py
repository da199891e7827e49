"""What an agent does to a list: change the ticked cases at once, keep the list as a view.

``POST /console/cases/bulk`` applies the bulk bar to the ticked cases
(:mod:`helpdesk.services.bulk_cases`: each case as if changed alone) and goes
back to the list with a summary: how many changed, and each case that did
not with the reason. ``POST /console/views`` keeps the list as it is shown
(queue, filters, order) under a name; ``GET /console/views/{id}`` opens it;
``POST /console/views/{id}/update`` stores the filters shown now in it;
``POST /console/views/{id}/delete`` deletes it once the box is ticked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from agent_console import _list_forms
from agent_console._forms import queue_query, text
from agent_console._pages import PathId, error_message, request_locale, safe_next
from helpdesk.domain import case_reference
from helpdesk.errors import HelpdeskError, ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Principal
from helpdesk.services import bulk_cases, saved_views
from helpdesk.services.bulk_cases import BulkResult
from helpdesk.services.queues import Queue
from helpdesk.services.saved_views import ViewUpdate
from helpdesk.web.sessions import current_session

__all__ = ["apply_bulk", "delete_view", "open_view", "save_view", "update_view"]

AnyRequest = Request[Any, Any, Any]


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


BULK_DONE = N_("%(count)s case(s) changed.")
BULK_FAILED = N_("Not changed: %(cases)s.")
BULK_INVALID = N_(
    "Tick at least one case (at most 200) and choose a change; to merge, type the case "
    "number and tick the confirmation."
)
VIEW_SAVED = N_("The view was saved.")
VIEW_DELETED = N_("The view was deleted.")
VIEW_NOT_SAVED = N_(
    "The view was not saved: give it a name (at most 100 characters) you do not use yet. "
    "Only managers share views."
)
CONFIRM_DELETE = N_("Tick the box to confirm that the view should be deleted.")


def _back(request: AnyRequest, kind: str, message: str, target: str) -> Redirect:
    """To ``target`` with ``message`` (already translated) shown once."""
    current_session(request).set_flash(kind, message)
    return Redirect(path=safe_next(target), status_code=303)


def _summary(result: BulkResult, request: AnyRequest) -> tuple[str, str]:
    _ = translator(request_locale(request))
    text_ = _(BULK_DONE, count=len(result.changed))
    if not result.failed:
        return "ok", text_
    reasons = ", ".join(
        f"{case_reference(f.case_id)} ({_(error_message(f.code))})" for f in result.failed
    )
    return "error", f"{text_} {_(BULK_FAILED, cases=reasons)}"


@post("/cases/bulk", include_in_schema=False)
async def apply_bulk(request: AnyRequest, principal: NamedDependency[Principal]) -> Redirect:
    """Apply the bulk bar to the ticked cases; back to the list with a summary."""
    form = await request.form()
    back = text(form, "next")
    try:
        result = await bulk_cases.apply_bulk_change(principal, _list_forms.bulk_change(form))
    except ValidationError:
        _ = translator(request_locale(request))
        return _back(request, "error", _(BULK_INVALID), back)
    kind, message = _summary(result, request)
    return _back(request, kind, message, back)


def _view_url(queue: Queue, query: Any, view_id: int) -> str:
    params = {**query.query_without_cursor(), "view": str(view_id)}
    return f"/console/queues/{queue}?{urlencode(params)}"


@post("/views", include_in_schema=False)
async def save_view(request: AnyRequest, principal: NamedDependency[Principal]) -> Redirect:
    """Keep the list shown (its queue and filters, sent with the form) as a view."""
    form = await request.form()
    queue_name = text(form, "queue")
    queue = Queue(queue_name) if queue_name in set(Queue) else Queue.ALL
    query = queue_query({k: v for k, v in form.items() if isinstance(v, str)})
    _ = translator(request_locale(request))
    try:
        data = _list_forms.view_in(form, _list_forms.view_definition(queue, query))
        view = await saved_views.create_view(principal, data)
    except HelpdeskError:
        return _back(request, "error", _(VIEW_NOT_SAVED), text(form, "next"))
    return _back(request, "ok", _(VIEW_SAVED), _view_url(queue, query, view.id))


@get("/views/{view_id:int}", include_in_schema=False)
async def open_view(principal: NamedDependency[Principal], view_id: PathId) -> Redirect:
    """A saved view: its queue with its filters."""
    view = await saved_views.get_view(principal, view_id)
    query = _list_forms.view_query(view.definition)
    return Redirect(path=_view_url(view.definition.queue, query, view.id), status_code=303)


@post("/views/{view_id:int}/update", include_in_schema=False)
async def update_view(
    request: AnyRequest, principal: NamedDependency[Principal], view_id: PathId
) -> Redirect:
    """Store the filters shown now in the view."""
    form = await request.form()
    view = await saved_views.get_view(principal, view_id)
    query = queue_query({k: v for k, v in form.items() if isinstance(v, str)})
    definition = _list_forms.view_definition(view.definition.queue, query)
    await saved_views.update_view(principal, view_id, ViewUpdate(definition=definition))
    _ = translator(request_locale(request))
    return _back(request, "ok", _(VIEW_SAVED), _view_url(view.definition.queue, query, view_id))


@post("/views/{view_id:int}/delete", include_in_schema=False)
async def delete_view(
    request: AnyRequest, principal: NamedDependency[Principal], view_id: PathId
) -> Redirect:
    """Delete the view, once its box is ticked."""
    form = await request.form()
    _ = translator(request_locale(request))
    view = await saved_views.get_view(principal, view_id)
    if text(form, "confirm") != "yes":
        query = _list_forms.view_query(view.definition)
        return _back(
            request, "error", _(CONFIRM_DELETE), _view_url(view.definition.queue, query, view_id)
        )
    await saved_views.delete_view(principal, view_id)
    return _back(request, "ok", _(VIEW_DELETED), f"/console/queues/{view.definition.queue}")
