"""What a console page tells its live-update script: the streams to follow, and texts.

Rendered into ``<body data-live-streams data-live-text>`` by ``base.html``;
``static/live.js`` reads them. The streams follow the permission policy's
scope (the hub checks each subscription again).
"""

from __future__ import annotations

from typing import Any

from agent_console._labels import N_
from helpdesk.i18n import Translator
from helpdesk.policy import Principal, case_scope
from helpdesk.schemas import CaseOut

__all__ = ["live_context"]

_TEXTS = {
    "live": N_("Live"),
    "reconnecting": N_("Reconnecting…"),
    "viewing": N_("{name} is viewing this case"),
    "typing": N_("{name} is typing a reply"),
    "first_response": N_("first response"),
    "next_response": N_("next response"),
    "resolution": N_("resolution"),
    "at_risk": N_("{case}: {metric} target at risk"),
    "breached": N_("{case}: {metric} target breached"),
}


def live_context(
    principal: Principal | None, context: dict[str, Any], _: Translator
) -> dict[str, Any]:
    """``streams`` (space-separated) and ``texts`` (translated) for the page."""
    if principal is None or principal.id is None:
        return {"streams": "", "texts": {}}
    streams = [f"agent:{principal.id}"]
    case = context.get("case")
    view = context.get("view")
    if isinstance(case, CaseOut):
        streams.append(f"case:{case.id}")
    streams += [f"case:{case_id}" for case_id in context.get("live_cases", [])]
    if isinstance(case, CaseOut) or context.get("live_queue") or hasattr(view, "rows"):
        # Lists follow their teams; a case page follows them too, for the nav's counts.
        streams += _team_streams(principal, [t.id for t in getattr(view, "teams", [])])
    texts = {key: _(text) for key, text in _TEXTS.items()}
    return {"streams": " ".join(streams), "texts": texts}


def _team_streams(principal: Principal, visible_team_ids: list[int]) -> list[str]:
    scope = case_scope(principal)
    team_ids = visible_team_ids if scope.everything else sorted(scope.team_ids)
    streams = [f"team:{team_id}" for team_id in team_ids]
    if scope.everything or scope.include_teamless:
        streams.append("team:none")
    return streams
