"""Small inline SVG charts (grouped bars, histogram, line chart) drawn in Python: no scripts, no
external files, every label escaped. Each function returns one ``<svg>`` element as a string."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#b07aa1",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
)
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,sans-serif"'


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _colors(names: Sequence[str], fixed: dict[str, str] | None) -> list[str]:
    return [(fixed or {}).get(name) or color(i) for i, name in enumerate(names)]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" {_FONT} font-size="12">'
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">'
        f"{escape(title)}</text>"
    )


def _legend(names: Sequence[str], colors: list[str], x: float, y: float, width: float) -> tuple[str, float]:
    """Legend entries left to right, wrapping; returns the SVG and the height used."""
    parts, cx, cy = [], x, y
    for i, name in enumerate(names):
        step = 30 + 7.5 * len(name)
        if cx + step > x + width and cx > x:
            cx, cy = x, cy + 18
        parts.append(
            f'<rect x="{_num(cx)}" y="{_num(cy - 9)}" width="11" height="11" fill="{colors[i]}"/>'
            f'<text x="{_num(cx + 15)}" y="{_num(cy)}">{escape(name)}</text>'
        )
        cx += step
    return "".join(parts), cy - y + 18


def _y_axis(left: float, top: float, plot_w: float, plot_h: float, y_max: float, label: str) -> str:
    parts = []
    for i in range(6):
        value = y_max * i / 5
        y = top + plot_h - plot_h * i / 5
        parts.append(
            f'<line x1="{_num(left)}" x2="{_num(left + plot_w)}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#e3e3e3"/><text x="{_num(left - 6)}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="#555">{escape(_tick(value))}</text>'
        )
    if label:
        parts.append(
            f'<text transform="translate(14 {_num(top + plot_h / 2)}) rotate(-90)" text-anchor="middle" '
            f'fill="#555">{escape(label)}</text>'
        )
    return "".join(parts)


def _tick(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.0f}"


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= value - 1e-12)


def grouped_bars(
    groups: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    y_max: float | None = None,
    y_label: str = "",
    width: int = 760,
    height: int = 320,
    rotate_labels: bool = False,
    colors: dict[str, str] | None = None,
) -> str:
    """One cluster of bars per group, one bar (and legend colour) per series. None: no bar.
    ``colors`` fixes the colour of some series by name (e.g. one per language across charts)."""
    for name, values in series.items():
        if len(values) != len(groups):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(groups)} groups")
    present = [v for values in series.values() for v in values if v is not None]
    y_max = y_max or nice_max(max(present, default=1.0))
    fills = _colors(list(series), colors)
    legend, legend_h = _legend(list(series), fills, 56, 40, width - 70)
    longest = max((len(g) for g in groups), default=0)
    label_h = min(24 + int(longest * 4.2), 170) if rotate_labels else 26
    left, top = 56, 34 + legend_h
    plot_w, plot_h = width - left - 14, height - top - label_h
    parts = [_open(width, height, title), legend, _y_axis(left, top, plot_w, plot_h, y_max, y_label)]
    slot = plot_w / max(len(groups), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    for g, group in enumerate(groups):
        x0 = left + g * slot + slot * 0.1
        for s, (name, values) in enumerate(series.items()):
            value = values[g]
            if value is None:
                continue
            h = plot_h * min(value, y_max) / y_max
            parts.append(
                f'<rect x="{_num(x0 + s * bar_w)}" y="{_num(top + plot_h - h)}" width="{_num(max(bar_w - 1, 1))}" '
                f'height="{_num(h)}" fill="{fills[s]}"><title>{escape(f"{group} · {name}: {value:.3f}")}'
                "</title></rect>"
            )
        cx, cy = left + g * slot + slot / 2, top + plot_h + 16
        if rotate_labels:
            parts.append(
                f'<text transform="translate({_num(cx)} {_num(cy - 4)}) rotate(-35)" text-anchor="end">'
                f"{escape(group)}</text>"
            )
        else:
            parts.append(f'<text x="{_num(cx)}" y="{_num(cy)}" text-anchor="middle">{escape(group)}</text>')
    parts.append(_baseline(left, top + plot_h, plot_w))
    return "".join(parts) + "</svg>"


def _baseline(left: float, y: float, plot_w: float) -> str:
    return f'<line x1="{_num(left)}" x2="{_num(left + plot_w)}" y1="{_num(y)}" y2="{_num(y)}" stroke="#888"/>'


def histogram(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    bins: int = 20,
    markers: dict[str, float] | None = None,
    width: int = 760,
    height: int = 300,
) -> str:
    """Counts of ``values`` in ``bins`` equal bins from 0; ``markers`` draws labelled dashed lines."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1; got {bins}")
    x_max = nice_max(max(values, default=1.0))
    step = x_max / bins
    counts = [0] * bins
    for value in values:
        counts[min(int(value / step), bins - 1)] += 1
    y_max = nice_max(max(counts, default=1))
    left, top, plot_w, plot_h = 56, 34, width - 90, height - 34 - 44
    parts = [_open(width, height, title), _y_axis(left, top, plot_w, plot_h, y_max, "questions")]
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        h = plot_h * count / y_max
        lo, hi = i * step, (i + 1) * step
        parts.append(
            f'<rect x="{_num(left + i * bar_w)}" y="{_num(top + plot_h - h)}" width="{_num(bar_w - 1)}" '
            f'height="{_num(h)}" fill="{color(0)}"><title>{escape(f"{_tick(lo)}–{_tick(hi)}: {count}")}'
            "</title></rect>"
        )
    for i in range(0, bins + 1, max(bins // 5, 1)):
        parts.append(
            f'<text x="{_num(left + i * bar_w)}" y="{_num(top + plot_h + 16)}" text-anchor="middle" '
            f'fill="#555">{escape(_tick(i * step))}</text>'
        )
    parts.append(
        f'<text x="{_num(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle" fill="#555">'
        f"{escape(x_label)}</text>"
    )
    for n, (name, value) in enumerate((markers or {}).items()):
        x = left + plot_w * min(value, x_max) / x_max
        parts.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top}" y2="{_num(top + plot_h)}" stroke="{color(3)}" '
            f'stroke-dasharray="4 3"/><text x="{_num(x + 4)}" y="{_num(top + 12 + 14 * n)}" '
            f'fill="{color(3)}">{escape(f"{name} {_tick(value)}")}</text>'
        )
    parts.append(_baseline(left, top + plot_h, plot_w))
    return "".join(parts) + "</svg>"


