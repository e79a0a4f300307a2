"""Small, clean SVG charts written by hand: a horizontal bar chart for the ranking and a line
chart for trends. Output is plain text with fixed number formatting, so the same data always
gives the same bytes; Chinese labels use the CJK fonts installed on the machine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
)
AXIS = "#888888"
GRID = "#e6e6e6"
TEXT = "#222222"


def _n(value: float) -> str:
    """Coordinates with at most one decimal and no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters are square, others about half as wide."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def _open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        f'<text x="16" y="26" font-size="16" font-weight="bold" fill="{TEXT}">'
        f"{escape(title)}</text>",
    ]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    note: str = ""  # printed after the value, e.g. the rank movement


def bar_chart(title: str, bars: Sequence[Bar], maximum: float = 100.0, width: int = 760) -> str:
    """Horizontal bars, one per item in the given order, value printed at the bar's end."""
    size = 13
    label_w = max([_text_width(b.label, size) for b in bars] + [40]) + 28
    value_w = 120
    bar_h, gap, top = 22, 8, 44
    plot_w = width - label_w - value_w
    height = top + len(bars) * (bar_h + gap) + 28
    parts = _open(width, height, title)
    for tick in range(0, 101, 20):
        x = label_w + plot_w * tick / 100
        parts.append(
            f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" '
            f'y2="{_n(height - 24)}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{_n(x)}" y="{_n(height - 8)}" font-size="11" fill="{AXIS}" '
            f'text-anchor="middle">{_n(maximum * tick / 100)}</text>'
        )
    for index, bar in enumerate(bars):
        y = top + index * (bar_h + gap)
        parts.append(
            f'<text x="{_n(label_w - 8)}" y="{_n(y + bar_h * 0.72)}" font-size="{size}" '
            f'fill="{TEXT}" text-anchor="end">{escape(bar.label)}</text>'
        )
        if bar.value is None:
            label = "不参评"
            end = label_w
        else:
            share = max(0.0, min(1.0, bar.value / maximum)) if maximum else 0.0
            end = label_w + plot_w * share
            parts.append(
                f'<rect x="{_n(label_w)}" y="{_n(y)}" width="{_n(end - label_w)}" '
                f'height="{bar_h}" fill="{PALETTE[0]}" rx="2"/>'
            )
            label = f"{bar.value:.2f}"
        if bar.note:
            label += f"  {bar.note}"
        parts.append(
            f'<text x="{_n(end + 6)}" y="{_n(y + bar_h * 0.72)}" font-size="12" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None leaves a gap
    color: str | None = None
    emphasis: bool = False


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    minimum: float = 0.0,
    maximum: float = 100.0,
    width: int = 760,
    height: int = 340,
) -> str:
    """Lines over periods with a legend on the right; single points are drawn as dots."""
    legend_w = max([_text_width(s.name, 12) for s in series] + [40]) + 40
    left, right, top, bottom = 48, legend_w + 16, 44, 40
    plot_w = width - left - right
    plot_h = height - top - bottom
    parts = _open(width, height, title)
    span = maximum - minimum or 1.0

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / len(labels) if labels else 0)

    def y_of(v: float) -> float:
        clipped = max(minimum, min(maximum, v))
        return top + plot_h * (1 - (clipped - minimum) / span)

    for step in range(6):
        value = minimum + span * step / 5
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{_n(y + 4)}" font-size="11" fill="{AXIS}" '
            f'text-anchor="end">{_n(value)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{_n(top + plot_h)}" x2="{_n(left + plot_w)}" '
        f'y2="{_n(top + plot_h)}" stroke="{AXIS}"/>'
    )
    every = max(1, -(-len(labels) // 12))  # at most about 12 axis labels
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{_n(x_of(i))}" y="{_n(top + plot_h + 18)}" font-size="11" '
                f'fill="{AXIS}" text-anchor="middle">{escape(label)}</text>'
            )
    for index, item in enumerate(series):
        color = item.color or PALETTE[index % len(PALETTE)]
        stroke = 3 if item.emphasis else 1.8
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(item.values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((x_of(i), y_of(value)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{color}" '
                    f'stroke-width="{stroke}" stroke-linejoin="round"/>'
                )
            for x, y in run:
                parts.append(
                    f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{3 if item.emphasis else 2.5}" '
                    f'fill="{color}"/>'
                )
        ly = top + 6 + index * 20
        lx = width - legend_w
        parts.append(
            f'<line x1="{_n(lx)}" y1="{_n(ly)}" x2="{_n(lx + 18)}" y2="{_n(ly)}" '
            f'stroke="{color}" stroke-width="{stroke}"/>'
        )
        parts.append(
            f'<text x="{_n(lx + 24)}" y="{_n(ly + 4)}" font-size="12" fill="{TEXT}">'
            f"{escape(item.name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def size_of(svg: str) -> tuple[int, int]:
    """The width and height written on the root element (for the PNG window size)."""
    head = svg.split(">", 1)[0]
    width = float(head.split('width="', 1)[1].split('"', 1)[0])
    height = float(head.split('height="', 1)[1].split('"', 1)[0])
    return round(width), round(height)
