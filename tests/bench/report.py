#!/usr/bin/env python3
"""The policy comparison's report: from compare.sh's raw results in DIR, writes
DIR/results.csv (per scenario, policy and VM, averaged over rounds), DIR/table.md
(printed too: ratios against the fair class and batch pairing, and the issue's
targets with the distance) and, if gnuplot is there, DIR/throughput.png and
DIR/latency.png. Never fails on numbers, only on missing or broken input.

report.py DIR
"""
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

POLICIES = ["fair", "batch", "vmm", "vmm_nokick", "vmm_agent", "vmm_hints"]
NAMES = {"fair": "(a) fair class", "batch": "(b) batch pairing", "vmm": "(c) vmm-sched",
         "vmm_nokick": "(d) vmm-sched --no-kick",
         "vmm_agent": "(e) vmm-sched --placement agent",
         "vmm_hints": "(e) vmm-sched + guest hints"}
# vmm-sched status counters of its pick (docs/design.md, "SMT efficiency").
SCHED_COUNTERS = ["pair_grants", "starved_grants", "sibling_waits"]
# The agent's guest-hint counters (snapshot.py), per second in the hint table.
HINT_COUNTERS = ["cs_extensions", "cs_extended_ns", "idle_handoffs", "idle_deferrals",
                 "directed_yields"]
ENCLAVE_CPUS = 6


def load(path):
    with open(path) as f:
        return json.load(f)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def field(line, key):
    m = re.search(r"\b%s=(\d+)" % key, line)
    return int(m.group(1)) if m else None


def collect(d):
    kinds = {}
    with open(os.path.join(d, "vms.txt")) as f:
        for line in f:
            sc, name, kind, vcpus = line.split()
            kinds[(sc, name)] = (kind, int(vcpus))
    per_vm = defaultdict(lambda: defaultdict(list))   # (sc, pol, vm) -> metric -> [rounds]
    per_pol = defaultdict(lambda: defaultdict(list))  # (sc, pol) -> metric -> [rounds]
    runs = sorted(glob.glob(os.path.join(d, "*.a.json")))
    if not runs:
        sys.exit("report.py: no measurements (*.a.json) in %s" % d)
    for a_path in runs:
        base = a_path[:-len(".a.json")]
        sc, _round, pol = os.path.basename(base).split(".")
        if not os.path.exists(base + ".checker.txt"):
            print("report.py: %s is incomplete (a run cut short?), left out" % base)
            continue
        a, b = load(a_path), load(base + ".b.json")
        dt = b["time"] - a["time"]
        for vm, va in a["vms"].items():
            vb = b["vms"][vm]
            m = per_vm[(sc, pol, vm)]
            m["work_per_s"].append((vb["units"] - va["units"]) / dt)
            if vb["acq"] > va["acq"] and vb["tsc_khz"]:
                m["spin_us_per_acq"].append((vb["spin_cycles"] - va["spin_cycles"]) /
                                            (vb["acq"] - va["acq"]) * 1000.0 / vb["tsc_khz"])
            lat = vb.get("latency")
            if lat and lat["wakes"]:
                for k in ("p50_us", "p99_us", "p999_us", "max_us"):
                    m["lat_" + k].append(lat[k])
                m["wakes_per_s"].append(lat["wakes"] / dt)
        p = per_pol[(sc, pol)]
        p["enclave_idle"].append((b["idle_jiffies"] - a["idle_jiffies"]) / b["clk_tck"] /
                                 (dt * ENCLAVE_CPUS))
        if "cpu_jiffies" in b:
            j = {k: (b["cpu_jiffies"][k] - a["cpu_jiffies"][k]) / b["clk_tck"] / (dt * ENCLAVE_CPUS)
                 for k in b["cpu_jiffies"]}
            p["cpu_guest"].append(j["guest"] + j["guest_nice"])
            p["cpu_kernel"].append(j["system"] + j["irq"] + j["softirq"])
            p["cpu_user"].append(j["user"] + j["nice"] - j["guest"] - j["guest_nice"])
        if "forced_idle_ns" in b:
            p["forced_idle"].append((b["forced_idle_ns"] - a["forced_idle_ns"]) /
                                    (dt * 1e9 * ENCLAVE_CPUS))
        if "agent_ticks" in b:
            p["agent_cpu"].append((b["agent_ticks"] - a["agent_ticks"]) / b["clk_tck"] / dt)
            p["agent_msgs_per_s"].append((b["messages"] - a["messages"]) / dt)
        if "sched_counters" in b:
            for k in SCHED_COUNTERS:
                p[k + "_per_s"].append((b["sched_counters"][k] - a["sched_counters"][k]) / dt)
        if "hint_counters" in b:
            for k in HINT_COUNTERS:
                p[k + "_per_s"].append((b["hint_counters"][k] - a["hint_counters"][k]) / dt)
            p["hints_on"].append(len(b["hints_on"]))
        with open(base + ".checker.txt") as f:
            chk = f.read()
        p["cross_vm_overlaps"].append(field(chk, "cross_vm_overlaps"))
        p["cross_vm_short"].append(field(chk, "cross_vm_short"))
    return kinds, per_vm, per_pol


