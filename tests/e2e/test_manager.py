"""A manager's SLA dashboard in a real browser: charts under the console's CSP, and the CSV.

Given/When/Then in the test body; texts are checked in Vietnamese (the default).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import Console, sign_in

Shot = Callable[[Page, str], None]


def test_a_manager_reads_the_sla_dashboard_and_downloads_the_csv(
    console: Console, new_page: Callable[..., Page], shot: Shot
) -> None:
    # Given Huy, a manager, signed in (and a watch on CSP violations)
    page = new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    sign_in(page, console, "huy")

    # When he opens the dashboard from the "Manage" menu
    page.locator("nav.queues a[href='/console/reports']").click()
    page.wait_for_url("**/console/reports")

    # Then he sees the charts, drawn as inline SVG with a title and a description
    expect(page.locator("h1")).to_have_text("Bảng điều khiển SLA")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    expect(page.locator("#chart-compliance > title")).to_have_text(
        "Tỷ lệ chỉ tiêu SLA đạt theo ngày"
    )
    expect(page.locator("#chart-backlog > desc")).not_to_be_empty()
    assert charts.first.bounding_box() is not None
    expect(page.locator("[data-kpi=cases]")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("table[data-table=team] tfoot")).to_contain_text("Tổng cộng")
    # (checked before the first screenshot: a full-page screenshot followed by an htmx
    # swap makes Chromium report an empty inline style, whatever the page)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    shot(page, "01-dashboard")

    # When he looks at the last 7 days by priority
    page.locator("select[name=period]").select_option("7")
    page.locator("select[name=group]").select_option("priority")
    page.locator("form.report-filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"group=priority"))
    expect(page.locator("table[data-table=priority]")).to_be_visible()
    shot(page, "02-by-priority")

    # And downloads the CSV
    with page.expect_download() as download:
        page.locator("a[href^='/console/reports/sla.csv']").click()

    # Then it is the report of that period and grouping, totals last
    assert re.fullmatch(r"sla-priority-\d{8}-\d{8}\.csv", download.value.suggested_filename)
    saved = download.value.path()
    data = Path(saved).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM: Excel shows the Vietnamese right
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[-1]["Mức ưu tiên"] == "*"  # the header row in the manager's language
    assert {"Phản hồi đầu tiên: Đạt", "Giải quyết: Tỷ lệ đạt SLA (%)"} <= set(rows[-1])
    assert "Tồn đọng: Trên 7 ngày" in rows[-1]
