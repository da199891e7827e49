"""The "at risk" queue: open cases whose SLA target is at risk or breached, soonest due first."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._pages import render
from helpdesk.policy import Principal
from helpdesk.services import workspace
from helpdesk.sla import services as sla_services

__all__ = ["at_risk_page"]


@get("/at-risk", include_in_schema=False)
async def at_risk_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    """Cases at risk or breached in the agent's scope; updated live on SLA events."""
    header = await workspace.header(principal)
    items = await sla_services.list_at_risk(principal, limit=200)
    return render(request, "console/at_risk.html", header=header, items=items, live_queue=True)
