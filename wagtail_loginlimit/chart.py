"""A small bar chart rendered on the server as inline SVG: no JavaScript, no
external assets, readable by screen readers (a title, a description and a
tooltip per bar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The drawing's own units; it is scaled to the panel's whole width.
WIDTH, HEIGHT = 800, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 26
# Below this width (in CSS px) the chart scrolls sideways rather than shrink
# its labels out of reading size.
MIN_WIDTH = 480


@dataclass(frozen=True)
class Series:
    label: str  # e.g. "Failed logins"
    values: list[int]  # one per day
    css_class: str  # lets a site restyle the bars
    color: str  # default fill, overridable with CSS


def nice_ceiling(value: int) -> tuple[int, int]:
    """The top of the y axis and its tick step, so that ticks land on round
    numbers (1, 2, 5, 10, 20, 50, …) and there are at most four of them."""
    value = max(value, 1)
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * 4 >= value:
                return -(-value // step) * step, step
        magnitude *= 10


def bar_chart(days: list[date], series: list[Series], *, title: str) -> SafeString:
    """Grouped bars: one group per day, one bar per series."""
    top, step = nice_ceiling(max((v for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(days), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="loginlimit-chart-title loginlimit-chart-desc" '
            'class="loginlimit-chart" style="display:block;width:100%;min-width:{}px;'
            'height:auto">'
            '<title id="loginlimit-chart-title">{}</title>'
            '<desc id="loginlimit-chart-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            MIN_WIDTH,
            title,
            _describe(days, series),
        )
    ]
    for tick in range(0, top + 1, step):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor" '
                'stroke-opacity="0.15"/>'
                '<text x="{}" y="{}" text-anchor="end" font-size="10" '
                'fill="currentColor">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                _n(y(tick)),
                _n(y(tick)),
                LEFT - 4,
                _n(y(tick) + 3),
                tick,
            )
        )
    for index, day in enumerate(days):
        x0 = LEFT + index * group_w + group_w * 0.1
        for number, one in enumerate(series):
            value = one.values[index]
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}" '
                    'style="fill:{}"><title>{}</title></rect>',
                    one.css_class,
                    _n(x0 + number * bar_w),
                    _n(y(value)),
                    _n(bar_w),
                    _n(TOP + plot_h - y(value)),
                    one.color,
                    f"{date_format(day, 'SHORT_DATE_FORMAT')}: {one.label}: {value}",
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="10" '
                'fill="currentColor">{}</text>',
                _n(LEFT + index * group_w + group_w / 2),
                HEIGHT - BOTTOM + 14,
                day_label(day, first=index == 0),
            )
        )
    parts.append(mark_safe("</svg>"))  # noqa: S308 (a literal)
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 (escaped parts)


def day_label(day: date, *, first: bool) -> str:
    """The axis label of a day: its number, and the month where the chart
    begins and where a month begins ("19 Nov", 20, …, "1 Dec")."""
    if first or day.day == 1:
        return date_format(day, "j M")
    return date_format(day, "j")


def _n(value: float) -> str:
    return f"{value:.1f}"


def _describe(days: list[date], series: list[Series]) -> str:
    if not days:
        return ""
    totals = ", ".join(f"{one.label}: {sum(one.values)}" for one in series)
    return _("From %(start)s to %(end)s. %(totals)s.") % {
        "start": date_format(days[0], "SHORT_DATE_FORMAT"),
        "end": date_format(days[-1], "SHORT_DATE_FORMAT"),
        "totals": totals,
    }
