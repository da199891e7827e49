"""The case page, its actions (reply, note, take, assign, update, merge) and attachments.

Each action parses its form, calls one domain service and goes back to the
case page (303) with a message. When the service refuses the change (a stale
version, a closed case, an attachment too large…), the case page is shown
again with the reason and with what was typed in the reply and note boxes.
A case the agent may not see is a 404, as in the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console import _case_parts, _forms
from agent_console._labels import DONE, N_
from agent_console._pages import (
    PathId,
    done,
    error_message,
    render,
    request_locale,
    settings_of,
)
from helpdesk.domain import Priority, Status
from helpdesk.errors import HelpdeskError, PermissionDeniedError
from helpdesk.i18n import TZ_COOKIE, translator, viewer_timezone
from helpdesk.markup import message_html
from helpdesk.policy import Action, Principal, may
from helpdesk.schemas import AssignIn, CaseOut
from helpdesk.services import case_history, cases, messages, replies, workspace
from helpdesk.services.customers import ConfirmationRequiredError, CrossOrganizationMergeError
from helpdesk.sla import services as sla_services
from helpdesk.web.downloads import download
from helpdesk.web.previews import is_previewable, preview

AnyRequest = Request[Any, Any, Any]

CROSS_ORGANIZATION_MERGE = N_(
    "These customers belong to different organizations: only an admin may merge their cases."
)


def case_url(case_id: int) -> str:
    """The console page of a case."""
    return f"/console/cases/{case_id}"


async def _case_page(
    request: AnyRequest,
    principal: Principal,
    case_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    drafts: dict[str, str] | None = None,
    merge_confirmation: dict[str, Any] | None = None,
) -> Template:
    view = await workspace.case_view(principal, case_id)
    sla = await sla_services.case_sla(principal, case_id)
    _ = translator(request_locale(request))
    timezone = viewer_timezone(request.cookies.get(TZ_COOKIE), settings_of(request).timezone)
    history = _case_parts.history_lines(
        await case_history.case_history(principal, case_id), _, timezone
    )
    drafts = dict(drafts or {})
    chosen = request.query_params.get("macro")
    macro = next((m for m in view.macros if str(m.id) == chosen), None)
    if macro is not None and not drafts.get("reply"):
        drafts["reply"] = macro.text
    return render(
        request,
        "console/case.html",
        status_code=status_code,
        view=view,
        header=view.header,
        case=view.case,
        sla=sla,
        drafts=drafts,
        error=_(error) if error else None,
        history=history,
        reply_statuses=_case_parts.REPLY_STATUSES,
        previewable=is_previewable,
        message_html=lambda m: message_html(m, lambda i: f"/console/attachments/{i}/view"),
        statuses=list(Status),
        priorities=list(Priority),
        may_merge=may(principal, Action.MERGE_CASES),
        merge_confirmation=merge_confirmation,
    )


@get("/cases/{case_id:int}", include_in_schema=False)
async def case_page(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Template:
    """A case: its conversation, its customer, and the forms to work on it.

    ``?macro=ID`` puts that macro's text, placeholders filled, in the reply box.
    """
    return await _case_page(request, principal, case_id)


async def _act(
    request: AnyRequest,
    principal: Principal,
    case_id: int,
    action: str,
    operation: Callable[[FormMultiDict], Awaitable[Any]],
) -> Response[Any]:
    form = await request.form()
    try:
        result = await operation(form)
    except PermissionDeniedError:
        raise
    except HelpdeskError as exc:
        drafts = {"reply" if action == "reply" else "note": _forms.text(form, "body")}
        return await _case_page(
            request,
            principal,
            case_id,
            status_code=exc.status,
            error=error_message(exc),
            drafts=drafts if action in ("reply", "note") else None,
        )
    target = result.id if isinstance(result, CaseOut) else case_id
    message = DONE[action]
    if action == "reply":
        message = _case_parts.SENT_AND_SET.get(str(_case_parts.reply_status(form)), message)
    return done(request, case_url(target), message)


@post("/cases/{case_id:int}/reply", include_in_schema=False)
async def reply(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """A public reply to the customer, with files, signed; with ``then`` (pending or
    solved) the case's status changes in the same transaction, if the case is
    still at the ``version`` the page showed (a plain reply is never refused
    for a change made meanwhile)."""

    async def operation(form: FormMultiDict) -> Any:
        status = _case_parts.reply_status(form)
        version = _case_parts.reply_version(form) if status is not None else None
        data = await _forms.message_in(form)
        return await replies.send_reply(principal, case_id, data, status=status, version=version)

    return await _act(request, principal, case_id, "reply", operation)


@post("/cases/{case_id:int}/note", include_in_schema=False)
async def note(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """An internal note, with files: staff only (Markdown, never signed)."""

    async def operation(form: FormMultiDict) -> Any:
        return await replies.add_note(principal, case_id, await _forms.message_in(form))

    return await _act(request, principal, case_id, "note", operation)


@post("/cases/{case_id:int}/take", include_in_schema=False)
async def take(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """Take the case, if nobody has it yet (of two agents at once, one wins)."""

    async def operation(form: FormMultiDict) -> Any:
        data = AssignIn(assignee_id=principal.id, only_if_unassigned=True)
        return await cases.assign_case(principal, case_id, data)

    return await _act(request, principal, case_id, "take", operation)


@post("/cases/{case_id:int}/assign", include_in_schema=False)
async def assign(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """Give the case to an agent, or to nobody."""

    async def operation(form: FormMultiDict) -> Any:
        return await cases.assign_case(principal, case_id, _forms.assignment(form))

    return await _act(request, principal, case_id, "assign", operation)


@post("/cases/{case_id:int}/update", include_in_schema=False)
async def update(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """Change status, priority, team and tags (refused if the case changed meanwhile)."""

    async def operation(form: FormMultiDict) -> Any:
        return await cases.update_case(principal, case_id, _forms.case_update(form))

    return await _act(request, principal, case_id, "update", operation)


@post("/cases/{case_id:int}/merge", include_in_schema=False)
async def merge(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[Any]:
    """Merge this case into another one; then show that one.

    Cases of two customers are merged only after a second step: the case
    page asks the agent to confirm, naming both customers, and the
    confirming form sends them back (``confirm_customers``). Customers of
    different organizations: only an admin may (the page says so).
    """
    form = await request.form()
    try:
        target = _forms.merge_target(form)
        confirm = _forms.merge_confirmation(form)
        merged = await cases.merge_cases(principal, case_id, target, confirm)
    except ConfirmationRequiredError as exc:
        confirmation = _forms.confirmation_asked(target, exc)
        return await _case_page(
            request, principal, case_id, status_code=exc.status, merge_confirmation=confirmation
        )
    except CrossOrganizationMergeError as exc:
        return await _case_page(
            request, principal, case_id, status_code=exc.status, error=CROSS_ORGANIZATION_MERGE
        )
    except PermissionDeniedError:
        raise
    except HelpdeskError as exc:
        return await _case_page(
            request, principal, case_id, status_code=exc.status, error=error_message(exc)
        )
    return done(request, case_url(merged.id), DONE["merge"])


@get("/attachments/{attachment_id:int}", include_in_schema=False)
async def download_attachment(
    principal: NamedDependency[Principal], attachment_id: PathId
) -> Response[bytes]:
    """An attachment as a download, if the agent may see its case (404 otherwise)."""
    attachment, data = await messages.get_attachment(principal, attachment_id)
    return download(data, attachment.filename, attachment.content_type)


@post("/cases/{case_id:int}/preview", status_code=200, include_in_schema=False)
async def preview_message(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Response[str]:
    """The reply (``kind=reply``, signed) or note as it will show: sanitised HTML."""
    form = await request.form()
    body = _forms.text(form, "body").replace("\r\n", "\n")[: _forms.MAX_BODY]
    reply = _forms.text(form, "kind") != "note"
    html = await replies.preview(principal, case_id, body, reply=reply)
    return Response(html, media_type="text/html; charset=utf-8")


@get("/attachments/{attachment_id:int}/view", include_in_schema=False)
async def view_attachment(
    principal: NamedDependency[Principal], attachment_id: PathId
) -> Response[bytes]:
    """An image or PDF attachment shown in the browser (other files: a download),
    if the agent may see its case (404 otherwise)."""
    attachment, data = await messages.get_attachment(principal, attachment_id)
    return preview(data, attachment.filename, attachment.content_type)
