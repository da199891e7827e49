"""A few notifications for the demo agent, so the console's bell has something to show.

Written through the notifications' own delivery (the policy decides, the
agent's choices apply) with fixed keys, so a second run adds none.
"""

from __future__ import annotations

from helpdesk.db import transaction
from helpdesk.demo._load import World
from helpdesk.demo._people import STAFF
from helpdesk.domain import Role
from helpdesk.notifications.kinds import Kind
from helpdesk.tables import Case

_NOTE = "@{first} xem giúp khách này nhé, khách hàng VIP."


async def ensure_notifications(world: World) -> int:
    """Notify the first demo agent of four things about their cases; how many are new."""
    from helpdesk.notifications.reactor import Draft, deliver  # declares a job: broker first

    agent_index = next(i for i, m in enumerate(STAFF) if m.role == Role.AGENT)
    manager_index = next(i for i, m in enumerate(STAFF) if m.role == Role.MANAGER)
    agent_id, manager_id = world.staff[agent_index], world.staff[manager_index]
    rows = await (
        Case.select(Case.id, Case.team, Case.assignee, Case.customer, Case.organization,
                    Case.subject)
        .where(Case.assignee == agent_id)
        .order_by(Case.id, ascending=False)
        .limit(4)
    )  # fmt: skip
    first_name = STAFF[agent_index].name.split()[-1]
    kinds = [
        (Kind.ASSIGNED, manager_id, {}),
        (Kind.CUSTOMER_REPLIED, None, {}),
        (Kind.MENTIONED, manager_id, {"excerpt": _NOTE.format(first=first_name)}),
        (Kind.SLA_AT_RISK, None, {"metric": "first_response"}),
    ]
    written = 0
    async with transaction():
        for case, (kind, actor, extra) in zip(rows, kinds, strict=False):
            draft = Draft(
                agent_id=agent_id, kind=kind, case_id=case["id"], actor_id=actor,
                params={"subject": case["subject"][:120], **extra},
                dedupe_key=f"demo:{kind}:{case['id']}",
            )  # fmt: skip
            written += len(await deliver(case, [draft]))
    return written
