"""The geometry of the sales report's net-sales-per-day bar chart (drawn as SVG by its template)."""

import datetime
from dataclasses import dataclass

from retail.selectors.reports import DayRow


@dataclass(frozen=True)
class Mark:
    """A bar (x, y, width, height), an axis tick (y) or a date label (x); coordinates are SVG text."""

    day: datetime.date | None = None
    amount: int = 0
    x: str = ""
    y: str = ""
    width: str = ""
    height: str = ""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    bars: list[Mark]
    ticks: list[Mark]
    labels: list[Mark]
    axes: str  # polyline points of the y and x axes


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ step such that four steps reach `value`, times four."""
    if value <= 0:
        return 4 * 100
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if 4 * step >= value:
                return 4 * step
        magnitude *= 10


def _px(value: float) -> str:
    return f"{value:.1f}"


def net_sales_chart(rows: list[DayRow]) -> Chart:
    """Geometry of the net-sales-per-day bar chart (screen coordinates only: amounts stay integers)."""
    width, height, left, right, top, bottom = 720, 240, 84, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_top(max((r.net for r in rows), default=0))
    slot = plot_w / max(1, len(rows))
    gap = slot * 0.2 if slot >= 4 else 0
    bars = []
    for index, row in enumerate(rows):
        bar_h = plot_h * max(0, row.net) / top_value
        x = left + index * slot
        bars.append(Mark(day=row.day, amount=row.net, x=_px(x + gap / 2), y=_px(top + plot_h - bar_h),
                        width=_px(max(slot - gap, 0.5)), height=_px(bar_h)))
    ticks = [Mark(amount=top_value * n // 4, y=_px(top + plot_h - plot_h * n / 4)) for n in range(5)]
    every = max(1, -(-len(rows) // 6))  # at most about six date labels
    labels = [Mark(day=row.day, x=_px(left + (i + 0.5) * slot)) for i, row in enumerate(rows) if i % every == 0]
    return Chart(width=width, height=height, left=left, right=width - right, bottom=top + plot_h,
                 bars=bars, ticks=ticks, labels=labels,
                 axes=f"{left},{top} {left},{top + plot_h} {width - right},{top + plot_h}")
