"""The chat desk, ``/console/chats``: several live chats side by side.

The page lists the chats waiting in the agent's teams (with "Take") and the
agent's own active chats, and shows up to :data:`MAX_PANELS` of them as
panels (``?open=12,15``; by default the most recently active): each a
transcript of bubbles and a composer that sends on Enter (Shift+Enter for a
new line). A line is a public reply (:func:`helpdesk.services.messages.reply`,
plain text, no signature: a chat is a conversation, not a letter). Each
panel follows its case's stream; ``static/chats.js`` refreshes a panel's
transcript (``GET /console/chats/{id}/thread``) when its case changes.

Every case shown is read through the case services, so the permission
policy decides what the agent sees, as anywhere in the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Template

from agent_console._pages import AnyRequest, PathId, render
from helpdesk.channels.chat import ChatLine, transcript
from helpdesk.domain import Channel
from helpdesk.errors import HelpdeskError, ValidationError
from helpdesk.policy import Principal
from helpdesk.schemas import AssignIn, CaseFilter, CaseOut, MessageIn
from helpdesk.services import cases, customers, messages, workspace
from helpdesk.services.queues import Queue, list_queue

__all__ = ["MAX_PANELS", "chat_thread", "chats_page", "say", "take_chat"]

MAX_PANELS = 4
"""The most chats shown side by side (a wide screen holds four readable columns)."""

_CHATS = CaseFilter(channel=[Channel.CHAT])


async def _chat_lists(principal: Principal) -> tuple[list[CaseOut], list[CaseOut]]:
    """(waiting in my teams, unassigned; mine), each most recently active first."""
    waiting = await list_queue(principal, Queue.UNASSIGNED, _CHATS, limit=50)
    mine = await list_queue(principal, Queue.MINE, _CHATS, limit=50)
    return waiting.items, mine.items


def _open_ids(raw: str, mine: list[CaseOut]) -> list[int]:
    """The chats to show: those named in ``?open=``, else the newest of mine."""
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()][:MAX_PANELS]
    return ids or [case.id for case in mine[:MAX_PANELS]]


async def _panel(principal: Principal, case_id: int) -> dict[str, Any] | None:
    """One chat panel, or None when the agent may not see that case."""
    try:
        case = await cases.get_case(principal, case_id)
    except HelpdeskError:
        return None
    if case.channel != Channel.CHAT:
        return None
    customer = await customers.get_customer(principal, case.customer_id)
    return {"case": case, "customer": customer, "lines": await _bubbles(case.id)}


async def _bubbles(case_id: int) -> list[dict[str, Any]]:
    """The chat's public lines, each with its time as a datetime."""
    lines: list[ChatLine] = await transcript(case_id)
    return [
        {
            "who": line.who,
            "name": line.name,
            "text": line.text,
            "at": datetime.fromisoformat(line.at),
        }
        for line in lines
    ]


@get("/chats", include_in_schema=False)
async def chats_page(
    request: AnyRequest,
    principal: NamedDependency[Principal],
    open_: Annotated[str, Parameter(query="open", max_length=200)] = "",
) -> Template:
    """Waiting chats, my chats, and up to four of them open side by side."""
    waiting, mine = await _chat_lists(principal)
    panels = [p for i in _open_ids(open_, mine) if (p := await _panel(principal, i))]
    return render(
        request,
        "console/chats.html",
        header=await workspace.header(principal),
        waiting=waiting,
        mine=mine,
        panels=panels,
        open_ids=[p["case"].id for p in panels],
        live_cases=[p["case"].id for p in panels],
        live_queue=True,
    )


@get("/chats/{case_id:int}/thread", include_in_schema=False)
async def chat_thread(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Template:
    """The transcript of one chat panel (an HTML fragment)."""
    return await _thread(request, principal, case_id)


async def _thread(request: AnyRequest, principal: Principal, case_id: int) -> Template:
    case = await cases.get_case(principal, case_id)  # 404 when not visible
    return render(request, "console/_chat_thread.html", case=case, lines=await _bubbles(case.id))


@post("/chats/{case_id:int}/say", include_in_schema=False)
async def say(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Template:
    """Send one line to the visitor; answers with the panel's new transcript."""
    form = await request.form()
    text = str(form.get("text", "")).strip()
    if not text:
        raise ValidationError("an empty line is not sent")
    await messages.reply(principal, case_id, MessageIn(body=text))
    return await _thread(request, principal, case_id)


@post("/chats/{case_id:int}/take", include_in_schema=False)
async def take_chat(
    request: AnyRequest, principal: NamedDependency[Principal], case_id: PathId
) -> Redirect:
    """Take a waiting chat and open it beside the others."""
    await cases.assign_case(
        principal, case_id, AssignIn(assignee_id=principal.id, only_if_unassigned=True)
    )
    form = await request.form()
    opened = [part for part in str(form.get("open", "")).split(",") if part.isdigit()]
    ids = [*opened, str(case_id)][-MAX_PANELS:]
    return Redirect(path=f"/console/chats?open={','.join(ids)}", status_code=303)
