#!/usr/bin/env python3
"""Per-run table, then medians and ratios fast/baseline, from a bench/run .tsv file.

    python3 bench/lib/summary.py RESULTS.tsv [...]
"""
import csv
import statistics
import sys


def load(paths):
    rows = []
    for p in paths:
        with open(p, newline="") as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    return rows


def fmt(x, nd=2):
    return "-" if x is None else f"{x:,.{nd}f}"


def main(paths):
    rows = load(paths)
    tests = []
    for r in rows:
        key = (r["scenario"], r["test"])
        if key not in tests:
            tests.append(key)
    print()
    print("per run (interleaved in the order run):")
    print(f"  {'test':<18} {'mode':<9} {'rep':>3} {'req/s':>12} {'p50 ms':>9} {'p99 ms':>9} {'srv us/req':>10} {'cores':>5}  note")
    for r in rows:
        print(f"  {r['scenario'] + '/' + r['test']:<18} {r['mode']:<9} {r['rep']:>3} {float(r['rps']):>12,.0f} "
              f"{float(r['p50_ms']):>9.3f} {float(r['p99_ms']):>9.3f} {float(r.get('srv_cpu_us_per_req') or 'nan'):>10.2f} "
              f"{float(r.get('srv_cores') or 'nan'):>5.2f}  {r.get('note') or ''}")
    print()
    print("medians, and ratio fast/baseline (throughput: higher is better; latency: lower is better):")
    print(f"  {'test':<18} {'n':>3} {'base req/s':>12} {'fast req/s':>12} {'ratio':>6}   "
          f"{'base p50':>9} {'fast p50':>9} {'ratio':>6}   {'base p99':>9} {'fast p99':>9} {'ratio':>6}   {'base cpu':>8} {'fast cpu':>8} {'ratio':>6}")
    for scenario, test in tests:
        sel = [r for r in rows if r["scenario"] == scenario and r["test"] == test]
        med = {}
        n = {}
        for mode in ("baseline", "fast"):
            m = [r for r in sel if r["mode"] == mode]
            n[mode] = len(m)
            med[mode] = {k: statistics.median(float(r.get(k) or "nan") for r in m) if m else None
                         for k in ("rps", "p50_ms", "p99_ms", "srv_cpu_us_per_req")}

        def ratio(k):
            b, f = med["baseline"][k], med["fast"][k]
            return None if not b or f is None else f / b

        print(f"  {scenario + '/' + test:<18} {min(n.values()):>3} {fmt(med['baseline']['rps'], 0):>12} "
              f"{fmt(med['fast']['rps'], 0):>12} {fmt(ratio('rps')):>6}   "
              f"{fmt(med['baseline']['p50_ms'], 3):>9} {fmt(med['fast']['p50_ms'], 3):>9} {fmt(ratio('p50_ms')):>6}   "
              f"{fmt(med['baseline']['p99_ms'], 3):>9} {fmt(med['fast']['p99_ms'], 3):>9} {fmt(ratio('p99_ms')):>6}   "
              f"{fmt(med['baseline']['srv_cpu_us_per_req']):>8} {fmt(med['fast']['srv_cpu_us_per_req']):>8} "
              f"{fmt(ratio('srv_cpu_us_per_req')):>6}")
    print("  (latencies in ms; cpu = server CPU microseconds per request; the ratios are of the medians)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
