#!/usr/bin/env python3
"""Turns the TSV files bench/run.sh wrote into Markdown tables and an SVG
chart (throughput against connections, report time against units).

usage: bench/report.py RESULTS_DIR PG_VERSION > results.md
Writes RESULTS_DIR/chart.svg. Standard library only."""
import csv
import math
import os
import sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(s, fmt="{:,.0f}"):
    try:
        return fmt.format(float(s))
    except (TypeError, ValueError):
        return s or "-"


def table(head, body):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def line_chart(x0, y0, w, h, title, xs, series, xlabel, ylabel, logy=False):
    """One panel: log-scale x, series = [(name, colour, [y...])]."""
    ys = [y for _, _, v in series for y in v if y is not None and y > 0]
    if not ys:
        return ""
    lo, hi = (min(ys), max(ys))
    if logy:
        lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    else:
        lo, hi = 0, hi * 1.15
    lx = [math.log10(x) for x in xs]
    xmin, xmax = min(lx), max(lx) if max(lx) > min(lx) else min(lx) + 1

    def px(x):
        return x0 + 60 + (math.log10(x) - xmin) / (xmax - xmin) * (w - 80)

    def py(y):
        if logy:
            f = (math.log10(y) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        else:
            f = (y - lo) / (hi - lo)
        return y0 + h - 40 - f * (h - 70)

    s = [f'<text x="{x0 + w / 2}" y="{y0 + 18}" text-anchor="middle" '
         f'font-weight="bold">{title}</text>',
         f'<line x1="{x0 + 60}" y1="{y0 + h - 40}" x2="{x0 + w - 20}" '
         f'y2="{y0 + h - 40}" stroke="black"/>',
         f'<line x1="{x0 + 60}" y1="{y0 + 30}" x2="{x0 + 60}" '
         f'y2="{y0 + h - 40}" stroke="black"/>',
         f'<text x="{x0 + w / 2}" y="{y0 + h - 8}" text-anchor="middle">{xlabel}</text>',
         f'<text x="{x0 + 14}" y="{y0 + h / 2}" text-anchor="middle" '
         f'transform="rotate(-90 {x0 + 14} {y0 + h / 2})">{ylabel}</text>']
    for x in xs:
        s.append(f'<text x="{px(x):.1f}" y="{y0 + h - 26}" text-anchor="middle" '
                 f'font-size="11">{x:,}</text>')
    ticks = ([10 ** k for k in range(int(math.log10(lo)), int(math.log10(hi)) + 1)]
             if logy else [lo + (hi - lo) * k / 4 for k in range(5)])
    for t in ticks:
        s.append(f'<text x="{x0 + 56}" y="{py(t) + 4:.1f}" text-anchor="end" '
                 f'font-size="11">{t:,.4g}</text>')
        s.append(f'<line x1="{x0 + 60}" y1="{py(t):.1f}" x2="{x0 + w - 20}" '
                 f'y2="{py(t):.1f}" stroke="#ddd"/>')
    for k, (name, colour, v) in enumerate(series):
        pts = [(px(x), py(y)) for x, y in zip(xs, v) if y is not None and y > 0]
        s.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                 % (colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
        for a, b in pts:
            s.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>')
        s.append(f'<text x="{x0 + 75}" y="{y0 + 40 + 16 * k}" fill="{colour}">{name}</text>')
    return "\n".join(s)


def main():
    d, pgv = sys.argv[1], sys.argv[2]
    tp = rows(os.path.join(d, "throughput.tsv"))
    lat = rows(os.path.join(d, "latency.tsv"))
    rep = rows(os.path.join(d, "reports.tsv"))
    mem = rows(os.path.join(d, "memory.tsv"))

    print(f"### Submissions of 50 values (tally vs PostgreSQL {pgv})\n")
    print(table(["connections", "tally subs/s", "tally values/s",
                 "tally p50 / p99 / max ms", "errors", "PostgreSQL subs/s",
                 "PostgreSQL p50 / p99 / max ms", "tally ÷ PostgreSQL"],
                [[r["conns"], num(r["tally_per_s"]), num(r["tally_values_per_s"]),
                  f'{num(r["tally_p50"], "{:.2f}")} / {num(r["tally_p99"], "{:.2f}")} / {num(r["tally_max"], "{:.1f}")}',
                  r["tally_errors"], num(r["pg_tps"]),
                  f'{num(r["pg_p50"], "{:.2f}")} / {num(r["pg_p99"], "{:.2f}")} / {num(r["pg_max"], "{:.1f}")}',
                  r["ratio"] + "×"] for r in tp]))
    print("\n### Latency at half of the best rate (with the connections that reached it)\n")
    print(table(["system", "connections", "rate asked /s", "achieved /s", "p50 ms", "p99 ms", "max ms"],
                [[r["system"], r.get("conns", "8"), r["rate"], num(r["achieved"]), num(r["p50"], "{:.2f}"),
                  num(r["p99"], "{:.2f}"), num(r["max"], "{:.1f}")] for r in lat]))
    print("\n### Bulk load (100 values a submission, 8 connections) and the district report\n")
    print(table(["units", "values loaded", "tally load s", "tally values/s",
                 "PostgreSQL load s (one INSERT … SELECT)", "tally report p50 / p99 ms",
                 "reports timed", "PostgreSQL GROUP BY p50 / p99 ms", "queries timed",
                 "GROUP BY ÷ report"],
                [[num(r["units"]), num(r["values_loaded"]), num(r["tally_load_s"], "{:.1f}"),
                  num(r["tally_values_per_s"]), r["pg_load_s"],
                  f'{num(r["tally_report_p50"], "{:.2f}")} / {num(r["tally_report_p99"], "{:.2f}")}',
                  r["tally_reports"],
                  f'{num(r["pg_groupby_p50"], "{:.2f}")} / {num(r["pg_groupby_p99"], "{:.2f}")}',
                  r["pg_queries"], r["ratio"] + "×"] for r in rep]))
    miss = rows(os.path.join(d, "reports-missing.tsv"))
    if miss:
        print("\n### The district report while units are missing (2023: all but the last 1% of units)\n")
        print(table(["units", "reported", "missing", "tally report p50 / p99 ms", "load"],
                    [[num(r["units"]), num(r["reported"]), num(r["missing"]),
                      f'{num(r["tally_report_p50"], "{:.2f}")} / {num(r["tally_report_p99"], "{:.2f}")}',
                      r["load"]] for r in miss]))
    print("\n### tallyd's memory with idle connections\n")
    print(table(["idle connections", "connected", "RSS before KiB", "RSS with them KiB",
                 "bytes per connection"],
                [[num(r["connections"]), num(r["connected"]), num(r["rss_before_kib"]),
                  num(r["rss_kib"]), num(r["per_conn_bytes"])] for r in mem]))

    w, h = 460, 320
    panels = []
    if tp:
        xs = [int(r["conns"]) for r in tp]
        panels.append(line_chart(0, 0, w, h, "Submissions of 50 values per second", xs,
                                 [("tally", "#c0392b", [float(r["tally_per_s"] or 0) for r in tp]),
                                  ("PostgreSQL", "#2c6fbb", [float(r["pg_tps"] or 0) for r in tp])],
                                 "connections", "acknowledged / s"))
    if rep:
        xs = [int(r["units"]) for r in rep]
        panels.append(line_chart(w, 0, w, h, "District report time (p50)", xs,
                                 [("tally report", "#c0392b", [float(r["tally_report_p50"] or 0) for r in rep]),
                                  ("PostgreSQL GROUP BY", "#2c6fbb", [float(r["pg_groupby_p50"] or 0) for r in rep])],
                                 "reporting units", "ms (log scale)", logy=True))
    with open(os.path.join(d, "chart.svg"), "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h}" '
                f'font-family="sans-serif" font-size="13">\n'
                f'<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(panels))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    main()