def line_chart(
    xs: Sequence[float],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    x_label: str,
    y_max: float = 1.0,
    width: int = 760,
    height: int = 300,
    colors: dict[str, str] | None = None,
) -> str:
    """One polyline with point markers per series over numeric ``xs`` (linear scale)."""
    if not xs:
        raise ValueError("line_chart needs at least one x value")
    fills = _colors(list(series), colors)
    legend, legend_h = _legend(list(series), fills, 56, 40, width - 70)
    left, top = 56, 34 + legend_h
    plot_w, plot_h = width - left - 24, height - top - 44
    lo, hi = min(xs), max(xs)

    def sx(x: float) -> float:
        return left + (plot_w * (x - lo) / (hi - lo) if hi > lo else plot_w / 2)

    def sy(y: float) -> float:
        return top + plot_h - plot_h * min(y, y_max) / y_max

    parts = [_open(width, height, title), legend, _y_axis(left, top, plot_w, plot_h, y_max, "")]
    for x in xs:
        parts.append(
            f'<text x="{_num(sx(x))}" y="{_num(top + plot_h + 16)}" text-anchor="middle" fill="#555">'
            f"{escape(_tick(x))}</text>"
        )
    parts.append(
        f'<text x="{_num(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle" fill="#555">'
        f"{escape(x_label)}</text>"
    )
    for s, (name, values) in enumerate(series.items()):
        points = [(sx(x), sy(v), x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        path = " ".join(f"{_num(px)},{_num(py)}" for px, py, _, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{fills[s]}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{_num(px)}" cy="{_num(py)}" r="4" fill="{fills[s]}">'
            f"<title>{escape(f'{name} @{_tick(x)}: {v:.3f}')}</title></circle>"
            for px, py, x, v in points
        ]
    parts.append(_baseline(left, top + plot_h, plot_w))
    return "".join(parts) + "</svg>"
