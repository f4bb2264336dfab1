"""Charts for the admin console, drawn on the server as SVG: nothing from another host, no
script, readable without colour (each bar carries its number) and by screen readers (a
title and a description, and the figures as a table beside it in the page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

_WIDTH, _HEIGHT = 640, 220
_TOP, _BOTTOM, _LEFT, _RIGHT = 16, 44, 36, 8


@dataclass(frozen=True)
class Bar:
    """One bar: its label under the axis, its value, and the line it is measured against."""

    label: str
    value: int
    limit: int | None = None
    muted: bool = False  # e.g. a closed day


def bar_chart(title: str, description: str, bars: Sequence[Bar], chart_id: str = "chart") -> str:
    """An SVG bar chart of ``bars``, each against its ``limit`` (drawn as a dashed mark).

    ``chart_id`` keeps the ids of several charts on one page apart.
    """
    top_value = max([1] + [bar.value for bar in bars] + [bar.limit or 0 for bar in bars])
    plot_width = _WIDTH - _LEFT - _RIGHT
    plot_height = _HEIGHT - _TOP - _BOTTOM
    slot = plot_width / max(1, len(bars))
    bar_width = max(2.0, slot * 0.6)

    def y_of(value: int) -> float:
        return _TOP + plot_height * (1 - value / top_value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_height}" x2="{_WIDTH - _RIGHT}" '
        f'y2="{_TOP + plot_height}" class="axis"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end" class="tick">{top_value}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_height}" text-anchor="end" class="tick">0</text>',
    ]
    for index, bar in enumerate(bars):
        x = _LEFT + index * slot + (slot - bar_width) / 2
        y = y_of(bar.value)
        kind = "bar muted" if bar.muted else "bar"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
            f'height="{_TOP + plot_height - y:.1f}" class="{kind}">'
            f"<title>{escape(bar.label)}: {bar.value}"
            f"{f' / {bar.limit}' if bar.limit is not None else ''}</title></rect>"
        )
        if bar.limit is not None:
            limit_y = y_of(bar.limit)
            parts.append(
                f'<line x1="{x - 2:.1f}" y1="{limit_y:.1f}" x2="{x + bar_width + 2:.1f}" '
                f'y2="{limit_y:.1f}" class="limit"/>'
            )
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
            f'class="value">{bar.value}</text>'
        )
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{_HEIGHT - _BOTTOM + 16}" '
            f'text-anchor="middle" class="label">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
