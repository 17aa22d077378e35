#!/bin/bash
# case-seconds: 45
# Idle hints hand core time on within the VM. VM h (5 busy vCPUs, testvmm
# --hints benign: vCPU 0 says it is idle in the guest, 1 is in a critical
# section, 2-4 say nothing) and VM o (2 busy vCPUs, no hints, same weight)
# share a one-core enclave. Over a window: vCPU 0 of h runs less than 3/4 of
# the mean of h's vCPUs 2-4 (it gives way at ticks and waits behind them in
# h's queue: idle_deferrals counted), and h, which hands that time to its own
# vCPUs, takes no more than its half of the core (+10%): a guest that says
# "idle" never gains over another VM.
# Measured: the idle vCPU at 0.54 and 0.51 of the busy mean; at 0.69 with
# the tick hand-on alone (before idle_deferrals), which the 3/4 bound also
# lets through: the queue order is judged by idle_deferrals. With the
# placement sweep ordering too and a guest-idle vCPU passed over at most 8
# times: 0.28 (0.000 without that bound: it never ran).
. "$(dirname "$0")/../lib.sh"

WINDOW_SECS=${WINDOW_SECS:-20}

start_schedd --cpus 0-1
start_paused_vm h 5 busy --hints "$TMP/hints-h"
start_paused_vm o 2 busy
out=$(ctl enroll "${VM_PID[h]}" --name h --hints "$TMP/hints-h" 2>&1) || fail "enroll --hints failed: $out"
resume_vm h
enroll_vm o

idle_seen() { [ "$(json_get '[v["hint"] for v in s["vms"][0]["vcpus"] if v["index"] == 0][0]')" = idle ]; }
wait_for 90 idle_seen || fail "vCPU 0 of h is not shown idle: $(json_get '[(v["index"], v["hint"]) for v in s["vms"][0]["vcpus"]]')"

nap 2
s0=$(ctl status --json) || fail "status failed"
nap "$WINDOW_SECS"
s1=$(ctl status --json) || fail "status failed"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)'"

python3 - "$s0" "$s1" <<'EOF' || fail "idle hints did not hand time on within the VM's share"
import json, sys
s0, s1 = (json.loads(a) for a in sys.argv[1:3])
vm0 = {v["name"]: v for v in s0["vms"]}
vm1 = {v["name"]: v for v in s1["vms"]}
def vcpu_ns(name):
    a = {v["index"]: v["run_ns"] for v in vm0[name]["vcpus"]}
    return {v["index"]: v["run_ns"] - a[v["index"]] for v in vm1[name]["vcpus"]}
h = vcpu_ns("h")
# .get: an older agent (a baseline run with BUILD=...) has no idle_deferrals.
d = {n: {k: vm1[n].get(k, 0) - vm0[n].get(k, 0) for k in ("run_ns", "idle_handoffs", "idle_deferrals")}
     for n in ("h", "o")}
total = d["h"]["run_ns"] + d["o"]["run_ns"]
share = d["h"]["run_ns"] / total if total else 0
busy = sum(h[i] for i in (2, 3, 4)) / 3
print("  h per vCPU (ms): " + " ".join(f"{i}:{h[i] / 1e6:.0f}" for i in sorted(h)))
print(f"  idle vCPU / busy mean {h[0] / busy if busy else 0:.3f}; h hand-ons {d['h']['idle_handoffs']}, "
      f"deferrals {d['h']['idle_deferrals']}; share h {share:.3f} o {1 - share:.3f}")
bad = []
if not busy or h[0] > 0.75 * busy:
    bad.append("the idle-hinted vCPU ran more than 3/4 as much as its busy siblings")
if d["h"]["idle_deferrals"] == 0:
    bad.append("no vCPU with work ran before the queued idle one (idle_deferrals 0)")
if share > 0.60:
    bad.append(f"h took {share:.0%} of the core, more than its half (+10%)")
if d["o"]["idle_handoffs"] or d["o"]["idle_deferrals"]:
    bad.append("VM o, with no hints, shows idle hand-ons")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF

stop_vm h
stop_vm o
stop_schedd
