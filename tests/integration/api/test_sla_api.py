"""The SLA through the API: policies and calendars, a case's SLA state, the
at-risk list, the report and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from helpdesk.sla.timers import fire_due
from tests.integration.api.conftest import Api

_OFFICE = [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]


def _policy(api: Api, **extra: object) -> dict[str, object]:
    body = {
        "name": "Khách hàng thường",
        "targets": {
            p: {"first_response": "PT1H", "next_response": "PT4H", "resolution": "PT16H"}
            for p in ("low", "normal", "high", "urgent")
        },
        **extra,
    }
    response = api.post("/api/v1/sla/policies", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def test_an_invalid_calendar_is_a_clear_422(api: Api) -> None:
    response = api.post(
        "/api/v1/sla/calendars",
        json={"name": "Sai", "definition": {"hours": {"mon": [{"start": "17:00", "end": "8"}]}}},
    )

    assert response.status_code == 422
    assert "hours" in response.json()["detail"]


def test_a_calendar_with_lunch_break_and_makeup_day_round_trips(api: Api) -> None:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), _OFFICE) | {"sat": [], "sun": []}
    definition = {
        "hours": hours,
        "timezone": "Asia/Ho_Chi_Minh",
        "country": "VN",
        "closed_dates": ["2027-01-04"],
        "makeup_days": [{"date": "2027-01-09"}],
    }

    created = api.post("/api/v1/sla/calendars", json={"name": "Hà Nội", "definition": definition})

    assert created.status_code == 201, created.text
    stored = created.json()["definition"]
    assert stored["hours"]["mon"] == _OFFICE
    assert stored["closed_dates"] == ["2027-01-04"]
    listed = api.get("/api/v1/sla/calendars", role="manager").json()
    assert "Hà Nội" in [c["name"] for c in listed]


def test_a_case_shows_each_target_with_due_time_offset_and_remaining(api: Api) -> None:
    _policy(api)
    case = api.make_case(api.team_a)

    response = api.get(f"/api/v1/cases/{case.id}/sla", role="agent_a")

    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Asia/Ho_Chi_Minh"
    targets = {t["metric"]: t for t in body["targets"]}
    assert set(targets) == {"first_response", "resolution"}
    first = targets["first_response"]
    assert first["target"] == "PT3600S"
    assert first["remaining_seconds"] <= 3600
    assert first["due_at"].endswith("+07:00")
    assert first["state"] in ("running", "at_risk", "breached")  # office hours may be closed
    assert first["paused"] is False
    remaining = first["remaining"]
    assert remaining.startswith(("PT", "-PT"))
    assert api.get(f"/api/v1/cases/{case.id}/sla", role="agent_b").status_code == 404


def test_the_at_risk_list_orders_by_due_time_within_the_callers_scope(api: Api) -> None:
    _policy(api)
    first = api.make_case(api.team_a)
    second = api.make_case(api.team_a)
    other_team = api.make_case(api.team_b)
    api.run(fire_due, datetime.now(UTC) + timedelta(days=30))

    mine = api.get("/api/v1/sla/at-risk", role="agent_a", params={"team_id": api.team_a}).json()
    ids = [item["case_id"] for item in mine]
    assert ids.index(first.id) < ids.index(second.id)
    assert other_team.id not in ids
    dues = [item["due_at"] for item in mine]
    assert dues == sorted(dues)
    assert all(item["team_id"] == api.team_a for item in mine)
    assert any(item["breached"] for item in mine)
    seen_by_b = api.get("/api/v1/sla/at-risk", role="agent_b").json()
    assert first.id not in [item["case_id"] for item in seen_by_b]
    assert other_team.id in [item["case_id"] for item in seen_by_b]


def test_the_report_and_its_csv_agree(api: Api) -> None:
    _policy(api)
    met = api.make_case(api.team_a)
    api.post(f"/api/v1/cases/{met.id}/messages", json={"body": "Chào anh"})
    api.make_case(api.team_a)
    now = datetime.now(UTC)
    period = {
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
        "group_by": "team",
    }

    report = api.get("/api/v1/reports/sla", role="manager", params=period)
    exported = api.get("/api/v1/reports/sla/csv", role="manager", params=period)

    assert report.status_code == 200, report.text
    body = report.json()
    team_a = next(g for g in body["groups"] if g["key"] == str(api.team_a))
    assert team_a["cases"] >= 2
    assert team_a["first_response"]["met"] >= 1
    assert body["totals"]["cases"] >= team_a["cases"]
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.text.startswith("\ufeffTeam,Name,Cases,")  # a BOM, English by default
    rows = list(csv.DictReader(io.StringIO(exported.text.removeprefix("\ufeff"))))
    row_a = next(r for r in rows if r["Team"] == str(api.team_a))
    assert int(row_a["Cases"]) == team_a["cases"]
    assert int(row_a["First response: Met"]) == team_a["first_response"]["met"]
    assert rows[-1]["Team"] == "*"


def test_a_report_period_that_ends_before_it_starts_is_a_422(api: Api) -> None:
    response = api.get(
        "/api/v1/reports/sla",
        role="manager",
        params={"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
