"""Horizontal bar charts drawn by the server as inline SVG: each bar carries its label and
its value as text, and the page shows the same figures as a table for screen readers. No
chart library, no inline style (the CSP forbids it): geometry in attributes, colours in
portal.css."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 360  # about a phone's width: text stays readable when the chart is scaled to fit
LABEL_WIDTH = 135  # room for the longest label ("Science and culture", 技术技能 …)
VALUE_ROOM = 50  # right of the longest bar: its value
ROW = 36
BAR = 22
PAD = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as the page's language writes it
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    left: int
    bar_height: int

    @property
    def empty(self) -> bool:
        return all(b.value == 0 for b in self.bars)


def bar_chart(rows: list[tuple[str, float, str]], value_room: int = VALUE_ROOM) -> Chart:
    """`rows`: (label, value, value as shown). Bars scale to the largest value; a zero
    draws no bar but keeps its label and its 0. `value_room`: wider for long values."""
    top = max((value for _, value, _ in rows), default=0.0)
    room = WIDTH - LABEL_WIDTH - value_room
    bars = tuple(
        Bar(
            label=label,
            value=value,
            shown=shown,
            y=PAD + i * ROW,
            width=round(room * value / top, 1) if top > 0 else 0.0,
        )
        for i, (label, value, shown) in enumerate(rows)
    )
    return Chart(bars, WIDTH, PAD * 2 + ROW * len(rows), LABEL_WIDTH, BAR)
