#!/usr/bin/env python3
"""The real-guest benchmark's report: from guests.sh's raw results in DIR,
writes DIR/results.csv (every number: round, policy, guest, workload, metric,
value), DIR/table.md (printed too: per metric the mean over both guests and all
rounds per policy, and vmm-sched's ratio against the fair class and batch
pairing; the pair checker's cross-VM overlaps per policy). Never fails on
numbers, only on missing or broken input.

guests_report.py DIR
"""
import csv
import glob
import os
import re
import sys
from collections import defaultdict

POLICIES = ["fair", "batch", "vmm"]
NAMES = {"fair": "(a) fair", "batch": "(b) batch-pair", "vmm": "(c) vmm-sched"}
# metric -> (label, True if higher is better, None for a setting); the order of the table.
METRICS = [
    ("sysbench_events_per_s", "sysbench cpu, events/s", True),
    ("stressng_bogo_ops_per_s", "stress-ng --cpu, bogo ops/s", True),
    ("hackbench_s", "hackbench, s per run", False),
    ("rocksdb_rate", "db_bench offered reads/s per guest (0: closed loop)", None),
    ("rocksdb_ops_per_s", "db_bench readrandom, ops/s", True),
    ("rocksdb_p50_us", "db_bench readrandom p50, us", False),
    ("rocksdb_p99_us", "db_bench readrandom p99, us", False),
    ("rocksdb_p999_us", "db_bench readrandom p99.9, us", False),
    ("wake_p50_us", "cyclictest wake-up p50, us", False),
    ("wake_p99_us", "cyclictest wake-up p99, us", False),
    ("wake_p999_us", "cyclictest wake-up p99.9, us", False),
    ("wake_max_us", "cyclictest wake-up max, us", False),
]


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    return "%.3g" % x


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: guests_report.py DIR")
    d = sys.argv[1]
    path = os.path.join(d, "results.txt")
    if not os.path.exists(path):
        sys.exit("guests_report.py: no %s (did guests.sh run?)" % path)
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) < 5:
                sys.exit("guests_report.py: %s:%d: not 'ROUND POLICY GUEST WORKLOAD k=v...': %r"
                         % (path, n, line))
            rnd, pol, guest, work = parts[:4]
            for kv in parts[4:]:
                k, _, v = kv.partition("=")
                try:
                    rows.append((int(rnd), pol, guest, work, k, float(v)))
                except ValueError:
                    sys.exit("guests_report.py: %s:%d: '%s' is not key=number" % (path, n, kv))
    if not rows:
        sys.exit("guests_report.py: %s has no results" % path)
    with open(os.path.join(d, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["round", "policy", "guest", "workload", "metric", "value"])
        w.writerows(rows)

    vals = defaultdict(list)  # (policy, metric) -> values over guests and rounds
    for _r, pol, _g, _w, k, v in rows:
        vals[(pol, k)].append(v)
    overlaps = defaultdict(int)
    short = defaultdict(int)
    rounds = defaultdict(int)
    for p in glob.glob(os.path.join(d, "*.checker.txt")):
        pol = os.path.basename(p).split(".")[0]
        text = open(p).read()
        m = re.search(r"\bcross_vm_overlaps=(\d+)", text)
        s = re.search(r"\bcross_vm_short=(\d+)", text)
        if not m:
            sys.exit("guests_report.py: no cross_vm_overlaps in %s: %r" % (p, text))
        overlaps[pol] += int(m.group(1))
        short[pol] += int(s.group(1)) if s else 0
        rounds[pol] += 1

    pols = [p for p in POLICIES if any(k[0] == p for k in vals)]
    nrounds = len({r[0] for r in rows})
    out = ["| metric (mean of both guests, %d round%s) | %s | (c)/(a) | (c)/(b) |"
           % (nrounds, "" if nrounds == 1 else "s", " | ".join(NAMES[p] for p in pols)),
           "|---|" + "---|" * (len(pols) + 2)]
    for key, label, higher in METRICS:
        ms = {p: mean(vals.get((p, key), [])) for p in pols}
        if all(v is None for v in ms.values()):
            continue
        if higher is None:
            out.append("| %s | %s | | |" % (label, " | ".join(fmt(ms[p]) for p in pols)))
            continue
        c = ms.get("vmm")
        out.append("| %s (%s) | %s | %s | %s |" % (
            label, "higher is better" if higher else "lower is better",
            " | ".join(fmt(ms[p]) for p in pols), ratio(c, ms.get("fair")), ratio(c, ms.get("batch"))))
    out.append("| cross-VM overlaps on a core (checker; short ones) | %s | | |"
               % " | ".join("%d (%d)" % (overlaps[p], short[p]) if rounds[p] else "-" for p in pols))
    table = "\n".join(out) + "\n"
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write(table)
    print(table, end="")


if __name__ == "__main__":
    main()
