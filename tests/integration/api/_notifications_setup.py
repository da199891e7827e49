"""Set-ups of the console permission matrix for the notification pages."""

from __future__ import annotations

from typing import Any

from helpdesk.notifications.tables import Notification
from helpdesk.schemas import AssignIn
from helpdesk.services import agents, cases
from tests.integration.api.conftest import Api


async def _latest(agent_id: int) -> int:
    row = (
        await Notification.select(Notification.id)
        .where(Notification.agent == agent_id)
        .order_by(Notification.id, ascending=False)
        .first()
    )
    assert row is not None, "the assignment notified nobody"
    return int(row["id"])


def new_notification(api: Api) -> dict[str, Any]:
    """A notification of agent A: the manager assigned them a case of team A."""
    agent_a = api.agent_ids["agent_a"]
    manager = api.run(agents.principal_for_agent, api.agent_ids["manager"])
    case_id = api.make_case(api.team_a).id
    api.run(cases.assign_case, manager, case_id, AssignIn(assignee_id=agent_a))
    return {"notification": api.run(_latest, agent_a)}