def summarize(kinds, per_vm, per_pol):
    """Per (scenario, policy): the numbers the table compares."""
    out = {}
    for (sc, pol), p in per_pol.items():
        vms = [vm for (s, q, vm) in per_vm if s == sc and q == pol]
        work = sum(mean(per_vm[(sc, pol, vm)]["work_per_s"]) or 0 for vm in vms
                   if kinds[(sc, vm)][0] in ("busy", "single"))
        lat = [per_vm[(sc, pol, vm)] for vm in vms if kinds[(sc, vm)][0] == "latency"]
        spin = [mean(per_vm[(sc, pol, vm)]["spin_us_per_acq"]) for vm in vms
                if kinds[(sc, vm)][0] == "lock"]
        out[(sc, pol)] = {
            "work_per_s": work,
            # The worst latency VM's percentile, averaged over rounds; max over everything.
            "lat_p50_us": max((mean(m["lat_p50_us"]) or 0 for m in lat), default=None),
            "lat_p99_us": max((mean(m["lat_p99_us"]) or 0 for m in lat), default=None),
            "lat_p999_us": max((mean(m["lat_p999_us"]) or 0 for m in lat), default=None),
            "lat_max_us": max((max(m["lat_max_us"] or [0]) for m in lat), default=None),
            "spin_us_per_acq": mean(spin),
            "enclave_idle": mean(p["enclave_idle"]),
            "cpu_guest": mean(p["cpu_guest"]),
            "cpu_kernel": mean(p["cpu_kernel"]),
            "cpu_user": mean(p["cpu_user"]),
            "forced_idle": mean(p["forced_idle"]),
            "agent_cpu": mean(p["agent_cpu"]),
            "agent_msgs_per_s": mean(p["agent_msgs_per_s"]),
            **{k + "_per_s": mean(p[k + "_per_s"]) for k in HINT_COUNTERS + SCHED_COUNTERS},
            "cross_vm_overlaps": sum(x or 0 for x in p["cross_vm_overlaps"]),
            "hints_on": min(p["hints_on"], default=None),
            "rounds": len(p["enclave_idle"]),
        }
    return out


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return str(v)
    return "%.*f" % (digits, v)


def pct(v):
    return "n/a" if v is None else "%.1f%%" % (100 * v)


def ratio(v, ref):
    return None if v is None or not ref else v / ref


def write_csv(d, kinds, per_vm, per_pol):
    path = os.path.join(d, "results.csv")
    cols = ["work_per_s", "wakes_per_s", "lat_p50_us", "lat_p99_us", "lat_p999_us", "lat_max_us",
            "spin_us_per_acq"]
    pcols = ["enclave_idle", "forced_idle", "agent_cpu", "agent_msgs_per_s", "cross_vm_overlaps"] + \
        [k + "_per_s" for k in HINT_COUNTERS] + \
        ["cpu_guest", "cpu_kernel", "cpu_user"] + [k + "_per_s" for k in SCHED_COUNTERS]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "policy", "vm", "kind", "vcpus", "rounds"] + cols + pcols)
        for (sc, pol, vm), m in sorted(per_vm.items()):
            p = per_pol[(sc, pol)]
            row = [sc, pol, vm, kinds[(sc, vm)][0], kinds[(sc, vm)][1], len(m["work_per_s"])]
            for c in cols:
                v = max(m[c]) if c == "lat_max_us" and m[c] else mean(m[c])
                row.append("" if v is None else "%.3f" % v)
            for c in pcols:
                v = sum(x or 0 for x in p[c]) if c == "cross_vm_overlaps" else mean(p[c])
                row.append("" if v is None else "%.4f" % v if isinstance(v, float) else v)
            w.writerow(row)
    return path


