"""Chart geometry for the dashboard: plain data that ``manage/_charts.html`` draws as SVG.

Nothing here knows SVG markup or HTTP: a chart is a Struct of coordinates in
a fixed view box, with every label already formatted for the reader's
locale. The template draws it (no JavaScript: the CSP allows none inline)
and the page shows the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec
from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_percent

from agent_console._labels import N_
from helpdesk.i18n import Translator, format_number
from helpdesk.sla.report_series import DayCompliance, DurationHistogram

LINE_WIDTH = 800  # the compliance chart spans the page
BAR_WIDTH = 440  # bar charts sit two or three abreast
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36
MAX_X_LABELS = 8

HOURS_BELOW = N_("under %(high)s h")
HOURS_BETWEEN = N_("%(low)s–%(high)s h")
HOURS_ABOVE = N_("%(low)s h or more")


class Tick(msgspec.Struct, frozen=True):
    """A grid line or axis label at one position."""

    at: float
    label: str


class Dot(msgspec.Struct, frozen=True):
    """One value of a line, with its tooltip."""

    x: float
    y: float
    title: str


class Line(msgspec.Struct, kw_only=True):
    """A series: runs of points joined by lines (``paths``; a day without a
    value breaks the line) and a dot per value."""

    key: str
    name: str
    paths: list[str]
    dots: list[Dot]


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    """One bar, its label below it and its value above it."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    title: str


class Chart(msgspec.Struct, kw_only=True):
    """A chart in a ``width`` × ``height`` view box; ``plot`` is the drawing
    area (left, top, right, bottom)."""

    width: int
    height: int = HEIGHT
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)
    y_ticks: list[Tick] = msgspec.field(default_factory=list)
    x_ticks: list[Tick] = msgspec.field(default_factory=list)
    lines: list[Line] = msgspec.field(default_factory=list)
    bars: list[Bar] = msgspec.field(default_factory=list)


def day_label(day: date, locale: str) -> str:
    """A short day and month in the reader's locale (28/11 in Vietnamese)."""
    return format_skeleton("dM", day, locale=Locale.parse(locale))


def long_day(day: date, locale: str) -> str:
    """A whole date in the reader's locale (28 thg 11, 2026 in Vietnamese)."""
    return format_date(day, format="medium", locale=Locale.parse(locale))


def percent(value: float | None, locale: str) -> str:
    """A share as a percentage ("" when there is none)."""
    if value is None:
        return ""
    return format_percent(value, format="#,##0.#%", locale=Locale.parse(locale))


def _y(value: float, top_value: float) -> float:
    bottom = HEIGHT - BOTTOM
    return round(bottom - (bottom - TOP) * (value / top_value if top_value else 0), 1)


def _frame(width: int, y_ticks: list[Tick]) -> Chart:
    return Chart(width=width, plot=(LEFT, TOP, width - RIGHT, HEIGHT - BOTTOM), y_ticks=y_ticks)


def _nice_top(largest: int) -> int:
    """A round upper bound for counts, so that ticks fall on whole numbers."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if largest <= step * 4:
            return step * 4
    return ((largest // 4) + 1) * 4


def compliance_chart(days: Sequence[DayCompliance], names: dict[str, str], locale: str) -> Chart:
    """Share of targets met per day, one line per metric in ``names`` (0–100 %)."""
    chart = _frame(
        LINE_WIDTH, [Tick(_y(p, 100), percent(p / 100, locale)) for p in (0, 25, 50, 75, 100)]
    )
    count = len(days)
    span = (LINE_WIDTH - RIGHT) - LEFT
    step = span / (count - 1) if count > 1 else 0.0

    def x_of(index: int) -> float:
        return round(LEFT + (index * step if count > 1 else span / 2), 1)

    every = max(1, -(-count // MAX_X_LABELS))
    chart.x_ticks = [
        Tick(x_of(i), day_label(d.day, locale)) for i, d in enumerate(days) if i % every == 0
    ]
    for key, name in names.items():
        line = Line(key=key, name=name, paths=[], dots=[])
        run: list[str] = []
        for index, day in enumerate(days):
            share = getattr(day, key).compliance
            if share is None:
                if run:
                    line.paths.append(" ".join(run))
                run = []
                continue
            x, y = x_of(index), _y(share * 100, 100)
            run.append(f"{x},{y}")
            title = f"{day_label(day.day, locale)} · {name}: {percent(share, locale)}"
            line.dots.append(Dot(x=x, y=y, title=title))
        if run:
            line.paths.append(" ".join(run))
        chart.lines.append(line)
    return chart


def bar_chart(
    values: Sequence[tuple[str, int]], locale: str, *, short: Sequence[str] | None = None
) -> Chart:
    """Bars for labelled counts (a histogram, the backlog by age); ``short``
    labels, when given, go under the bars (the full ones are the tooltips)."""
    top = _nice_top(max((v for _, v in values), default=0))
    chart = _frame(
        BAR_WIDTH,
        [Tick(_y(top * n / 4, top), format_number(top * n // 4, locale)) for n in range(5)],
    )
    slot = ((BAR_WIDTH - RIGHT) - LEFT) / max(1, len(values))
    for index, (label, value) in enumerate(values):
        y = _y(value, top)
        x = round(LEFT + slot * index + slot * 0.15, 1)
        text = format_number(value, locale)
        chart.bars.append(
            Bar(
                x=x,
                y=y,
                width=round(slot * 0.7, 1),
                height=round((HEIGHT - BOTTOM) - y, 1),
                label=label,
                value=text,
                title=f"{label}: {text}",
            )
        )
        axis = short[index] if short is not None else label
        chart.x_ticks.append(Tick(round(x + slot * 0.35, 1), axis))
    return chart


def bucket_label(low: float, high: float | None, locale: str, _: Translator) -> str:
    """The label of a duration bucket in hours ("1–2 h", "under 1 h", "24 h or more")."""
    if high is None:
        return _(HOURS_ABOVE, low=format_number(low, locale))
    if low == 0:
        return _(HOURS_BELOW, high=format_number(high, locale))
    return _(HOURS_BETWEEN, low=format_number(low, locale), high=format_number(high, locale))


def bucket_short(low: float, high: float | None, locale: str) -> str:
    """A bucket's bounds alone, for under its bar ("<1", "1–2", "≥24")."""
    if high is None:
        return f"≥{format_number(low, locale)}"
    if low == 0:
        return f"<{format_number(high, locale)}"
    return f"{format_number(low, locale)}–{format_number(high, locale)}"


def histogram_chart(histogram: DurationHistogram, locale: str, _: Translator) -> Chart:
    """The buckets of a duration histogram as bars (hours under the bars)."""
    return bar_chart(
        [(bucket_label(b.low_hours, b.high_hours, locale, _), b.count) for b in histogram.buckets],
        locale,
        short=[bucket_short(b.low_hours, b.high_hours, locale) for b in histogram.buckets],
    )
