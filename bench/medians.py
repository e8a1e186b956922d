#!/usr/bin/env python3
"""Prints criterion's median per benchmark (and per element, for corpus sweeps)
as a Markdown table, from <target>/criterion/**/new/{estimates,benchmark}.json.

    python3 bench/medians.py [target/criterion]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


rows = []
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    median = json.loads(est.read_text())["median"]
    elements = (bench.get("throughput") or {}).get("Elements") or 1
    rows.append((bench["full_id"], median["point_estimate"], elements,
                 median["confidence_interval"]["lower_bound"], median["confidence_interval"]["upper_bound"]))

print("| benchmark | median per iteration | elements | median per element | 95 % CI of the median (per element) |")
print("|---|---:|---:|---:|---|")
for name, m, n, lo, hi in rows:
    print(f"| {name} | {fmt(m)} | {n} | **{fmt(m / n)}** | {fmt(lo / n)} – {fmt(hi / n)} |")
