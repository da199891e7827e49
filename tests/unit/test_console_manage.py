"""Pure parts of the manager pages: the dashboard's period, chart geometry, form parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.datastructures import FormMultiDict

from agent_console._charts import HEIGHT, bar_chart, bucket_label, compliance_chart
from agent_console._dashboard import ReportQuery, report_period, report_query
from agent_console._sla_forms import calendar_in, policy_in
from helpdesk.errors import ValidationError
from helpdesk.i18n import translator
from helpdesk.sla.calendars import merge_definition
from helpdesk.sla.report_series import DayCompliance, Outcome


def test_the_last_seven_days_are_whole_local_days_today_included() -> None:
    now = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # 03:00 on the 29th in Hà Nội
    start, end = report_period(ReportQuery(period="7"), "Asia/Ho_Chi_Minh", now)
    assert start == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # 23/11 00:00 +07
    assert end == datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # 30/11 00:00 +07
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize(
    ("start", "end"), [("2026-02-01", "2026-01-01"), ("", "2026-01-01"), ("2026-01-01", "mai")]
)
def test_bad_custom_dates_are_validation_errors(start: str, end: str) -> None:
    with pytest.raises(ValidationError):
        report_period(ReportQuery(period="custom", start=start, end=end), "Asia/Ho_Chi_Minh")


def test_unknown_query_values_fall_back() -> None:
    query = report_query({"period": "365", "group": "moon", "team": "abc", "x": "y"})
    assert (query.period, query.group_by(), query.team_id()) == ("30", "team", None)


def test_a_day_without_decided_targets_breaks_the_line() -> None:
    def day(n: int, share: float | None) -> DayCompliance:
        outcome = Outcome(met=1 if share else 0, missed=0, compliance=share)
        return DayCompliance(day=date(2026, 11, n), first_response=outcome)

    chart = compliance_chart([day(1, 1.0), day(2, None), day(3, 0.5), day(4, 0.25)], {
        "first_response": "FR"
    }, "vi")  # fmt: skip
    [line] = chart.lines
    assert len(line.paths) == 2
    assert len(line.dots) == 3
    assert line.dots[0].y < line.dots[1].y < line.dots[2].y  # 100 % is at the top
    assert line.dots[1].title == "3/11 · FR: 50%"


def test_bars_scale_to_a_round_top() -> None:
    chart = bar_chart([("a", 0), ("b", 7), ("c", 3)], "vi")
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8"]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[1] > heights[2] > 0
    assert all(bar.y + bar.height <= HEIGHT for bar in chart.bars)


def test_bucket_labels_in_vietnamese() -> None:
    _ = translator("vi")
    assert bucket_label(0, 0.5, "vi", _) == "dưới 0,5 giờ"
    assert bucket_label(1, 2, "vi", _) == "1–2 giờ"
    assert bucket_label(24, None, "vi", _) == "từ 24 giờ trở lên"


def test_a_calendar_form_becomes_a_definition() -> None:
    form = FormMultiDict(
        {
            "name": "Hồ Chí Minh",
            "hours_mon": "08:00-12:00, 13:30–17:30",
            "country": "vn",
            "closed_dates": "2027-02-15, 2027-02-16",
            "makeup_days": "2027-02-20 sat\n\n2027-02-27 08:00-12:00",
        }
    )
    data = calendar_in(form)
    stored = {"country": "US", "subdivision": "SG", "observed": False}
    definition = merge_definition(stored, data.definition)
    assert definition["hours"]["mon"][1] == {"start": "13:30", "end": "17:30"}
    assert definition["country"] == "VN"
    assert definition["observed"] is False  # kept from the stored calendar
    assert definition["subdivision"] == "SG"
    assert "subdivision" not in merge_definition(stored, {"country": None})
    assert definition["makeup_days"] == [
        {"date": "2027-02-20", "hours_of": "sat"},
        {"date": "2027-02-27", "periods": [{"start": "08:00", "end": "12:00"}]},
    ]
    with pytest.raises(ValidationError, match=r"hours_tue"):
        calendar_in(FormMultiDict({"name": "x", "hours_tue": "8 giờ"}))


def test_targets_are_hours_and_minutes() -> None:
    form = FormMultiDict(
        {"name": "VIP", "t_urgent_resolution_h": "4", "t_urgent_resolution_m": "5"}
    )
    policy = policy_in(form)
    assert policy.targets["urgent"].resolution == timedelta(hours=4, minutes=5)
    assert list(policy.targets) == ["urgent"]
    with pytest.raises(ValidationError, match=r"t_urgent_resolution_h"):
        policy_in(FormMultiDict({"name": "VIP", "t_urgent_resolution_h": "-1"}))
