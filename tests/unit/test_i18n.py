"""The viewer's time zone: taken from the browser's cookie only when it names a real zone."""

from __future__ import annotations

from datetime import UTC, datetime

from helpdesk.i18n import format_when, viewer_timezone


def test_the_viewers_time_zone_is_used_when_it_is_a_real_zone() -> None:
    assert viewer_timezone("Europe/Berlin", "Asia/Ho_Chi_Minh") == "Europe/Berlin"
    assert viewer_timezone(None, "Asia/Ho_Chi_Minh") == "Asia/Ho_Chi_Minh"
    assert viewer_timezone("Mars/Olympus", "Asia/Ho_Chi_Minh") == "Asia/Ho_Chi_Minh"
    assert viewer_timezone("../../etc/passwd", "Asia/Ho_Chi_Minh") == "Asia/Ho_Chi_Minh"
    assert viewer_timezone("x" * 100, "UTC") == "UTC"


def test_a_time_is_shown_in_the_viewers_zone() -> None:
    moment = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert "19:00" in format_when(moment, "vi", "Asia/Ho_Chi_Minh")
    assert "13:00" in format_when(moment, "vi", "Europe/Berlin")


def test_a_moment_reads_as_each_language_writes_it() -> None:
    moment = datetime(2026, 12, 7, 12, 18, tzinfo=UTC)
    assert format_when(moment, "vi", "Asia/Ho_Chi_Minh") == "07/12/2026 19:18"
    assert format_when(moment, "en", "Asia/Ho_Chi_Minh") == "7 Dec 2026, 19:18"
