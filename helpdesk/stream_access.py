"""Who may follow which live-update stream, and see which frame: the permission
policy applied to streams.

Used by every websocket (console, portal, chat) through :class:`helpdesk.live.LiveHub`.
A subscription is checked here against the database (:func:`authorize_stream`);
each frame is then checked again at delivery, without a query, against the
principal's cached rights and the case's cached :data:`Facts`, which the frames
of the case's own stream keep current (:func:`updated_facts`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpdesk.errors import PermissionDeniedError, ValidationError
from helpdesk.policy import Principal, case_scope
from helpdesk.pubsub import StreamFrame
from helpdesk.rows import CaseRow
from helpdesk.services.lookup import visible_case_row

__all__ = [
    "Facts",
    "authorize_stream",
    "case_facts",
    "customer_view",
    "leaving_payload",
    "may_follow",
    "merged_customer",
    "team_move",
    "updated_facts",
]

_KINDS = ("case", "team", "agent", "customer", "organization")

Facts = dict[str, Any]
"""What decides who may see a case, in the shape :meth:`CaseScope.allows` reads:
``id``, ``team``, ``assignee``, ``customer``, ``organization``. Never mutated:
a change makes a new dict, so a frame can keep the facts of its own moment."""


async def authorize_stream(principal: Principal, stream: str) -> Facts | None:
    """Raise unless ``principal`` may follow ``stream`` (the policy's view rules);
    for a case stream, return the case's :data:`Facts` (None for other kinds).

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
        return case_facts(await visible_case_row(principal, int(ident)))
    if not may_follow(principal, stream):
        raise PermissionDeniedError(f"not allowed to follow {stream}")
    return None


def case_facts(row: CaseRow) -> Facts:
    """The :data:`Facts` of a case row."""
    return {"id": row.id, "team": row.team_id, "assignee": row.assignee_id,
            "customer": row.customer_id, "organization": row.organization_id}  # fmt: skip


def may_follow(principal: Principal, stream: str, facts: Facts | None = None) -> bool:
    """Whether ``principal`` may follow ``stream``, without a query: a case
    stream needs the case's ``facts`` (False without them)."""
    kind, _, ident = stream.partition(":")
    if kind == "case":
        return principal.is_staff and facts is not None and case_scope(principal).allows(facts)
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


def updated_facts(facts: Facts, frame: StreamFrame) -> Facts:
    """The case's facts after ``frame`` of its own stream (the same dict when it
    changes nothing). Frames carry new values, never differences, so applying
    one the facts already reflect is harmless. SLA frames are ignored: their
    team and assignee are a timer's reading, not a change."""
    payload = frame.payload
    if frame.type == "case.updated":
        team = (payload.get("changes") or {}).get("team_id")
        if isinstance(team, list) and len(team) == 2 and team[1] != facts.get("team"):
            return {**facts, "team": team[1]}
    elif frame.type in ("case.assigned", "case.opened"):
        new = {**facts, "team": payload.get("team_id")}
        if frame.type == "case.assigned":
            new["assignee"] = payload.get("assignee_id")
        else:
            new["customer"] = payload.get("customer_id", facts.get("customer"))
        if new != facts:
            return new
    return facts


def merged_customer(facts: Facts, frame: StreamFrame) -> Facts:
    """The facts after a ``customer.merged`` frame (the source's cases are the target's)."""
    source, target = frame.payload.get("source_id"), frame.payload.get("target_id")
    if source is not None and facts.get("customer") == source:
        return {**facts, "customer": target}
    return facts


def team_move(frame: StreamFrame) -> tuple[int, Any] | None:
    """``(case_id, new_team)`` when ``frame`` tells a team's stream that one of
    its cases moved to another team (a ``case.updated`` changing ``team_id``
    from the stream's team); None for any other frame."""
    if frame.type != "case.updated" or not frame.stream.startswith("team:"):
        return None
    change = (frame.payload.get("changes") or {}).get("team_id")
    if not isinstance(change, list) or len(change) != 2:
        return None
    old = change[0] if change[0] is not None else "none"
    if frame.stream != f"team:{old}" or not isinstance(frame.payload.get("case_id"), int):
        return None
    return frame.payload["case_id"], change[1]


_LEAVING_KEYS = ("type", "case_id", "version", "team_id", "assignee_id", "previous_assignee_id")


def leaving_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """What someone who may no longer see a case sees of the frame that took it
    away: the case, its version, and the team or assignee change; never its
    subject, tags or other changes made at the same time."""
    reduced = {key: payload[key] for key in _LEAVING_KEYS if key in payload}
    team = (payload.get("changes") or {}).get("team_id")
    if team is not None:
        reduced["changes"] = {"team_id": team}
    return reduced


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
