"""Small server-rendered SVG charts: horizontal bars and a trend line, readable on a 360 px phone.

Charts are plain SVG with presentation attributes only (no `style=`, no script,
so the CSP holds); they scale with their `viewBox` and are sized by CSS
(`svg.chart`). Every text is escaped. Each chart carries a `<title>` and the
page shows the same figures as text, so nobody needs to read the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 340
FONT = 12
BAR = 18
GAP = 8
PALETTE = ("#b3261e", "#1f6feb", "#1a7f37", "#9a6700", "#8250df", "#5f6670")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str = PALETTE[0]
    # Shown after the value, e.g. "（逾期 2）".
    extra: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    colour: str
    dashed: bool = False  # tells two lines apart where they run together


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(
    x: float, y: float, content: str, *, anchor: str = "start", size: int = FONT, fill: str = "#1f2328"
) -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}">{escape(content)}</text>'
    )


def _svg(height: float, title: str, body: list[str]) -> Markup:
    # Every text in `body` and the title is escaped where it is built (`escape`, `_num`).
    return Markup(  # nosec B704
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _clip(label: str, room: int) -> str:
    """A label that fits `room` pixels (CJK characters are about one font size wide)."""
    limit = max(2, room // FONT)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _width(text: str) -> float:
    """About how wide `text` is drawn: CJK a font size, digits and Latin about 0.6 of it."""
    return sum(FONT if ord(ch) > 0x2E80 else FONT * 0.6 for ch in text)


def bar_chart(bars: Sequence[Bar], *, title: str, label_width: int = 96, full: int | None = None) -> Markup:
    """Horizontal bars, one a row: label on the left, the bar, its value at its end. The longest
    bar is the largest value, or `full` when the values are parts of a whole (100 for percents)."""
    top = 4
    height = top + max(1, len(bars)) * (BAR + GAP)
    most = full or max((b.value for b in bars), default=0) or 1
    # Space for the value text after the longest bar, e.g. "8（逾期 1）".
    tail = max((_width(f"{b.value}{b.extra}") for b in bars), default=0)
    room = WIDTH - label_width - max(56, tail + 8)
    body: list[str] = []
    if not bars:
        body.append(_text(0, top + BAR - 4, "—", fill="#5f6670"))
    for i, bar in enumerate(bars):
        y = top + i * (BAR + GAP)
        length = room * bar.value / most
        body.append(_text(0, y + BAR - 5, _clip(bar.label, label_width - 6)))
        body.append(
            f'<rect x="{label_width}" y="{y}" width="{_num(max(length, 1.5))}" height="{BAR}" '
            f'rx="3" fill="{escape(bar.colour)}"/>'
        )
        body.append(_text(label_width + length + 4, y + BAR - 5, f"{bar.value}{bar.extra}"))
    return _svg(height, title, body)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str) -> Markup:
    """Lines over evenly spaced points (weeks), with a y scale, every other x label and a legend."""
    left, right, top, plot_h = 28, 18, 24, 150
    height = top + plot_h + 24
    width = WIDTH - left - right
    most = max((v for s in series for v in s.values), default=0)
    step_y = _nice_step(most)
    ceiling = max(step_y * 4, step_y)
    points = max(1, len(labels) - 1)
    body: list[str] = []
    x_at = [left + width * i / points for i in range(len(labels))]

    def y_at(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    for tick in range(0, ceiling + 1, step_y):
        y = y_at(tick)
        body.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{WIDTH - right}" y2="{_num(y)}" stroke="#d9dde3" stroke-width="1"/>'
        )
        body.append(_text(left - 4, y + 4, str(tick), anchor="end", size=10, fill="#5f6670"))
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % 2 == 0:  # every other week, ending at this one
            body.append(_text(x_at[i], top + plot_h + 16, label, anchor="middle", size=10, fill="#5f6670"))
    legend_x = left
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        body.append(
            f'<line x1="{legend_x}" y1="10" x2="{legend_x + 14}" y2="10" stroke="{escape(s.colour)}" '
            f'stroke-width="3"{dash}/>'
        )
        body.append(_text(legend_x + 18, 14, s.name, size=11))
        legend_x += 18 + FONT * len(s.name) + 16
        coords = " ".join(f"{_num(x)},{_num(y_at(v))}" for x, v in zip(x_at, s.values, strict=False))
        body.append(
            f'<polyline points="{coords}" fill="none" stroke="{escape(s.colour)}" stroke-width="2.5" '
            f'stroke-linejoin="round" stroke-linecap="round"{dash}/>'
        )
        for x, v in zip(x_at, s.values, strict=False):
            body.append(f'<circle cx="{_num(x)}" cy="{_num(y_at(v))}" r="3" fill="{escape(s.colour)}"/>')
    return _svg(height, title, body)


def _nice_step(most: int) -> int:
    """A round step for four grid lines that reach above `most`."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step * 4 >= most:
            return step
    return max(1, -(-most // 4))
