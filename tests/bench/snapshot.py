#!/usr/bin/env python3
"""One sample of everything the policy comparison measures, as JSON on stdout.

snapshot.py --cpus LIST [--agent-pid PID] [--status FILE] [--forced-idle FILE] NAME=LOG...

Per VM (NAME=LOG: a testvmm's output): the latest progress counters summed
over its vCPUs and its latest "latency vm=NAME vcpu=all" line. Per host: the
idle time of the CPUs in LIST (/proc/stat), the agent's CPU time, and from a
vmm-schedctl status --json FILE the scheduler's messages, forced idle of
those CPUs and guest-hint counters (or, for batch-pair, from its --stats FILE given as --forced-idle).
Called once at the start and once at the end of a measurement, so
compare.sh forks one process instead of one per counter.
"""
import argparse
import json
import os
import re
import time

PROGRESS = re.compile(r"^progress vm=(\S+) vcpu=(\d+) .*units=(\d+) halts=(\d+) "
                      r"spin_cycles=(\d+) acq=(\d+)")
LATENCY = re.compile(r"^latency vm=(\S+) vcpu=all wakes=(\d+) p50_us=([\d.]+) "
                     r"p99_us=([\d.]+) p999_us=([\d.]+) max_us=([\d.]+)")
TSC = re.compile(r"^info vm=\S+ tsc_khz=(\d+)")


def cpu_list(text):
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def read_vm(log):
    progress, latency, tsc_khz = {}, None, 0
    with open(log) as f:
        for line in f:
            m = PROGRESS.match(line)
            if m:
                progress[int(m.group(2))] = [int(x) for x in m.group(3, 4, 5, 6)]
                continue
            m = LATENCY.match(line)
            if m:
                latency = {"wakes": int(m.group(2)), "p50_us": float(m.group(3)),
                           "p99_us": float(m.group(4)), "p999_us": float(m.group(5)),
                           "max_us": float(m.group(6))}
                continue
            m = TSC.match(line)
            if m:
                tsc_khz = int(m.group(1))
    sums = [sum(v[i] for v in progress.values()) for i in range(4)]
    return {"vcpus": len(progress), "units": sums[0], "halts": sums[1],
            "spin_cycles": sums[2], "acq": sums[3], "latency": latency, "tsc_khz": tsc_khz}


STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest",
               "guest_nice")


def cpu_jiffies(cpus):
    """Each /proc/stat field summed over the CPUs in CPUS (user includes guest)."""
    total = dict.fromkeys(STAT_FIELDS, 0)
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"^cpu(\d+) (.*)", line)
            if m and int(m.group(1)) in cpus:
                for name, value in zip(STAT_FIELDS, m.group(2).split()):
                    total[name] += int(value)
    return total


def agent_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


# Handovers by the pick's preferences and holds (docs/design.md, "SMT efficiency").
SCHED_COUNTERS = ("pair_grants", "starved_grants", "sibling_waits")
HINT_COUNTERS = ("cs_extensions", "cs_extended_ns", "idle_handoffs", "idle_deferrals",
                 "directed_yields")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", required=True)
    ap.add_argument("--agent-pid", type=int)
    ap.add_argument("--status")
    ap.add_argument("--forced-idle")
    ap.add_argument("vms", nargs="+")
    a = ap.parse_args()
    cpus = cpu_list(a.cpus)
    jiffies = cpu_jiffies(cpus)
    snap = {"time": time.monotonic(), "clk_tck": os.sysconf("SC_CLK_TCK"),
            "idle_jiffies": jiffies["idle"] + jiffies["iowait"], "cpu_jiffies": jiffies,
            "vms": {}}
    for spec in a.vms:
        name, _, log = spec.partition("=")
        snap["vms"][name] = read_vm(log)
    if a.agent_pid:
        snap["agent_ticks"] = agent_ticks(a.agent_pid)
    if a.status:
        with open(a.status) as f:
            s = json.load(f)
        snap["messages"] = s["scheduler"]["messages"]
        snap["sched_counters"] = {k: s["scheduler"][k] for k in SCHED_COUNTERS}
        snap["forced_idle_ns"] = sum(c["forced_idle_ns"] for c in s["cpus"] if c["cpu"] in cpus)
        # The guest-hint counters, summed over VMs; hints_on: VMs whose hints are in use.
        snap["hint_counters"] = {k: sum(v.get(k, 0) for v in s["vms"]) for k in HINT_COUNTERS}
        snap["hints_on"] = sorted(v["name"] for v in s["vms"]
                                  if v.get("hints", {}).get("state") == "on")
    if a.forced_idle:
        with open(a.forced_idle) as f:
            s = json.load(f)
        snap["forced_idle_ns"] = sum(c["forced_idle_ns"] for c in s["cpus"] if c["cpu"] in cpus)
    print(json.dumps(snap))


if __name__ == "__main__":
    main()
