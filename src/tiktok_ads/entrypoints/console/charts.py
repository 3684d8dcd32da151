"""Charts drawn by the server: the geometry of SVG bar charts, rendered by `_charts.html`.

No script and no style attribute (the Content-Security-Policy forbids inline styles):
colours come from CSS classes, sizes from SVG attributes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

STACK = ("delivered", "failed", "skipped", "waiting")  # bottom to top


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(slots=True)
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of horizontal grid lines
    labels: list[Text] = field(default_factory=list)
    axis: tuple[float, float, float, float] = (0, 0, 0, 0)  # x1, y1, x2, y2 of the baseline


def nice_ceiling(value: float, steps: int = 4) -> tuple[float, float]:
    """An axis top ≥ value and its tick step: 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return float(steps), 1.0
    raw = value / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0)
    return step * math.ceil(value / step), step


def bucket_label(iso: str | None, bucket_seconds: int) -> str:
    moment = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    return moment.strftime("%H:%M" if bucket_seconds < 86400 else "%d %b")


def timeline_chart(
    buckets: list[str | None], series: dict[str, list[int]], bucket_seconds: int
) -> Chart:
    """Stacked bars per bucket: what became of the events received in it."""
    width, height = 760, 240
    left, right, top, bottom = 48, 12, 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(1, len(buckets))
    top_value, step = nice_ceiling(max(series.get("received", [0]) or [0]))
    chart = Chart(width, height, axis=(left, top + plot_h, width - right, top + plot_h))
    ticks = round(top_value / step)
    for i in range(ticks + 1):
        y = top + plot_h - plot_h * (i * step) / top_value
        chart.grid.append(y)
        chart.labels.append(Text(left - 8, y + 4, f"{int(i * step):,}", "end"))
    slot = plot_w / count
    bar_w = max(2.0, slot * 0.72)
    every = max(1, math.ceil(count / 8))
    for index, iso in enumerate(buckets):
        x = left + index * slot + (slot - bar_w) / 2
        base = float(top + plot_h)
        label = bucket_label(iso, bucket_seconds)
        counts = {name: series.get(name, [0] * count)[index] for name in STACK}
        total = series.get("received", [0] * count)[index]
        title = f"{label}: {total:,} received — " + ", ".join(
            f"{counts[name]:,} {name}" for name in STACK if counts[name]
        )
        for name in STACK:
            if not counts[name]:
                continue
            h = plot_h * counts[name] / top_value
            base -= h
            chart.rects.append(Rect(x, base, bar_w, h, f"bar-{name}", title))
        if not total:
            chart.rects.append(Rect(x, top + plot_h - 1, bar_w, 1, "bar-empty", title))
        if index % every == 0 or index == count - 1:
            chart.labels.append(Text(x + bar_w / 2, height - 8, label))
    return chart


def funnel_chart(steps: list[dict[str, Any]]) -> Chart:
    """One horizontal bar per funnel step (events), with people as a darker inner bar."""
    width, row_h, left = 760, 46, 150
    chart = Chart(width, row_h * len(steps) + 8)
    plot_w = float(width - left - 150)
    widest = max([s["events"] for s in steps] + [1])
    for i, step in enumerate(steps):
        y = 6 + i * row_h
        events_w = plot_w * step["events"] / widest
        people_w = plot_w * step["people"] / widest
        chart.labels.append(Text(left - 12, y + 22, step["event_type"], "end"))
        chart.rects.append(Rect(left, y + 4, plot_w, 28, "bar-track"))
        if events_w:
            chart.rects.append(Rect(left, y + 4, events_w, 28, "bar-events"))
        if people_w:
            chart.rects.append(Rect(left, y + 12, people_w, 12, "bar-people"))
        chart.labels.append(Text(left + plot_w + 12, y + 16, f"{step['events']:,} events", "start"))
        chart.labels.append(Text(left + plot_w + 12, y + 31, f"{step['people']:,} people", "start"))
    return chart


def share_bar(parts: list[tuple[str, float]], width: int = 760, height: int = 28) -> Chart:
    """One 100 % bar split into parts (css class, share 0..100)."""
    chart = Chart(width, height)
    x = 0.0
    for css, share in parts:
        w = width * max(0.0, share) / 100
        if w:
            chart.rects.append(Rect(x, 0, w, height, css, f"{share:.1f} %"))
        x += w
    return chart
