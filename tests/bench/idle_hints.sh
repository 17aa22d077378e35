#!/bin/bash
# The idle-hint part of the policy comparison (run by compare.sh in the test
# VM): does a vCPU its guest says is idle give up its core time sooner? VM h
# (5 busy vCPUs; testvmm --hints benign: vCPU 0 says it is idle in the guest,
# vCPU 1 is in a critical section, 2-4 say nothing) and VM o (2 busy vCPUs, no
# hints, same weight) share a one-core enclave under vmm-schedd, enrolled with
# h's region and without it, in alternating rounds. Per run, over SECS s:
# vCPU 0's run time against the mean of vCPUs 2-4, h's share of the core, and
# the scheduler's idle hand-ons and deferrals. One JSON object per run goes to
# OUT/idle_hints.jsonl; report.py makes the table. Nothing passes or fails on
# the numbers (the VM case hints_idle asserts the bounds).
#
#   idle_hints.sh --out DIR --secs N --rounds N
. "$(dirname "$0")/../vm/lib.sh"
OUT="" SECS=6 ROUNDS=2 CPUS=2-3
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	*) echo "idle_hints.sh: unknown argument '$1' (--out DIR, --secs N, --rounds N)" >&2; exit 2 ;;
	esac
done
[ -n "$OUT" ] || fail "no --out DIR"
SCHEDD_BIN=${SCHEDD_BIN:-$BUILD/release/vmm-schedd}
[ -x "$SCHEDD_BIN" ] || SCHEDD_BIN=$BUILD/vmm-schedd
: >"$OUT/idle_hints.jsonl"
start_paused_vm h 5 busy --hints "$TMP/hints-h"
start_paused_vm o 2 busy
for tid in $(vm_tids h) $(vm_tids o); do
	taskset -p -c "$CPUS" "$tid" >/dev/null || fail "cannot pin vCPU thread $tid to $CPUS"
done

run() { # run ROUND MODE: MODE hints (h enrolled with its region) or none
	local out s0 s1 hints=()
	[ "$2" = hints ] && hints=(--hints "$TMP/hints-h")
	start_schedd --cpus "$CPUS"
	out=$(ctl enroll "${VM_PID[h]}" --name h "${hints[@]}" 2>&1) || fail "enroll h failed: $out"
	out=$(ctl enroll "${VM_PID[o]}" --name o 2>&1) || fail "enroll o failed: $out"
	# Started paused, the VMs run from their first enrolment on.
	if [ "$1$2" = 1none ]; then
		resume_vm h
		resume_vm o
	fi
	wait_for 120 all_vcpus_ran 7 ||
		fail "after 120 s not every vCPU of h and o has run under vmm-schedd ($2)"
	if [ "$2" = hints ]; then
		wait_for 90 idle_seen || fail "vCPU 0 of h is not shown idle: $(json_get "[c['hint'] for c in ${H}['vcpus']]")"
	fi
	nap 1
	s0=$(ctl status --json) || fail "status failed"
	sleep "$SECS"
	s1=$(ctl status --json) || fail "status failed"
	stop_schedd
	python3 - "$1" "$2" "$s0" "$s1" >>"$OUT/idle_hints.jsonl" <<'EOF' || fail "cannot read the status ($2)"
import json, sys
rnd, mode = int(sys.argv[1]), sys.argv[2]
s0, s1 = (json.loads(a) for a in sys.argv[3:5])
vm0 = {v["name"]: v for v in s0["vms"]}
vm1 = {v["name"]: v for v in s1["vms"]}
before = {v["index"]: v["run_ns"] for v in vm0["h"]["vcpus"]}
h = {v["index"]: v["run_ns"] - before[v["index"]] for v in vm1["h"]["vcpus"]}
d = {n: {k: vm1[n][k] - vm0[n][k] for k in ("run_ns", "idle_handoffs", "idle_deferrals")}
     for n in ("h", "o")}
busy = sum(h[i] for i in (2, 3, 4)) / 3
total = d["h"]["run_ns"] + d["o"]["run_ns"]
print(json.dumps({"round": rnd, "mode": mode, "idle_vcpu_ms": h[0] / 1e6, "busy_mean_ms": busy / 1e6,
                  "idle_over_busy": h[0] / busy if busy else None,
                  "h_share": d["h"]["run_ns"] / total if total else None,
                  "idle_handoffs": d["h"]["idle_handoffs"], "idle_deferrals": d["h"]["idle_deferrals"]}))
EOF
	echo "  idle hints round $1 $2: $(tail -n 1 "$OUT/idle_hints.jsonl")"
}
H='[v for v in s["vms"] if v["name"] == "h"][0]'
idle_seen() { [ "$(json_get "[c['hint'] for c in ${H}['vcpus'] if c['index'] == 0][0]")" = idle ]; }

for ((round = 1; round <= ROUNDS; round++)); do
	run "$round" none
	run "$round" hints
done
stop_vm h
stop_vm o
