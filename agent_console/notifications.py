"""The agent's notifications: the list, opening one, marking all read, and the choices.

``/console/notifications`` lists them newest first, a page at a time;
``/console/notifications/{id}/open`` marks one read and goes to its case (the
bell's links and the browser notifications lead there: marking read twice
is harmless, so a GET is safe); ``/console/notifications/read-all`` (POST)
marks all read; ``/console/notifications/count`` answers the unread count as
JSON, read from the table (``static/notifications.js`` asks it on every new
notification and after every reconnection). ``/console/notifications/settings``
holds each kind's choices: shown in the console, sent by email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from agent_console._pages import PathId, done, render, request_locale, settings_of
from helpdesk.i18n import TZ_COOKIE, translator, viewer_timezone
from helpdesk.notifications import services
from helpdesk.notifications.kinds import KIND_LABELS, N_, Choice, Kind, render_text
from helpdesk.notifications.services import NotificationOut
from helpdesk.policy import Principal
from helpdesk.services import workspace

__all__ = [
    "list_page",
    "open_one",
    "read_all",
    "save_settings",
    "settings_page",
    "unread",
]

LIST_URL = "/console/notifications"
SETTINGS_URL = "/console/notifications/settings"
ALL_READ = N_("Every notification is marked read.")
SAVED = N_("Your notification settings were saved.")
TITLE = N_("Support centre: new notification")
_FORMATS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
_KINDS = {kind.value: kind for kind in Kind}

AnyRequest = Request[Any, Any, Any]


def _page_number(raw: str | None) -> int:
    """``?page=`` as a page number; anything else is the first page."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 5 else 1


def _item(request: AnyRequest, item: NotificationOut) -> dict[str, Any]:
    locale = request_locale(request)
    _ = translator(locale)
    zone = viewer_timezone(request.cookies.get(TZ_COOKIE), settings_of(request).timezone)
    return {
        "id": item.id,
        "text": render_text(item.kind, item.params, item.case_id, item.actor_name, _),
        "kind": _(KIND_LABELS[_KINDS[item.kind]]) if item.kind in _KINDS else item.kind,
        "when": _when(item.created_at, locale, zone),
        "unread": item.read_at is None,
        "href": f"{LIST_URL}/{item.id}/open",
    }


def _when(value: datetime, locale: str, zone: str) -> str:
    """A date for people: dd/mm/yyyy HH:MM for Vietnamese readers, in their time zone."""
    pattern = _FORMATS.get(locale, _FORMATS["vi"])
    return format_datetime(value, pattern, tzinfo=ZoneInfo(zone), locale=Locale.parse(locale))


@get("/notifications", include_in_schema=False)
async def list_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """The signed-in agent's notifications, newest first, a page at a time."""
    page = await services.list_notifications(
        principal, _page_number(request.query_params.get("page"))
    )
    return render(
        request, "console/notifications.html", header=await workspace.header(principal),
        page=page, items=[_item(request, item) for item in page.items],
    )  # fmt: skip


@get("/notifications/count", include_in_schema=False)
async def unread(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[dict[str, Any]]:
    """``{"unread": n, "latest": {id, title, text, href} | null}``: the signed-in
    agent's unread count and newest unread notification, read from the table."""
    count = await services.unread_count(principal)
    latest = await services.latest_unread(principal)
    shown = None
    if latest is not None:
        item = _item(request, latest)
        title = translator(request_locale(request))(TITLE)
        shown = {"id": item["id"], "title": title, "text": item["text"], "href": item["href"]}
    return Response({"unread": count, "latest": shown}, headers={"Cache-Control": "no-store"})


@get("/notifications/{notification_id:int}/open", include_in_schema=False)
async def open_one(principal: NamedDependency[Principal], notification_id: PathId) -> Redirect:
    """Mark one notification read and go to its case (404 when it is not the agent's)."""
    case_id = await services.open_notification(principal, notification_id)
    target = f"/console/cases/{case_id}" if case_id is not None else LIST_URL
    return Redirect(path=target, status_code=303)


@post("/notifications/read-all", include_in_schema=False)
async def read_all(request: AnyRequest, principal: NamedDependency[Principal]) -> Redirect:
    """Mark every notification of the signed-in agent read."""
    await services.mark_all_read(principal)
    return done(request, LIST_URL, ALL_READ)


@get("/notifications/settings", include_in_schema=False)
async def settings_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """Each kind of notification, shown in the console or not, mailed or not."""
    choices = await services.get_choices(principal)
    return render(
        request, "console/notification_settings.html", header=await workspace.header(principal),
        rows=[(kind.value, KIND_LABELS[kind], *choices[kind]) for kind in Kind],
    )  # fmt: skip


@post("/notifications/settings", include_in_schema=False)
async def save_settings(request: AnyRequest, principal: NamedDependency[Principal]) -> Redirect:
    """Store the choices of the form: a ticked box is "on", a missing one "off"."""
    form = await request.form()
    choices: dict[Kind, Choice] = {
        kind: (form.get(f"{kind.value}.console") == "on", form.get(f"{kind.value}.email") == "on")
        for kind in Kind
    }
    await services.save_choices(principal, choices)
    return done(request, SETTINGS_URL, SAVED)