def table(summary):
    lines = []
    scenarios = sorted({sc for sc, _ in summary}, key=lambda s: int(s.rstrip("x")))
    for sc in scenarios:
        fair, batch = summary.get((sc, "fair")), summary.get((sc, "batch"))
        lines += ["", "### %s overcommit (%d round(s))" % (sc, fair["rounds"] if fair else 0), "",
                  "| policy | work/s (busy+single) | x(a) | x(b) | wake p50 us | p99 us | x(a) | x(b) "
                  "| p99.9 us | max us | lock spin us/acq | enclave idle | forced idle "
                  "| agent CPU | agent msg/s | agent us/msg | cross-VM overlaps |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for pol in POLICIES:
            s = summary.get((sc, pol))
            if not s:
                continue
            per_msg = None
            if s["agent_cpu"] is not None and s["agent_msgs_per_s"]:
                per_msg = s["agent_cpu"] * 1e6 / s["agent_msgs_per_s"]
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                NAMES[pol], fmt(s["work_per_s"], 0),
                fmt(ratio(s["work_per_s"], fair and fair["work_per_s"]), 2),
                fmt(ratio(s["work_per_s"], batch and batch["work_per_s"]), 2),
                fmt(s["lat_p50_us"]), fmt(s["lat_p99_us"]),
                fmt(ratio(s["lat_p99_us"], fair and fair["lat_p99_us"]), 2),
                fmt(ratio(s["lat_p99_us"], batch and batch["lat_p99_us"]), 2),
                fmt(s["lat_p999_us"]), fmt(s["lat_max_us"]), fmt(s["spin_us_per_acq"]),
                pct(s["enclave_idle"]), pct(s["forced_idle"]), pct(s["agent_cpu"]),
                fmt(s["agent_msgs_per_s"], 0), fmt(per_msg), s["cross_vm_overlaps"]))
        lines += cpu_time_table(summary, sc) + sched_counter_lines(summary, sc) + \
            hint_table(summary, sc)
    return lines


def sched_counter_lines(summary, sc):
    """vmm-sched's handovers by its pick's preferences and holds, per second."""
    rows = ["- %s: pair grants %s/s, starved grants %s/s, sibling waits %s/s" % (
        NAMES[pol], *(fmt(summary[(sc, pol)][k + "_per_s"]) for k in SCHED_COUNTERS))
        for pol in POLICIES if (sc, pol) in summary and
        summary[(sc, pol)]["sibling_waits_per_s"] is not None]
    return ["", "vmm-sched's pick at %s (status; docs/design.md, \"SMT efficiency\"):" % sc, ""] + \
        rows if rows else []


def cpu_time_table(summary, sc):
    """Where the enclave CPUs' time went (/proc/stat), per policy, if the snapshots have it."""
    rows = []
    for pol in POLICIES:
        s = summary.get((sc, pol))
        if not s or s["cpu_guest"] is None:
            continue
        rows.append("| %s | %s | %s | %s | %s |" % (
            NAMES[pol], pct(s["cpu_guest"]), pct(s["cpu_kernel"]), pct(s["cpu_user"]),
            pct(s["enclave_idle"])))
    if not rows:
        return []
    return ["", "Where the enclave CPUs' time went at %s (/proc/stat; guest: the VMs' vCPUs in "
            "guest mode; host kernel: system, irq and softirq: KVM's exits, the scheduler's own "
            "code and its interrupts; host user: user time outside guest mode):" % sc, "",
            "| policy | guest | host kernel | host user | idle |",
            "|---|---:|---:|---:|---:|"] + rows


