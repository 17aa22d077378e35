#!/bin/bash
# case-seconds: 111
# Weighted sharing: three busy VMs with weights 100:200:400 on an enclave of 2
# cores (CPUs 0-3). Each VM has 4 vCPUs, so each one alone could fill the whole
# enclave and every weighted share is reachable: 1/7, 2/7 and 4/7 of the 4
# CPUs are 0.57, 1.14 and 2.29 CPUs, all under 4 (with 2 vCPUs the weight-400
# VM could use at most one core, 1/2 < 4/7). All 12 vCPUs are always runnable.
#
# Over a WINDOW_SECS (default 40) window after a warm-up, each VM's share of the
# vCPU time the scheduler charged (run_ns in `vmm-schedctl status --json`, the
# time its vtime grows by, divided by its weight) must be within +-10%
# (relative) of weight/sum(weights). It fails when the scheduler ignores or
# misapplies weights: equal shares would be 1/3 each (+133% / +17% / -42%).
# The guest's own work counters (units) are shown beside it as an independent
# measure but not judged (TCG makes work per ns uneven).
. "$(dirname "$0")/../lib.sh"

WINDOW_SECS=${WINDOW_SECS:-40}
names=(w100 w200 w400)
weights=(100 200 400)

start_schedd --cpus 0-3
for i in 0 1 2; do start_paused_vm "${names[$i]}" 4 busy; done
for i in 0 1 2; do enroll_vm "${names[$i]}" "${weights[$i]}"; done
[ "$(json_get 's["enclave"]["cores"]')" = 2 ] || fail "the enclave is not 2 cores"

# snapshot N: the status JSON, the time and copies of the testvmm logs (whose
# last progress lines give the guests' units) to $TMP/snapN.*.
snapshot() {
	local vm
	ctl status --json >"$TMP/snap$1.json" || fail "vmm-schedctl status --json failed"
	echo "$EPOCHREALTIME" >"$TMP/snap$1.time"
	for vm in "${names[@]}"; do cp "${VM_LOG[$vm]}" "$TMP/snap$1.$vm.log"; done
}

sleep 3
snapshot 0
sleep "$WINDOW_SECS"
snapshot 1
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)', not enabled"
ctl status | sed 's/^/  /'

python3 - "$TMP" <<'EOF' || fail "weighted shares are off by more than 10%"
import json, sys
tmp = sys.argv[1]
names = ["w100", "w200", "w400"]
def load(n):
    s = json.load(open(f"{tmp}/snap{n}.json"))
    units = {}
    for vm in names:
        last = {}  # vCPU -> units of its latest progress line
        for line in open(f"{tmp}/snap{n}.{vm}.log"):
            if line.startswith("progress "):
                kv = dict(f.split("=", 1) for f in line.split()[1:])
                last[kv["vcpu"]] = int(kv["units"])
        units[vm] = sum(last.values())
    return {v["name"]: v for v in s["vms"]}, units, float(open(f"{tmp}/snap{n}.time").read())
vm0, u0, t0 = load(0)
vm1, u1, t1 = load(1)
d = {n: vm1[n]["run_ns"] - vm0[n]["run_ns"] for n in names}
du = {n: u1[n] - u0[n] for n in names}
fi = {n: vm1[n]["forced_idle_ns"] - vm0[n]["forced_idle_ns"] for n in names}
gr = {n: vm1[n]["core_grants"] - vm0[n]["core_grants"] for n in names}
wsum = sum(vm1[n]["weight"] for n in names)
tot, totu = sum(d.values()), sum(du.values())
secs = t1 - t0
print(f"  window {secs:.1f}s: vCPU time {tot / 1e9:.2f}s of {4 * secs:.1f} CPU-s in the enclave ({tot / 1e9 / (4 * secs):.0%})")
print("  VM    weight  expected  run_ns share  rel.err  units share  forced_idle  core_grants")
ok = tot > 0
for n in names:
    exp = vm1[n]["weight"] / wsum
    got = d[n] / tot if tot else 0
    err = (got - exp) / exp
    us = du[n] / totu if totu else 0
    bad = abs(err) > 0.10
    ok = ok and not bad
    print(f"  {n:5} {vm1[n]['weight']:6}  {exp:8.3f}  {got:12.3f}  {err:+7.1%}  {us:11.3f}  {fi[n] / 1e9:10.2f}s  {gr[n]:11}{'  <-- off' if bad else ''}")
sys.exit(0 if ok else 1)
EOF

for vm in "${names[@]}"; do stop_vm "$vm"; done
stop_schedd
