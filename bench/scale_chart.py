"""bench/results/scale.json as a chart (SVG, no plotting library): retrieval p50/p95 per mode and
size, embedded and server, and the keyword index's query p95 before and after (issue 12).

    .venv/bin/python bench/scale_chart.py        # writes bench/results/scale.svg
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COLOURS = {"keyword": "#4e79a7", "dense": "#f28e2b", "hybrid": "#59a14f"}


def bars(entries: dict) -> list[tuple[str, str, float, float]]:
    """(group label, mode, p50, p95) for every store entry, by mode then size."""
    rows = []
    stores = [(key.split("/"), entry) for key, entry in entries.items() if key.startswith("store/")]
    for (_, where, size), entry in sorted(stores, key=lambda pair: (pair[0][1], int(pair[0][2]))):
        for mode, latency in entry["retrieval_excluding_question_embedding"].items():
            rows.append((f"{where} {int(size) // 1000}k", mode, latency["p50_ms"], latency["p95_ms"]))
    return rows


def svg(rows: list[tuple[str, str, float, float]], title: str) -> str:
    width, height, left, bottom = 60 + 26 * len(rows) + 12 * (len(rows) // 3), 340, 50, 60
    top = max((r[3] for r in rows), default=1.0) * 1.1 or 1.0
    scale = (height - bottom - 30) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13">{title}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#333"/>',
    ]
    for tick in range(0, int(top) + 1, max(1, int(top) // 5 or 1)):
        y = height - bottom - tick * scale
        parts.append(f'<text x="{left - 6}" y="{y + 4:.0f}" text-anchor="end">{tick}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.0f}" x2="{width - 5}" y2="{y:.0f}" stroke="#eee"/>')
    x = left + 6
    for i, (group, mode, p50, p95) in enumerate(rows):
        if i and i % 3 == 0:
            x += 12
        for value, opacity in ((p95, 0.45), (p50, 1.0)):
            h = value * scale
            parts.append(
                f'<rect x="{x}" y="{height - bottom - h:.1f}" width="20" height="{h:.1f}" '
                f'fill="{COLOURS[mode]}" fill-opacity="{opacity}"><title>{group} {mode}: p50 {p50} ms, '
                f"p95 {p95} ms</title></rect>"
            )
        if i % 3 == 1:
            parts.append(f'<text x="{x + 10}" y="{height - bottom + 16}" text-anchor="middle">{group}</text>')
        x += 26
    legend = " · ".join(f'<tspan fill="{c}">■ {m}</tspan>' for m, c in COLOURS.items())
    parts.append(f'<text x="{left}" y="{height - 12}">{legend} (dark: p50, light: p95; ms)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    data = json.loads((RESULTS / "scale.json").read_text(encoding="utf-8"))
    title = "Retrieval latency, question embedding excluded (stand-in embedder)"
    (RESULTS / "scale.svg").write_text(svg(bars(data["entries"]), title), encoding="utf-8")
    print(f"wrote {RESULTS / 'scale.svg'}")


if __name__ == "__main__":
    main()