def hint_table(summary, sc):
    """The agent's guest-hint counters per second, for the vmm-sched policies."""
    rows = []
    for pol in POLICIES:
        s = summary.get((sc, pol))
        if not s or s["hints_on"] is None:
            continue
        rows.append("| %s | %d | %s | %s | %s | %s | %s |" % (
            NAMES[pol], s["hints_on"], fmt(s["cs_extensions_per_s"]),
            fmt(None if s["cs_extended_ns_per_s"] is None else s["cs_extended_ns_per_s"] / 1e6, 2),
            fmt(s["idle_handoffs_per_s"]), fmt(s["idle_deferrals_per_s"]),
            fmt(s["directed_yields_per_s"])))
    if not rows:
        return []
    vmm, hints = summary.get((sc, "vmm")), summary.get((sc, "vmm_hints"))
    against = []
    if vmm and hints:
        against = ["", "With hints against without, (e) hints / (c): work %s, wake p99 %s, lock spin "
                   "per acquisition %s, forced idle %s." % tuple(
                       fmt(ratio(hints[k], vmm[k]), 2)
                       for k in ("work_per_s", "lat_p99_us", "spin_us_per_acq", "forced_idle"))]
    return ["", "Guest-hint counters at %s (per second, all VMs; hinted VMs: regions in use at "
            "the end, the fewest over rounds):" % sc, "",
            "| policy | hinted VMs | cs extensions | extended ms | idle hand-ons "
            "| idle deferrals | directed yields |",
            "|---|---:|---:|---:|---:|---:|---:|"] + rows + against


def targets(summary, sim=None, sim_batch=None):
    """The issue's targets at 2x for (c) and, if it ran, vmm-sched with guest hints."""
    out = []
    for pol in ("vmm", "vmm_hints"):
        if pol == "vmm" or ("2x", pol) in summary:
            out += policy_targets(summary, pol, sim, sim_batch)
    return out


def sim_view(d, sc, policy=""):
    """
    The simulator's summary line on the scenario's mix (run-bench's sim-SC.txt,
    or sim-POLICY-SC.txt), as a dict: shares of thread time, work in CPUs, wait p99 in us.
    """
    path = os.path.join(d, "sim-%s%s.txt" % (policy + "-" if policy else "", sc))
    if not os.path.exists(path):
        return None
    with open(path) as f:
        kv = dict(w.split("=", 1) for w in f.read().split() if "=" in w)
    threads_ms = float(kv["cpus"]) * float(kv["secs"]) * 1000
    view = {k: float(kv[k + "_ms"]) / threads_ms for k in ("forced_idle", "lower_bound", "fair_ref")}
    view["work_cpus"] = float(kv["work_cpu_s"]) / float(kv["secs"])
    view["wait_p99_us"] = float(kv["wait_p99_max_us"])
    return view


