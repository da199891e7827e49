"""Saving an administrator's settings forms: one service call, one transaction,
and a version check (on SQLite and PostgreSQL).

An agent with their teams, a team with its members and routing, a business
calendar merged with the settings its form does not show: a refusal at any
step leaves nothing half-written, and a form shown before someone else's
change is refused with ``version_conflict``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helpdesk.domain import Availability, Role
from helpdesk.errors import ConflictError, ValidationError, VersionConflictError
from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import AgentIn, AgentUpdate, TeamIn, TeamUpdate
from helpdesk.services import agents, teams
from helpdesk.services.rows import json_dict
from helpdesk.sla import calendars
from helpdesk.sla.schemas import CalendarIn
from helpdesk.tables import Agent, AuditEntry
from tests.factories import make_agent, make_team

UNKNOWN = 2_000_000_000


async def _audit_count() -> int:
    return int(await AuditEntry.count())


async def _last_audit_id() -> int:
    row = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    return int(row["id"]) if row else 0


# --- an agent with their teams ----------------------------------------------------------


async def test_an_agent_is_created_with_their_teams_or_not_at_all(db: Any) -> None:
    team_a, team_b = await make_team(), await make_team()
    made = await agents.create_agent_with_teams(
        SYSTEM, AgentIn(name="Lan", email="lan@support.test"), [team_b.id, team_a.id]
    )
    assert made.team_ids == sorted([team_a.id, team_b.id])

    # When one team among several does not exist
    with pytest.raises(ValidationError, match=str(UNKNOWN)):
        await agents.create_agent_with_teams(
            SYSTEM,
            AgentIn(name="Hùng", email="hung@support.test"),
            [team_a.id, UNKNOWN, team_b.id],
        )
    # Then no agent is left behind, and the teams keep their members
    assert not await Agent.exists().where(Agent.email == "hung@support.test")
    assert (await teams.get_team(SYSTEM, team_a.id)).member_ids == [made.id]


async def test_an_agent_update_with_an_unknown_team_changes_nothing(db: Any) -> None:
    team_a, team_b = await make_team(), await make_team()
    agent_id = (await make_agent(team_ids=[team_a.id], name="Lan")).id
    before = await agents.get_agent(SYSTEM, agent_id)
    audited = await _audit_count()

    # When the agent's fields are written first and a team among several is unknown
    with pytest.raises(ValidationError, match=str(UNKNOWN)):
        await agents.update_agent_with_teams(
            SYSTEM,
            agent_id,
            AgentUpdate(name="Lan Anh", capacity=3, role=Role.MANAGER),
            [team_b.id, UNKNOWN],
            version=agents.agent_version(before),
        )
    # Then the whole save rolled back: fields, memberships and audit
    assert await agents.get_agent(SYSTEM, agent_id) == before
    assert (await teams.get_team(SYSTEM, team_b.id)).member_ids == []
    assert await _audit_count() == audited


async def test_an_agent_and_their_teams_change_together(db: Any) -> None:
    team_a, team_b, team_c = await make_team(), await make_team(), await make_team()
    agent_id = (await make_agent(team_ids=[team_a.id, team_b.id])).id
    before = await agents.get_agent(SYSTEM, agent_id)
    audited = await _last_audit_id()
    after = await agents.update_agent_with_teams(
        SYSTEM,
        agent_id,
        AgentUpdate(capacity=4, skills=["vat"]),
        [team_b.id, team_c.id],
        version=agents.agent_version(before),
    )
    assert (after.capacity, after.skills, after.team_ids) == (4, ["vat"], [team_b.id, team_c.id])
    assert agents.agent_version(after) != agents.agent_version(before)
    rows = await AuditEntry.select(AuditEntry.entity_id, AuditEntry.changes).where(
        (AuditEntry.action == "team.updated") & (AuditEntry.id > audited)
    )
    assert sorted((r["entity_id"], json_dict(r["changes"])) for r in rows) == [
        (team_a.id, {"member_removed": agent_id}),
        (team_c.id, {"member_added": agent_id}),
    ]


async def test_a_stale_agent_form_is_refused(db: Any) -> None:
    team = await make_team()
    agent_id = (await make_agent()).id
    shown = agents.agent_version(await agents.get_agent(SYSTEM, agent_id))

    # Given another administrator saved the agent since the form was shown
    await agents.update_agent_with_teams(
        SYSTEM, agent_id, AgentUpdate(capacity=2), [team.id], version=shown
    )
    current = await agents.get_agent(SYSTEM, agent_id)

    # When the older form is saved
    with pytest.raises(VersionConflictError) as refused:
        await agents.update_agent_with_teams(
            SYSTEM, agent_id, AgentUpdate(capacity=9), [], version=shown
        )
    # Then it is refused with the current version, and nothing changed
    assert refused.value.code == "version_conflict"
    assert refused.value.status == 409
    assert refused.value.extra["current_version"] == agents.agent_version(current)
    assert await agents.get_agent(SYSTEM, agent_id) == current


async def test_a_membership_changed_by_a_team_form_makes_the_agent_form_stale(db: Any) -> None:
    team = await make_team()
    agent_id = (await make_agent()).id
    shown = agents.agent_version(await agents.get_agent(SYSTEM, agent_id))
    await teams.update_team(SYSTEM, team.id, TeamUpdate(member_ids=[agent_id]))
    with pytest.raises(VersionConflictError):
        await agents.update_agent_with_teams(
            SYSTEM, agent_id, AgentUpdate(capacity=9), [], version=shown
        )
    assert (await teams.get_team(SYSTEM, team.id)).member_ids == [agent_id]


async def test_the_agents_own_availability_does_not_make_the_form_stale(db: Any) -> None:
    agent_id = (await make_agent()).id
    shown = agents.agent_version(await agents.get_agent(SYSTEM, agent_id))
    await agents.set_availability(SYSTEM, agent_id, Availability.AVAILABLE)
    saved = await agents.update_agent_with_teams(
        SYSTEM, agent_id, AgentUpdate(capacity=6), [], version=shown
    )
    assert (saved.capacity, saved.availability) == (6, Availability.AVAILABLE)


async def test_of_two_saves_of_one_form_exactly_one_wins(db: Any) -> None:
    agent_id = (await make_agent()).id
    shown = agents.agent_version(await agents.get_agent(SYSTEM, agent_id))

    async def save(capacity: int) -> int:
        out = await agents.update_agent_with_teams(
            SYSTEM, agent_id, AgentUpdate(capacity=capacity), [], version=shown
        )
        return out.capacity

    results = await asyncio.gather(save(11), save(12), return_exceptions=True)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert [type(r) for r in results if not isinstance(r, int)] == [VersionConflictError]
    assert (await agents.get_agent(SYSTEM, agent_id)).capacity == winners[0]


# --- a team with its members and routing ------------------------------------------------


ROUND_ROBIN = TeamRoutingIn(strategy=Strategy.ROUND_ROBIN, required_skill="vip")


async def _team_version(team_id: int) -> str:
    return routing.team_settings_version(
        await teams.get_team(SYSTEM, team_id), await routing.get_team_routing(SYSTEM, team_id)
    )


async def test_a_team_is_created_with_its_routing_or_not_at_all(db: Any) -> None:
    agent_id = (await make_agent()).id
    team, settings = await routing.create_team_with_routing(
        SYSTEM, TeamIn(name="VIP", member_ids=[agent_id]), ROUND_ROBIN
    )
    assert (team.member_ids, settings.strategy) == ([agent_id], Strategy.ROUND_ROBIN)

    with pytest.raises(ValidationError, match=str(UNKNOWN)):
        await routing.create_team_with_routing(
            SYSTEM, TeamIn(name="Hóa đơn", member_ids=[agent_id, UNKNOWN]), ROUND_ROBIN
        )
    assert [t.name for t in await teams.list_teams(SYSTEM)] == ["VIP"]
    with pytest.raises(ConflictError):
        await routing.create_team_with_routing(SYSTEM, TeamIn(name="VIP"), ROUND_ROBIN)


async def test_a_team_update_with_an_unknown_member_changes_nothing(db: Any) -> None:
    agent_id = (await make_agent()).id
    team, _ = await routing.create_team_with_routing(
        SYSTEM, TeamIn(name="VIP", member_ids=[agent_id]), ROUND_ROBIN
    )
    version = await _team_version(team.id)
    audited = await _audit_count()

    # When the name is written first and a member among several is unknown
    with pytest.raises(ValidationError, match=str(UNKNOWN)):
        await routing.update_team_with_routing(
            SYSTEM,
            team.id,
            TeamUpdate(name="Khách lớn", member_ids=[UNKNOWN, agent_id]),
            TeamRoutingIn(strategy=Strategy.LEAST_LOADED),
            version=version,
        )
    # Then neither the team nor its routing changed
    assert await _team_version(team.id) == version
    assert (await teams.get_team(SYSTEM, team.id)).name == "VIP"
    assert await _audit_count() == audited


async def test_a_failure_after_the_routing_was_written_undoes_the_team_change(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    team, _ = await routing.create_team_with_routing(SYSTEM, TeamIn(name="VIP"), ROUND_ROBIN)
    agent_id = (await make_agent()).id
    version = await _team_version(team.id)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the event could not be written")

    monkeypatch.setattr(routing, "emit", fail)  # the last step of set_team_routing
    with pytest.raises(RuntimeError):
        await routing.update_team_with_routing(
            SYSTEM,
            team.id,
            TeamUpdate(name="Khách lớn", member_ids=[agent_id]),
            TeamRoutingIn(strategy=Strategy.LEAST_LOADED),
            version=version,
        )
    assert await _team_version(team.id) == version


async def test_a_stale_team_form_is_refused(db: Any) -> None:
    team, _ = await routing.create_team_with_routing(SYSTEM, TeamIn(name="VIP"), ROUND_ROBIN)
    shown = await _team_version(team.id)

    # Given the routing alone was changed since the form was shown
    await routing.set_team_routing(SYSTEM, team.id, TeamRoutingIn(strategy=Strategy.MANUAL))
    current = await _team_version(team.id)
    assert current != shown

    with pytest.raises(VersionConflictError) as refused:
        await routing.update_team_with_routing(
            SYSTEM, team.id, TeamUpdate(name="Đổi tên"), ROUND_ROBIN, version=shown
        )
    assert refused.value.extra["current_version"] == current
    assert (await teams.get_team(SYSTEM, team.id)).name == "VIP"

    # A membership changed by an agent's form makes the team's form stale too
    agent_id = (await make_agent()).id
    agent = await agents.get_agent(SYSTEM, agent_id)
    await agents.update_agent_with_teams(
        SYSTEM, agent_id, AgentUpdate(), [team.id], version=agents.agent_version(agent)
    )
    with pytest.raises(VersionConflictError):
        await routing.update_team_with_routing(
            SYSTEM, team.id, TeamUpdate(member_ids=[]), ROUND_ROBIN, version=current
        )
    saved, settings = await routing.update_team_with_routing(
        SYSTEM,
        team.id,
        TeamUpdate(name="Đổi tên", member_ids=[]),
        ROUND_ROBIN,
        version=await _team_version(team.id),
    )
    assert (saved.name, saved.member_ids, settings.strategy) == (
        "Đổi tên",
        [],
        Strategy.ROUND_ROBIN,
    )


# --- a business calendar merged with what its form does not show ------------------------


def _office(**settings: object) -> dict[str, Any]:
    day = [{"start": "08:00", "end": "17:00"}]
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), day)
    return {"hours": hours, **settings}


async def test_a_calendar_change_keeps_the_settings_its_form_does_not_show(db: Any) -> None:
    stored = _office(
        timezone="America/Los_Angeles",
        country="US",
        subdivision="CA",
        observed=False,
        makeup_hours_of="sat",
    )
    made = await calendars.create_calendar(SYSTEM, CalendarIn(name="California", definition=stored))

    # When the form sends only what it shows
    changed = await calendars.merge_calendar(
        SYSTEM,
        made.id,
        CalendarIn(
            name="California (mới)",
            definition=_office(
                timezone="America/Los_Angeles", country="US", closed_dates=["2027-01-04"]
            ),
        ),
    )
    # Then what it does not show is kept
    d = changed.definition
    assert changed.name == "California (mới)"
    assert (d["subdivision"], d["observed"], d["makeup_hours_of"]) == ("CA", False, "sat")
    assert d["closed_dates"] == ["2027-01-04"]

    # A subdivision goes with its country
    no_country = await calendars.merge_calendar(
        SYSTEM, made.id, CalendarIn(name="Anywhere", definition={"country": None})
    )
    assert (no_country.definition["country"], no_country.definition["subdivision"]) == (None, None)
    assert no_country.definition["observed"] is False


async def test_an_invalid_merged_calendar_changes_nothing(db: Any) -> None:
    made = await calendars.create_calendar(
        SYSTEM, CalendarIn(name="Hà Nội", definition=_office(country="VN"))
    )
    with pytest.raises(ValidationError, match="subdivision"):
        await calendars.merge_calendar(
            SYSTEM,
            made.id,
            CalendarIn(name="Hà Nội 2", definition={"subdivision": "không-có"}),
        )
    [stored] = await calendars.list_calendars(SYSTEM)
    assert (stored.name, stored.definition) == ("Hà Nội", made.definition)


def test_merge_definition_keeps_what_is_left_out() -> None:
    stored = {"country": "US", "subdivision": "CA", "observed": False}
    assert calendars.merge_definition(stored, {"observed": True}) == {
        "country": "US",
        "subdivision": "CA",
        "observed": True,
    }
    assert calendars.merge_definition(stored, {"country": None}) == {
        "country": None,
        "observed": False,
    }
    assert stored == {"country": "US", "subdivision": "CA", "observed": False}
