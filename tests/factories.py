"""Factories that build valid rows through the domain services."""

from __future__ import annotations

import itertools

from helpdesk.domain import Role
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AgentIn, CaseCreate, CaseOut, TeamIn, TeamOut
from helpdesk.services import agents, cases, teams

_seq = itertools.count(1)


async def make_agent(
    role: Role = Role.AGENT, *, team_ids: list[int] | None = None, name: str | None = None
) -> Principal:
    n = next(_seq)
    out = await agents.create_agent(
        SYSTEM,
        AgentIn(
            name=name or f"Agent {n}",
            email=f"agent{n}@support.test",
            role=role,
            password="correct horse",
        ),
    )
    for team_id in team_ids or []:
        team = await teams.get_team(SYSTEM, team_id)
        from helpdesk.schemas import TeamUpdate

        await teams.update_team(SYSTEM, team_id, TeamUpdate(member_ids=[*team.member_ids, out.id]))
    return await agents.principal_for_agent(out.id)


async def make_team(name: str | None = None, *, is_default: bool = False) -> TeamOut:
    return await teams.create_team(
        SYSTEM, TeamIn(name=name or f"Team {next(_seq)}", is_default=is_default)
    )


async def make_case(
    principal: Principal = SYSTEM,
    *,
    email: str | None = None,
    team_id: int | None = None,
    subject: str = "Cannot log in",
) -> CaseOut:
    n = next(_seq)
    return await cases.open_case(
        principal,
        CaseCreate(
            subject=subject,
            body="Tôi không đăng nhập được vào tài khoản.",
            customer_email=email or f"customer{n}@example.vn",
            customer_name=f"Khách hàng {n}",
            team_id=team_id,
        ),
    )
