"""The home page's 12-month trend charts, drawn on the server as inline SVG.

No script and no external file (CSP is nonce-only, no CDN). Readable in black and white: every bar and
point carries its value, the two bar series differ by a hatch pattern and the two lines by marker
shape and dash, and the legend repeats pattern and marker.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from lifecycle.statistics import TrendMonth

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 44, 30


def _svg(title: str, body: list[str], ident: str) -> Markup:
    return Markup(
        f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}-title" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _axes(months: list[TrendMonth], slot: float) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#333"/>']
    for i, m in enumerate(months):
        x = LEFT + slot * (i + 0.5)
        text = f"{m.month}月" if i and m.month != 1 else f"{m.year % 100:02d}年{m.month}月"
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#333">{text}</text>')
    return parts


def volume_chart(months: list[TrendMonth]) -> Markup:
    """Cases received (solid) and completed (hatched) per month, each bar labelled with its count."""
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    bar = slot * 0.34
    peak = max([m.received for m in months] + [m.completed for m in months] + [1])
    scale = (HEIGHT - TOP - BOTTOM) / peak
    bottom = HEIGHT - BOTTOM
    body = [
        '<defs><pattern id="hatch-completed" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1f6f43" stroke-width="3"/></pattern></defs>',
        *_axes(months, slot),
    ]
    for i, m in enumerate(months):
        centre = LEFT + slot * (i + 0.5)
        for value, x, fill, cls in (
            (m.received, centre - bar - 1, "#1f4e79", "bar-received"),
            (m.completed, centre + 1, "url(#hatch-completed)", "bar-completed"),
        ):
            height = value * scale
            body.append(
                f'<rect class="{cls}" x="{x:.1f}" y="{bottom - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{fill}" stroke="#1f4e79" stroke-width="0.8"/>'
            )
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{bottom - height - 3:.1f}" text-anchor="middle" '
                f'fill="#111">{value}</text>'
            )
    body += [
        f'<rect x="{LEFT}" y="6" width="14" height="12" fill="#1f4e79"/>',
        f'<text x="{LEFT + 18}" y="16">受理(实心)</text>',
        f'<rect x="{LEFT + 100}" y="6" width="14" height="12" fill="url(#hatch-completed)" stroke="#1f4e79"/>',
        f'<text x="{LEFT + 118}" y="16">办结(斜线)</text>',
    ]
    return _svg("近12个月受理与办结件数", body, "trend-volume")


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" stroke="#1f4e79" stroke-width="2"/>'
    return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#7a4a00" stroke="#7a4a00"/>'


def rate_chart(months: list[TrendMonth]) -> Markup:
    """On-time completion rate (circles, solid line) and satisfaction (squares, dashed) per month, in %."""
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    bottom = HEIGHT - BOTTOM
    span = HEIGHT - TOP - BOTTOM
    body = _axes(months, slot)
    for percent in (0, 50, 100):
        y = bottom - span * percent / 100
        body.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ccc"/>')
        body.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{percent}%</text>')
    series = (
        ("on_time_rate", "circle", "#1f4e79", ""),
        ("satisfaction_rate", "square", "#7a4a00", ' stroke-dasharray="6 4"'),
    )
    for attr, shape, colour, dash in series:
        other = "satisfaction_rate" if attr == "on_time_rate" else "on_time_rate"
        points = []
        for i, m in enumerate(months):
            rate = getattr(m, attr)
            if rate is None:
                continue
            # The higher of the month's two points is labelled above it, the lower below, so they never overlap.
            rival = getattr(m, other)
            above = rival is None or rate > rival or (rate == rival and attr == "on_time_rate")
            points.append((LEFT + slot * (i + 0.5), bottom - span * rate, rate, -8 if above else 17))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y, rate, label_dy in points:
            body.append(_marker(shape, x, y))
            body.append(
                f'<text x="{x:.1f}" y="{y + label_dy:.1f}" text-anchor="middle" fill="{colour}">{rate * 100:.0f}%</text>'
            )
    body += [
        _marker("circle", LEFT + 7, 12),
        f'<text x="{LEFT + 16}" y="16">按时办结率(圆点、实线)</text>',
        _marker("square", LEFT + 187, 12),
        f'<text x="{LEFT + 196}" y="16">满意率(方块、虚线)</text>',
    ]
    return _svg("近12个月按时办结率与满意率", body, "trend-rate")