def policy_targets(summary, pol, sim=None, sim_batch=None):
    """The issue's targets at 2x for POL, with the distance."""
    fair, batch, vmm = (summary.get(("2x", p)) for p in ("fair", "batch", pol))
    if not (fair and batch and vmm):
        return ["", "(no 2x run of (a), (b) and %s: targets not evaluated)" % NAMES[pol]]
    rows = []

    def check(name, value, ref, want, le):
        r = ratio(value, ref)
        if r is None:
            rows.append("| %s | n/a | %s %.2f | n/a |" % (name, "<=" if le else ">=", want))
            return
        ok = r <= want if le else r >= want
        rows.append("| %s | %.2f | %s %.2f | %s |" % (
            name, r, "<=" if le else ">=", want, "met" if ok else "missed by %.0f%%" %
            (100 * abs(r - want) / want)))

    check("work rate vs (a)", vmm["work_per_s"], fair["work_per_s"], 0.9, False)
    check("work rate vs (b)", vmm["work_per_s"], batch["work_per_s"], 1.3, False)
    check("wake p99 vs (a)", vmm["lat_p99_us"], fair["lat_p99_us"], 1.5, True)
    check("wake p99 vs (b)", vmm["lat_p99_us"], batch["lat_p99_us"], 1 / 3, True)
    # Both count forced idle the same way (a thread idle while a vCPU waits, host tasks excluded).
    check("forced idle vs (b)", vmm["forced_idle"], batch["forced_idle"], 0.5, True)
    check("enclave idle vs (b)", vmm["enclave_idle"], batch["enclave_idle"], 0.5, True)
    note = []
    if sim:
        # Not a bound: the idle of a fluid scheduler fair at every instant on the simulated mix.
        check("forced idle vs the simulator's fair-share reference", vmm["forced_idle"],
              sim["fair_ref"], 1.25, True)
        note = ["", "Simulator, the same mix (policy bpf, 6 threads): forced idle %s, lower bound "
                "%s, fair-share reference %s." % tuple(pct(sim[k]) for k in
                                                       ("forced_idle", "lower_bound", "fair_ref"))]
    if sim and sim_batch and pol == "vmm":
        # The same targets against (b) where the test VM's emulation distorts neither policy.
        check("simulator: work vs (b)", sim["work_cpus"], sim_batch["work_cpus"], 1.3, False)
        check("simulator: wait p99 vs (b)", sim["wait_p99_us"], sim_batch["wait_p99_us"], 1 / 3,
              True)
        check("simulator: forced idle vs (b)", sim["forced_idle"], sim_batch["forced_idle"], 0.5,
              True)
        check("simulator: forced idle vs its fair-share reference", sim["forced_idle"],
              sim["fair_ref"], 1.25, True)
    return ["", "### Targets at 2x overcommit, %s" % NAMES[pol], "",
            "| target | ratio | wanted | |", "|---|---:|---:|---|"] + rows + note


def tcg(d):
    """tcg_stretch.py's view of the test VM: all its CPUs busy at once."""
    path = os.path.join(d, "tcg.json")
    if not os.path.exists(path):
        return []
    cpus = load(path)
    med = lambda k: sorted(c[k] for c in cpus)[len(cpus) // 2]
    return ["", "Test VM, all %d CPUs spinning: a guest CPU runs %.1f ms (p90 %.1f) between switches, "
            "then waits %.1f ms (p90 %.1f); it runs %.0f%% of the time (medians over CPUs)." % (
                len(cpus), med("run_ms_p50"), med("run_ms_p90"), med("gap_ms_p50"),
                med("gap_ms_p90"), 100 * med("ran"))]


def idle_hints(d):
    """idle_hints.sh's runs: does a guest-idle vCPU give its core time up sooner with hints?"""
    path = os.path.join(d, "idle_hints.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    rows = ["| %d | %s | %s | %s | %s | %s | %d | %d |" % (
        r["round"], r["mode"], fmt(r["idle_vcpu_ms"], 0), fmt(r["busy_mean_ms"], 0),
        fmt(r["idle_over_busy"], 2), fmt(r["h_share"], 3), r["idle_handoffs"], r["idle_deferrals"])
        for r in runs]
    by = {m: [r for r in runs if r["mode"] == m] for m in ("none", "hints")}
    avg = {m: {k: mean([r[k] for r in by[m] if r[k] is not None]) for k in ("idle_over_busy", "h_share")}
           for m in by}
    lines = ["", "### Idle hints", "",
             "VM h (5 busy vCPUs; vCPU 0 says it is idle in the guest, vCPU 1 is in a critical "
             "section) and VM o (2 busy vCPUs, same weight) on one core, h enrolled without and with "
             "its hint region (`tests/bench/idle_hints.sh`). Run time in ms over the window; idle / "
             "busy: vCPU 0's run time against the mean of vCPUs 2-4; h share: h's part of both VMs' "
             "vCPU time.", "",
             "| round | hints | idle vCPU ms | busy vCPU mean ms | idle / busy | h share | hand-ons "
             "| deferrals |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"] + rows
    if by["none"] and by["hints"]:
        lines += ["", "With hints against without: the guest-idle vCPU runs %s of its busy siblings' "
                  "time against %s (%sx); h's share of the core %s against %s (%sx)." % (
                      fmt(avg["hints"]["idle_over_busy"], 2), fmt(avg["none"]["idle_over_busy"], 2),
                      fmt(ratio(avg["hints"]["idle_over_busy"], avg["none"]["idle_over_busy"]), 2),
                      fmt(avg["hints"]["h_share"], 3), fmt(avg["none"]["h_share"], 3),
                      fmt(ratio(avg["hints"]["h_share"], avg["none"]["h_share"]), 2))]
    return lines


