"""A hand-written SVG line plot of request latency against pods per namespace (log-log axes).

No plotting library: the benchmark must run with the standard library only.
"""

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 760, 470
LEFT, RIGHT, TOP, BOTTOM = 78, 230, 48, 62

# (result key, percentile, label, colour, dashed)
SERIES = (
    ("uncached", "p50", "adapter, uncached (TTL 0s): p50", "#d62728", False),
    ("uncached", "p99", "adapter, uncached: p99", "#d62728", True),
    ("prometheus", "p50", "Prometheus /api/v1/query: p50", "#1f77b4", False),
    ("prometheus", "p99", "Prometheus: p99", "#1f77b4", True),
    ("cached", "p50", "adapter, cached (TTL 5s): p50", "#2ca02c", False),
    ("cached", "p99", "adapter, cached: p99", "#2ca02c", True),
)


def _log_range(values):
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    if lo == hi:
        hi = lo * 10
    return lo, hi


def latency_plot(latency, machine, started):
    """SVG text for ``latency`` (bench.py's list of per-pod-count results)."""
    points = sorted(latency, key=lambda r: r["pods"])
    xs = [r["pods"] for r in points]
    ys = [r[k][f"{q}_ms"] for r in points for k, q, *_ in SERIES
          if isinstance(r[k][f"{q}_ms"], (int, float)) and r[k][f"{q}_ms"] > 0]
    x_lo, x_hi = _log_range(xs)
    y_lo, y_hi = _log_range(ys)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        return LEFT + pw * (math.log10(x) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo))

    def py(y):
        return TOP + ph * (1 - (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">Metric request latency against pods in the '
           f'namespace</text>',
           f'<text x="{LEFT}" y="38" fill="#555">{escape(_subtitle(machine, started))}</text>']
    # grid and ticks
    decade = x_lo
    while decade <= x_hi:
        x = px(decade)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">{decade:,}</text>')
        decade *= 10
    decade = y_lo
    while decade <= y_hi * 1.0001:
        for sub in range(1, 10):
            v = decade * sub
            if v > y_hi * 1.0001:
                break
            y = py(v)
            out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" '
                       f'stroke="{"#d0d0d0" if sub == 1 else "#f0f0f0"}"/>')
        y = py(decade)
        label = f"{decade:g}"
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        decade *= 10
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{LEFT + pw / 2:.1f}" y="{HEIGHT - 22}" text-anchor="middle">pods in the namespace '
               f'(one item each; log scale)</text>')
    out.append(f'<text transform="translate(20,{TOP + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'latency, ms (log scale)</text>')
    # series
    for index, (key, q, label, colour, dashed) in enumerate(SERIES):
        pts = [(px(r["pods"]), py(r[key][f"{q}_ms"])) for r in points if r[key][f"{q}_ms"] > 0]
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        ly = TOP + 10 + index * 20
        lx = LEFT + pw + 14
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 26}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 32}" y="{ly + 4}" font-size="11">{escape(label)}</text>')
    note_y = TOP + 10 + len(SERIES) * 20 + 14
    for i, line in enumerate(("Sequential requests on one", "keep-alive connection each;",
                              "adapter over TLS (HTTP/1.1),", "Prometheus plain HTTP,",
                              "same PromQL, interleaved.")):
        out.append(f'<text x="{LEFT + pw + 14}" y="{note_y + i * 15}" font-size="11" fill="#555">{line}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _subtitle(machine, started):
    return (f"{started}, {machine.get('nproc')} CPUs ({machine.get('cpu_model')}), shared machine; "
            f"see docs/performance.md")
