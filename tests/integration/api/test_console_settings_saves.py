"""The console's agent, team and calendar forms save in one transaction, with
the version they were shown with (on SQLite and PostgreSQL).

A form shown before someone else's change is refused with 409 and the page
shows the current values, with their version, to start again from; a refused
part of a form (an unknown team among several) changes nothing at all.
"""

from __future__ import annotations

import re
from typing import Any

from helpdesk.policy import SYSTEM
from helpdesk.routing import services as routing
from helpdesk.routing.schemas import TeamRoutingIn
from helpdesk.routing.strategies import Strategy
from helpdesk.schemas import AgentUpdate, TeamUpdate
from helpdesk.services import agents, teams
from helpdesk.sla import services as sla
from helpdesk.sla.schemas import CalendarIn
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')
UNKNOWN = "2000000000"


def post(api: Api, url: str, token: str, **data: Any) -> Any:
    return api.client.post(url, data={**data, "_csrf": token}, follow_redirects=False)


def version_in(html: str) -> str:
    match = VERSION.search(html)
    assert match, html[:300]
    return match.group(1)


def test_a_stale_agent_form_is_refused_and_shown_with_the_current_values(api: Api) -> None:
    token = console_sign_in(api, "admin")
    agent_id = api.agent_ids["agent_a"]
    url = f"/console/admin/agents/{agent_id}"
    shown = version_in(api.client.get(url).text)
    form = {"name": "Agent A", "role": "agent", "capacity": "4", "active": "on",
            "teams": [str(api.team_a)], "languages": ["vi"]}  # fmt: skip

    # Given another administrator changed the agent after the form was shown
    api.run(agents.update_agent, SYSTEM, agent_id, AgentUpdate(capacity=17))

    # When the older form is saved
    stale = post(api, url, token, **form, version=shown)

    # Then it is refused, nothing changed, and the form shows what is stored now
    assert stale.status_code == 409
    assert "Người khác vừa thay đổi các thiết lập này." in stale.text
    assert api.run(agents.get_agent, SYSTEM, agent_id).capacity == 17
    assert 'name="capacity" type="number" value="17"' in stale.text
    current = version_in(stale.text)
    assert current != shown

    # And saving from the page shown again works
    assert post(api, url, token, **form, version=current).status_code == 303
    assert api.run(agents.get_agent, SYSTEM, agent_id).capacity == 4


def test_an_agent_form_with_an_unknown_team_changes_nothing(api: Api) -> None:
    token = console_sign_in(api, "admin")
    agent_id = api.agent_ids["agent_b"]
    url = f"/console/admin/agents/{agent_id}"
    before = api.run(agents.get_agent, SYSTEM, agent_id)
    refused = post(
        api, url, token, name="Đổi tên", role="manager", capacity="3", active="on",
        teams=[str(api.team_a), UNKNOWN], version=version_in(api.client.get(url).text),
    )  # fmt: skip
    assert refused.status_code == 422
    assert "Một số nhóm đã chọn không còn tồn tại." in refused.text
    assert api.run(agents.get_agent, SYSTEM, agent_id) == before


def test_an_edit_form_without_its_version_is_refused(api: Api) -> None:
    token = console_sign_in(api, "admin")
    agent_id = api.agent_ids["agent_a"]
    before = api.run(agents.get_agent, SYSTEM, agent_id)
    refused = post(api, f"/console/admin/agents/{agent_id}", token, name="X", capacity="1")
    assert refused.status_code == 422
    assert api.run(agents.get_agent, SYSTEM, agent_id) == before
    team = post(api, f"/console/admin/teams/{api.team_a}", token, name="X", strategy="manual")
    assert team.status_code == 422
    assert api.run(teams.get_team, SYSTEM, api.team_a).name != "X"


def test_a_stale_team_form_is_refused(api: Api) -> None:
    token = console_sign_in(api, "admin")
    url = f"/console/admin/teams/{api.team_b}"
    shown = version_in(api.client.get(url).text)
    before = api.run(teams.get_team, SYSTEM, api.team_b)

    # Given the team's routing was changed after the form was shown
    api.run(
        routing.set_team_routing,
        SYSTEM,
        api.team_b,
        TeamRoutingIn(strategy=Strategy.LEAST_LOADED),
    )
    stale = post(api, url, token, name="Đổi tên", strategy="round_robin", version=shown)
    assert stale.status_code == 409
    assert api.run(teams.get_team, SYSTEM, api.team_b) == before
    settings = api.run(routing.get_team_routing, SYSTEM, api.team_b)
    assert settings.strategy == Strategy.LEAST_LOADED
    assert 'value="least_loaded" selected' in stale.text


def test_a_team_form_with_an_unknown_member_changes_nothing(api: Api) -> None:
    token = console_sign_in(api, "admin")
    url = f"/console/admin/teams/{api.team_a}"
    before = api.run(teams.get_team, SYSTEM, api.team_a)
    routing_before = api.run(routing.get_team_routing, SYSTEM, api.team_a)
    refused = post(
        api, url, token, name="Đổi tên", strategy="round_robin",
        members=[str(api.agent_ids["agent_b"]), UNKNOWN],
        version=version_in(api.client.get(url).text),
    )  # fmt: skip
    assert refused.status_code == 422
    assert api.run(teams.get_team, SYSTEM, api.team_a) == before
    assert api.run(routing.get_team_routing, SYSTEM, api.team_a) == routing_before


def test_a_membership_saved_by_a_team_form_makes_the_agent_form_stale(api: Api) -> None:
    token = console_sign_in(api, "admin")
    agent_id = api.agent_ids["agent_b"]
    agent_url = f"/console/admin/agents/{agent_id}"
    shown = version_in(api.client.get(agent_url).text)
    members = api.run(teams.get_team, SYSTEM, api.team_a).member_ids
    api.run(teams.update_team, SYSTEM, api.team_a, TeamUpdate(member_ids=[*members, agent_id]))
    stale = post(api, agent_url, token, name="B", role="agent", capacity="5", version=shown)
    assert stale.status_code == 409
    assert api.team_a in api.run(agents.get_agent, SYSTEM, agent_id).team_ids


def test_a_calendar_form_keeps_the_settings_it_does_not_show(api: Api) -> None:
    token = console_sign_in(api, "admin")
    day = [{"start": "08:00", "end": "17:00"}]
    definition = {
        "hours": {"mon": day, "tue": day},
        "timezone": "America/Los_Angeles",
        "country": "US",
        "subdivision": "CA",
        "observed": False,
    }
    made = api.run(sla.create_calendar, SYSTEM, CalendarIn(name="CA", definition=definition))
    saved = post(
        api, f"/console/admin/sla/calendars/{made.id}", token, name="California",
        hours_mon="09:00-17:00", timezone="America/Los_Angeles", country="us",
    )  # fmt: skip
    assert saved.status_code == 303
    [calendar] = api.run(sla.list_calendars, SYSTEM)
    d = calendar.definition
    assert (calendar.name, d["subdivision"], d["observed"]) == ("California", "CA", False)
    assert d["hours"]["mon"] == [{"start": "09:00", "end": "17:00"}]
    assert d["hours"]["tue"] == []