def charts(d, summary):
    if not shutil.which("gnuplot"):
        print("report.py: gnuplot not found, no charts (make deps installs gnuplot-nox)")
        return
    scenarios = sorted({sc for sc, _ in summary}, key=lambda s: int(s.rstrip("x")))
    with open(os.path.join(d, "throughput.dat"), "w") as f:
        f.write("# scenario " + " ".join(POLICIES) + "  (work/s of busy+single VMs, x fair)\n")
        for sc in scenarios:
            ref = summary[(sc, "fair")]["work_per_s"] if (sc, "fair") in summary else 0
            f.write(sc + " " + " ".join(fmt(ratio(summary[(sc, p)]["work_per_s"], ref), 3)
                                         if (sc, p) in summary else "NaN" for p in POLICIES) + "\n")
    with open(os.path.join(d, "latency.dat"), "w") as f:
        f.write("# percentile then per scenario and policy the worst latency VM's wake latency (us)\n")
        f.write("# pct " + " ".join("%s_%s" % (sc, p) for sc in scenarios for p in POLICIES) + "\n")
        for label, key in (("p50", "lat_p50_us"), ("p99", "lat_p99_us"), ("p99.9", "lat_p999_us"),
                           ("max", "lat_max_us")):
            vals = []
            for sc in scenarios:
                for p in POLICIES:
                    v = summary.get((sc, p), {}).get(key)
                    vals.append("NaN" if not v else "%.1f" % v)
            f.write(label + " " + " ".join(vals) + "\n")
    n = len(POLICIES)
    lat_plots = ", ".join(
        "'latency.dat' using 0:%d:xtic(1) with linespoints title '%s %s'" % (
            2 + i * n + j, sc, NAMES[p]) for i, sc in enumerate(scenarios)
        for j, p in enumerate(POLICIES))
    script = """set terminal pngcairo size 900,500 noenhanced
set datafile missing 'NaN'
set output 'throughput.png'
set title 'Work rate of busy and single-vCPU VMs, relative to the fair class'
set style data histogram
set style histogram clustered
set style fill solid 0.8
set ylabel 'x fair class'
set yrange [0:*]
set key outside
plot %s
set output 'latency.png'
set title 'Guest wakeup latency (worst latency VM): p50, p99, p99.9, max'
set style data linespoints
set logscale y
set ylabel 'us after the timer deadline'
set yrange [*:*]
plot %s
""" % (", ".join("'throughput.dat' using %d:xtic(1) title '%s'" % (i + 2, NAMES[p])
                 for i, p in enumerate(POLICIES)), lat_plots)
    with open(os.path.join(d, "charts.gp"), "w") as f:
        f.write(script)
    r = subprocess.run(["gnuplot", "charts.gp"], cwd=d, capture_output=True, text=True)
    if r.returncode:
        sys.exit("report.py: gnuplot failed: " + r.stderr)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: report.py DIR (compare.sh's output)")
    d = sys.argv[1]
    kinds, per_vm, per_pol = collect(d)
    summary = summarize(kinds, per_vm, per_pol)
    csv_path = write_csv(d, kinds, per_vm, per_pol)
    md = ["## Policy comparison", "",
          "x(a), x(b): ratio to the fair class and to batch pairing. Wake latency: the worst "
          "latency VM's percentile (in-guest, deadline to first instruction after HLT), "
          "averaged over rounds; max over all. Enclave idle: /proc/stat idle of its 6 CPUs; "
          "forced idle: each scheduler's own count (a thread idle while a vCPU waited), vmm-sched's "
          "and batch-pair's. Cross-VM overlaps: the pair checker, summed."]
    md += table(summary) + targets(summary, sim_view(d, "2x"), sim_view(d, "2x", "batch")) + idle_hints(d) + tcg(d)
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    charts(d, summary)
    print("\nwrote %s, %s" % (csv_path, os.path.join(d, "table.md")))


if __name__ == "__main__":
    main()
