#!/usr/bin/env python3
"""How the test VM's CPUs take turns: tcg_stretch.py CPUS SECS spins one
process per CPU in CPUS (e.g. 0-7) for SECS seconds, each reading the clock
in a loop; a jump of more than 200 us between two readings is time its CPU
did not run (single-threaded TCG was running another one). Prints JSON: per
CPU the median and 90th percentile run stretch and gap in ms, and the share
of the time it ran."""
import json
import os
import sys
import time

GAP_NS = 200000


def spin(cpu, secs, pipe):
    os.sched_setaffinity(0, {cpu})
    runs, gaps = [], []
    start = last = run_start = time.monotonic_ns()
    end = start + int(secs * 1e9)
    while last < end:
        now = time.monotonic_ns()
        if now - last > GAP_NS:
            runs.append(last - run_start)
            gaps.append(now - last)
            run_start = now
        last = now
    runs.append(last - run_start)
    os.write(pipe, json.dumps({"cpu": cpu, "runs": runs, "gaps": gaps,
                               "ran": sum(runs) / (last - start)}).encode())
    os._exit(0)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6 if xs else 0.0


def main():
    lo, _, hi = sys.argv[1].partition("-")
    cpus, secs = range(int(lo), int(hi or lo) + 1), float(sys.argv[2])
    readers = []
    for cpu in cpus:
        r, w = os.pipe()
        if os.fork() == 0:
            os.close(r)
            spin(cpu, secs, w)
        os.close(w)
        readers.append(r)
    out = []
    for r in readers:
        data = b""
        while chunk := os.read(r, 1 << 20):
            data += chunk
        d = json.loads(data)
        out.append({"cpu": d["cpu"], "run_ms_p50": pct(d["runs"], 0.5),
                    "run_ms_p90": pct(d["runs"], 0.9), "gap_ms_p50": pct(d["gaps"], 0.5),
                    "gap_ms_p90": pct(d["gaps"], 0.9), "switches": len(d["gaps"]),
                    "ran": d["ran"]})
    for _ in readers:
        os.wait()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
