"""Who may follow which live-update stream: the permission policy applied to streams.

Used by every websocket (console, portal, chat) through :class:`helpdesk.live.LiveHub`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpdesk.errors import PermissionDeniedError, ValidationError
from helpdesk.policy import Principal, case_scope
from helpdesk.services.lookup import visible_case_row

__all__ = ["authorize_stream", "customer_view"]

_KINDS = ("case", "team", "agent", "customer", "organization")


async def authorize_stream(principal: Principal, stream: str) -> None:
    """Raise unless ``principal`` may follow ``stream`` (the policy's view rules).

    ``case:N``: the case is visible to them (staff in scope; a customer never:
    case streams carry internal notes). ``team:N`` / ``team:none``: staff who
    may list that team's queue. ``agent:N``: that agent alone.
    ``customer:N``: that customer alone (the portal's stream, without notes).
    ``organization:N``: customers of that organization when it shares its
    requests (the same events as the customer streams).
    """
    kind, _, ident = stream.partition(":")
    if kind not in _KINDS:
        raise ValidationError(f"unknown stream {stream!r}", field="stream")
    if kind == "case" and ident.isdigit() and principal.is_staff:
        await visible_case_row(principal, int(ident))
        return
    if not _may_follow(principal, kind, ident):
        raise PermissionDeniedError(f"not allowed to follow {stream}")


def _may_follow(principal: Principal, kind: str, ident: str) -> bool:
    if kind == "team" and principal.is_staff:
        scope = case_scope(principal)
        return (
            scope.everything
            or (ident == "none" and scope.include_teamless)
            or (ident.isdigit() and int(ident) in scope.team_ids)
        )
    if kind == "agent":
        return principal.is_staff and ident == str(principal.id)
    if kind == "customer":
        return principal.kind == "customer" and ident == str(principal.id)
    if kind == "organization":
        return (
            principal.kind == "customer"
            and principal.organization_shared
            and ident == str(principal.organization_id)
        )
    return False


def customer_view(text: str) -> str:
    """What a customer may see of a live message (a JSON text): of an event, its
    type, stream, number, case and status change; any other payload field
    (tags, team, assignee, …) is dropped. Other messages pass unchanged."""
    message = msgspec.json.decode(text)
    if not isinstance(message, dict) or message.get("type") != "event":
        return text
    payload = message.get("payload") or {}
    reduced: dict[str, Any] = {"case_id": payload.get("case_id")}
    status = (payload.get("changes") or {}).get("status")
    if status is not None:
        reduced["status"] = status
    message["payload"] = reduced
    return msgspec.json.encode(message).decode()
