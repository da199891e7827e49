"""The arithmetic of the SLA report and its CSV (pure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.sla.reports import (
    CSV_BOM,
    GroupBy,
    SlaReport,
    _aggregate,
    _finish,
    _percentile,
    _safe,
    csv_header,
    report_csv,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _timer(grp: object, case_id: int, metric: str, **values: object) -> dict[str, object]:
    row = {"grp": grp, "case_id": case_id, "metric": metric, "active": False,
           "completed_at": None, "breaches": 0, "business_seconds": None}  # fmt: skip
    return row | values


def test_met_missed_and_open_targets_give_compliance_and_percentiles() -> None:
    done = {"completed_at": NOW, "active": False}
    timers = [
        _timer(1, 1, "first_response", business_seconds=600, **done),
        _timer(1, 2, "first_response", business_seconds=1800, **done),
        _timer(1, 3, "first_response", business_seconds=7200, breaches=1, **done),
        _timer(1, 4, "first_response", active=True),
        _timer(2, 5, "first_response", active=False),  # cancelled: left out
        _timer(None, 6, None),  # a case without SLA still counts as a case
    ]
    backlog = [{"grp": 1, "created_at": NOW - timedelta(hours=5)},
               {"grp": 1, "created_at": NOW - timedelta(days=10)}]  # fmt: skip

    groups = _aggregate(timers, backlog, NOW)
    team = _finish(groups["1"], "Hỗ trợ")

    assert team.cases == 4
    first = team.first_response
    assert (first.met, first.missed, first.open, first.breaches) == (2, 1, 1, 1)
    assert first.compliance == round(2 / 3, 4)
    assert first.median_hours == 0.5
    assert first.p90_hours == 2.0
    assert team.backlog == {"under_1d": 1, "1d_3d": 0, "3d_7d": 0, "over_7d": 1}
    assert _finish(groups["2"], "x").first_response.compliance is None
    assert _finish(groups["*"], "*").cases == 6


def test_nearest_rank_percentile() -> None:
    assert _percentile([], 50) is None
    assert _percentile([5], 90) == 5
    assert _percentile(list(range(1, 11)), 90) == 9
    assert _percentile(list(range(1, 11)), 50) == 5


def test_the_csv_has_a_line_per_group_and_neutralises_formulas() -> None:
    groups = _aggregate([_timer(1, 1, "resolution", completed_at=NOW, business_seconds=3600)],
                        [], NOW)  # fmt: skip
    report = SlaReport(
        start=NOW - timedelta(days=1), end=NOW, group_by=GroupBy.TEAM,
        groups=[_finish(groups["1"], "=HYPERLINK(evil)")], totals=_finish(groups["*"], "*"),
    )  # fmt: skip

    text = report_csv(report)

    assert text.startswith(CSV_BOM + "Team,Name,Cases,First response: Met,")  # Excel reads UTF-8
    assert text.endswith("\r\n")
    assert text.count("\r\n") == text.count("\n") == 3
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(CSV_BOM))))
    assert [r["Team"] for r in rows] == ["1", "*"]
    assert rows[0]["Name"] == "'=HYPERLINK(evil)"
    assert rows[0]["Resolution: Met"] == "1"
    assert rows[0]["Resolution: Compliance (%)"] == "100.0"
    assert rows[0]["Resolution: Median (hours)"] == "1.0"
    assert list(rows[0])[-1] == "Backlog: Over 7 days"


def test_the_csv_header_is_in_the_viewers_language() -> None:
    header = csv_header(GroupBy.AGENT, "vi")
    assert header[:4] == ["Nhân viên hỗ trợ", "Tên", "Yêu cầu", "Phản hồi đầu tiên: Đạt"]
    assert "Giải quyết: Tỷ lệ đạt SLA (%)" in header
    assert header[-1] == "Tồn đọng: Trên 7 ngày"
    assert len(header) == len(csv_header(GroupBy.AGENT, "en")) == 3 + 3 * 7 + 4


@pytest.mark.parametrize(
    ("name", "neutralised"),
    [
        ("=HYPERLINK(evil)", True),
        ("+1+1", True),
        ("-2+3", True),
        ("@SUM(A1)", True),
        ("\n=1+1", True),  # a leading line feed
        ("  =1+1", True),  # leading spaces
        ("\u3000=1+1", True),  # an ideographic space
        ("＝1+1", True),  # full-width equals sign
        ("＋1", True),
        ("\t1", True),
        ("Nhóm Hỗ trợ", False),
        ("A=B", False),
        ("", False),
    ],
)
def test_csv_names_cannot_start_a_formula(name: str, neutralised: bool) -> None:
    assert _safe(name) == ("'" + name if neutralised else name)
