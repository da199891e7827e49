"""Asking before a delete: a page that names the thing, says what depends on
it, and offers the delete only when nothing does.

The delete forms post ``confirm=yes``; a post without it (an old bookmark, a
form from another page) is sent to the confirmation page instead of deleting.
Deactivating an agent is asked on their own form: it is shown again with what
they leave behind, and saved once ``confirm_deactivate=yes`` comes with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Template

from agent_console._admin_forms import text
from agent_console._settings import EDIT_SETTINGS, settings_page
from helpdesk.errors import HelpdeskError
from helpdesk.policy import Principal, require
from helpdesk.routing.dependents import AgentDependents, agent_dependents
from helpdesk.schemas import AgentOut, AgentUpdate

__all__ = [
    "CONFIRMED",
    "Dependents",
    "UnconfirmedDeactivationError",
    "check_deactivation",
    "confirm_page",
    "confirmed",
]

AnyRequest = Request[Any, Any, Any]
CONFIRMED = "yes"


class Dependents:
    """What stops a delete: a msgid for one and for several, and their names."""

    def __init__(self, one: str, many: str, names: Sequence[str]) -> None:
        self.one, self.many, self.names = one, many, list(names)

    def message(self, _: Any) -> str:
        """The sentence in the reader's language (empty when nothing depends)."""
        if not self.names:
            return ""
        msgid = self.one if len(self.names) == 1 else self.many
        return str(_(msgid, count=len(self.names), names=", ".join(self.names)))


def confirmed(form: FormMultiDict) -> bool:
    """Whether the posted form is the confirmation page's."""
    return text(form, "confirm") == CONFIRMED


async def confirm_page(
    request: AnyRequest,
    principal: Principal,
    *,
    title: str,
    question: str,
    action: str,
    back: str,
    dependents: Dependents | None = None,
    note: str = "",
    error: HelpdeskError | None = None,
    active_queue: str = "",
) -> Template:
    """The confirmation page (administrators only): ``question`` (translated
    with ``name``), what depends on the thing, and the delete button when
    nothing does. ``error``: a delete that was refused meanwhile (409)."""
    require(principal, EDIT_SETTINGS)
    return await settings_page(
        request,
        principal,
        "console/manage/confirm_delete.html",
        error=error,
        active_queue=active_queue,
        title=title,
        question=question,
        action=action,
        back=back,
        dependents=dependents,
        note=note,
        confirm_value=CONFIRMED,
    )


class UnconfirmedDeactivationError(HelpdeskError):
    """An agent's form would deactivate them, and was not confirmed: the page
    shows what they leave behind and asks again (nothing is saved)."""

    code = "confirm_deactivation"
    status = 200

    def __init__(self, dependents: AgentDependents) -> None:
        super().__init__("deactivation not confirmed")
        self.dependents = dependents


async def check_deactivation(
    principal: Principal, agent: AgentOut, data: AgentUpdate, form: FormMultiDict, *, fresh: bool
) -> None:
    """Raise :class:`UnconfirmedDeactivationError` when ``data`` deactivates an
    active ``agent`` and ``form`` does not carry the confirmation. A form that
    is not ``fresh`` (shown before a change) is left to the service's 409."""
    if not fresh or not agent.active or data.active is not False:
        return
    if text(form, "confirm_deactivate") != CONFIRMED:
        raise UnconfirmedDeactivationError(await agent_dependents(principal, agent.id))
