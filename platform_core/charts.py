"""Server-side SVG charts: no JavaScript, printable, allowed by the strict CSP
(presentation attributes, no inline style). Each chart carries a <title> and a
<desc>; pages must also show the figures as a table (RGAA)."""
from __future__ import annotations

from itertools import count
from typing import Callable, Sequence

from markupsafe import Markup, escape

from .formatting import fr_number

# DSFR illustrative palette, distinguishable in grey when printed.
PALETTE = ("#000091", "#e1000f", "#009081", "#b34000", "#6a6af4", "#a558a0", "#716043", "#00a95f",
           "#fc5d00", "#417dc4")
WIDTH = 720
_ids = count(1)  # unique title/desc ids when a page holds several charts (RGAA)


def _fmt(value_format: Callable | None, value) -> str:
    if value is None:
        return "non calculable"
    return value_format(value) if value_format else fr_number(value, 2 if abs(value) < 10 else 0)


def _svg(height: int, title: str, desc: str, body: list[str]) -> Markup:
    n = next(_ids)
    head = (f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-t{n} chart-d{n}">'
            f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(items: Sequence[tuple[str, float | None]], title: str, value_format: Callable | None = None,
              reference: float | None = None, reference_label: str = "") -> Markup:
    """Horizontal bars, one per (label, value); an optional reference line (e.g. the
    national median)."""
    row, top, label_w, value_w = 24, 28, 220, 110
    plot_w = WIDTH - label_w - value_w
    values = [v for _, v in items if v is not None]
    vmax = max(values + ([reference] if reference is not None else []) + [0]) or 1
    height = top + row * len(items) + 16
    body = [f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = top + i * row
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(str(label))[:40]}</text>')
        if value is not None and value > 0:
            w = max(1.0, plot_w * value / vmax)
            body.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}"/>')
        body.append(f'<text x="{label_w + plot_w + 8}" y="{y + 16}">{escape(_fmt(value_format, value))}</text>')
    if reference is not None:
        x = label_w + plot_w * reference / vmax
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 12}" stroke="{PALETTE[3]}" '
                    f'stroke-width="2" stroke-dasharray="5 3"/>')
        body.append(f'<text x="{x:.1f}" y="{height - 2}" text-anchor="middle" fill="{PALETTE[3]}">'
                    f'{escape(reference_label)} {escape(_fmt(value_format, reference))}</text>')
        height += 4
    desc = "; ".join(f"{label} : {_fmt(value_format, v)}" for label, v in items)
    return _svg(height, title, desc, body)


def stacked_bar_chart(categories: Sequence[str], series: dict[str, Sequence[float]], title: str) -> Markup:
    """One horizontal bar per category, stacked by series, scaled to each total (shares)."""
    row, top, label_w = 26, 28, 220
    plot_w = WIDTH - label_w - 20
    names = list(series)
    legend_rows = (len(names) + 3) // 4
    height = top + row * len(categories) + 20 + legend_rows * 20
    body = [f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, cat in enumerate(categories):
        y = top + i * row
        body.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(str(cat))[:40]}</text>')
        total = sum((series[n][i] or 0) for n in names) or 1
        x = float(label_w)
        for j, name in enumerate(names):
            w = plot_w * (series[name][i] or 0) / total
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
                            f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)}</title></rect>')
            x += w
    ly = top + row * len(categories) + 12
    for j, name in enumerate(names):
        lx = (j % 4) * (WIDTH // 4)
        yy = ly + (j // 4) * 20
        body.append(f'<rect x="{lx}" y="{yy}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
                    f'<text x="{lx + 16}" y="{yy + 11}">{escape(name)[:26]}</text>')
    desc = "; ".join(
        f"{cat} : " + ", ".join(f"{n} {fr_number(series[n][i] or 0)}" for n in names)
        for i, cat in enumerate(categories))
    return _svg(height, title, desc, body)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float | None]], title: str,
               value_format: Callable | None = None) -> Markup:
    """One line per series over the x labels (years); gaps where a value is None."""
    left, top, bottom, right = 70, 30, 50, 20
    legend_rows = (len(series) + 3) // 4  # four legend entries per line
    plot_h = 180
    height = top + plot_h + bottom + 20 * (legend_rows - 1)
    plot_w = WIDTH - left - right
    values = [v for s in series.values() for v in s if v is not None]
    vmax = max(values + [0]) or 1
    n = max(1, len(x_labels) - 1)
    body = [f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#929292"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#929292"/>',
            f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{escape(_fmt(value_format, vmax))}</text>',
            f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, label in enumerate(x_labels):
        x = left + plot_w * (i / n if len(x_labels) > 1 else 0.5)
        body.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{escape(str(label))}</text>')
    for j, (name, vals) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        points = []
        for i, v in enumerate(vals):
            if v is None:
                continue
            x = left + plot_w * (i / n if len(x_labels) > 1 else 0.5)
            y = top + plot_h - plot_h * v / vmax
            points.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)} '
                        f'{escape(str(x_labels[i]))} : {escape(_fmt(value_format, v))}</title></circle>')
        if len(points) > 1:
            body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx = left + (j % 4) * (plot_w // 4)
        ly = top + plot_h + 28 + 20 * (j // 4)
        body.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{lx + 16}" y="{ly + 11}">{escape(name)[:26]}</text>')
    desc = "; ".join(f"{name} : " + ", ".join(f"{x} {_fmt(value_format, v)}" for x, v in zip(x_labels, vals))
                     for name, vals in series.items())
    return _svg(height, title, desc, body)
