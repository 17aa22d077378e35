#!/bin/bash
# case-seconds: 50
# Directed yield, end to end through KVM. VM y (testvmm --payload yield, 3
# vCPUs) works 500 us, then makes the KVM_HC_SCHED_YIELD hypercall naming the
# next vCPU's APIC ID; KVM calls yield_to() on that vCPU's thread when it was
# preempted while runnable, which reaches the scheduler's ops.yield. VM b (2
# busy vCPUs, same weight) shares the one-core enclave with it.
# Judged over a window: the guest made hypercalls, the scheduler accepted
# yields of y's vCPUs (directed_yields) and ran the named vCPU next
# (directed_runs); b saw none (nothing of y's reaches it) and y took no more
# than its share of the core time for yielding (<= 60%, equal weights). KVM's
# own counters (debugfs directed_yield_attempted/successful) are shown beside.
. "$(dirname "$0")/../lib.sh"

WINDOW_SECS=${WINDOW_SECS:-20}

start_schedd --cpus 0-1
start_paused_vm y 3 yield --run-us 500
start_paused_vm b 2 busy
enroll_vm y
enroll_vm b

# kvm_stat PID NAME: KVM's debugfs counter NAME, summed over the VMs of process PID.
kvm_stat() {
	local f sum=0
	for f in /sys/kernel/debug/kvm/"$1"-*/"$2"; do
		[ -r "$f" ] && sum=$((sum + $(cat "$f")))
	done
	echo "$sum"
}
yields() { local i sum=0; for i in 0 1 2; do sum=$((sum + $(progress y $i yields))); done; echo $sum; }
[ -d /sys/kernel/debug/kvm ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null

nap 3
s0=$(ctl status --json) || fail "status failed"
g0=$(yields) a0=$(kvm_stat "${VM_PID[y]}" directed_yield_attempted) k0=$(kvm_stat "${VM_PID[y]}" directed_yield_successful)
nap "$WINDOW_SECS"
s1=$(ctl status --json) || fail "status failed"
g1=$(yields) a1=$(kvm_stat "${VM_PID[y]}" directed_yield_attempted) k1=$(kvm_stat "${VM_PID[y]}" directed_yield_successful)
note "guest hypercalls $((g1 - g0)), KVM directed_yield_attempted $((a1 - a0)) successful $((k1 - k0))"
[ $((g1 - g0)) -gt 0 ] || fail "the yield payload made no hypercalls"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)'"

python3 - "$s0" "$s1" <<'EOF' || fail "directed yields not handled as they should be"
import json, sys
s0, s1 = (json.loads(a) for a in sys.argv[1:3])
vm0 = {v["name"]: v for v in s0["vms"]}
vm1 = {v["name"]: v for v in s1["vms"]}
keys = ("directed_yields", "directed_runs", "yields_ignored", "run_ns")
d = {n: {k: vm1[n][k] - vm0[n][k] for k in keys} for n in ("y", "b")}
total = d["y"]["run_ns"] + d["b"]["run_ns"]
share = d["y"]["run_ns"] / total if total else 0
print(f"  {'vm':3} {'accepted':>8} {'run next':>8} {'ignored':>8} {'share':>6}")
for n in ("y", "b"):
    print(f"  {n:3} {d[n]['directed_yields']:8} {d[n]['directed_runs']:8} "
          f"{d[n]['yields_ignored']:8} {d[n]['run_ns'] / total if total else 0:6.3f}")
bad = []
if d["y"]["directed_yields"] == 0:
    bad.append("no directed yield of VM y reached the scheduler (ops.yield)")
if d["y"]["directed_runs"] == 0:
    bad.append("no accepted yield ran its vCPU next")
if d["y"]["directed_runs"] > d["y"]["directed_yields"]:
    bad.append("more yielded-to runs than yields accepted")
if any(d["b"][k] for k in ("directed_yields", "directed_runs", "yields_ignored")):
    bad.append("VM b, which never yields, shows yields")
if share > 0.60:
    bad.append(f"VM y took {share:.0%} of the core time, more than its half (+10%)")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF

stop_vm y
stop_vm b
stop_schedd
