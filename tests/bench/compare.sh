#!/bin/bash
# The policy comparison (make bench, inside the test VM): the same VMs under
#   fair        the kernel's fair class, no pairing (the throughput reference)
#   batch       batch-pair, 20 ms batches per core (tests/bench/batch_pair.bpf.c)
#   vmm         vmm-schedd, default settings
#   vmm_nokick  vmm-schedd --no-kick
#   vmm_agent   vmm-schedd --placement agent (the agent's core planner)
#   vmm_hints   vmm-schedd --hints-dir: the latency and lock VMs' guest hints
#               in use (their payloads' idle and lock state, published by the
#               payload itself at each change: testvmm --hints-mode guest;
#               BENCH_HINTS_MODE=payload: sampled by the VMM every 10 ms instead);
#               the other vmm policies run the same VMs without --hints-dir, so
#               they never attach the regions
# alternating in rounds (fair batch vmm vmm_nokick vmm_agent vmm_hints, fair ...) so drift
# hits all alike, on an enclave of 3 cores (CPUs 2-7) at 1x, 2x and 4x
# overcommit of its 6 threads with busy, latency (timer wakeups), lock and
# single-vCPU VMs. Each measurement: policy, 2 s warm-up, pair checker, then
# SECS s between two snapshots (snapshot.py). Raw JSON goes to OUT; report.py
# turns it into the table, CSV and charts. Nothing passes or fails on numbers.
# With vmm_hints among the policies, tests/bench/idle_hints.sh then measures
# idle hints alone (a guest-idle vCPU beside busy ones), without and with them.
#
#   compare.sh [--quick] [--out DIR]
# --quick: one round of one scenario (2x), 2 s per policy, for CI.
# BENCH_POLICIES: a subset of the policies, in order (default: all six).
. "$(dirname "$0")/../vm/lib.sh"
trap 'stop_cpu_hogs; cleanup' EXIT
QUICK=0 OUT=/run/results/bench
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "compare.sh: unknown argument '$1' (--quick, --out DIR)" >&2; exit 2 ;;
	esac
done
ENCLAVE=2-7
POLICIES=(${BENCH_POLICIES:-fair batch vmm vmm_nokick vmm_agent vmm_hints})
if [ "$QUICK" = 1 ]; then
	SECS=${BENCH_SECS:-2} WARMUP=1 ROUNDS=1 SCENARIOS=(2x)
else
	SECS=${BENCH_SECS:-6} WARMUP=2 ROUNDS=${BENCH_ROUNDS:-2} SCENARIOS=(${BENCH_SCENARIOS:-1x 2x 4x})
fi
# The benchmark's own processes (this script, snapshots, VMM main threads)
# stay off the enclave; only vCPU threads are moved onto it.
taskset -p -c 0,1 $$ >/dev/null || fail "cannot keep the benchmark on CPUs 0-1"
SCHEDD_BIN=${SCHEDD_BIN:-$BUILD/release/vmm-schedd}
[ -x "$SCHEDD_BIN" ] || SCHEDD_BIN=$BUILD/vmm-schedd
mkdir -p "$OUT" || fail "cannot create $OUT"
: >"$OUT/vms.txt"
# Each latency and lock VM writes its hint region here; only vmm_hints reads it.
HINTS_DIR=$TMP/hints
HINTS_MODE=${BENCH_HINTS_MODE:-guest}
case "$HINTS_MODE" in guest | payload) ;; *) fail "BENCH_HINTS_MODE='$HINTS_MODE': guest or payload" ;; esac
mkdir -p "$HINTS_DIR" || fail "cannot create $HINTS_DIR"

# The VMs of a scenario, NAME:KIND:VCPUS; 1x/2x/4x of the enclave's 6 threads.
scenario_vms() {
	case "$1" in
	1x) echo lat1:latency:2 lock1:lock:2 one1:single:1 one2:single:1 ;;
	2x) echo busy1:busy:2 busy2:busy:2 lat1:latency:2 lat2:latency:2 lock1:lock:2 \
		one1:single:1 one2:single:1 ;;
	4x) echo busy1:busy:2 busy2:busy:2 busy3:busy:2 busy4:busy:2 busy5:busy:2 \
		lat1:latency:2 lat2:latency:2 lat3:latency:2 lock1:lock:2 lock2:lock:2 \
		one1:single:1 one2:single:1 one3:single:1 one4:single:1 ;;
	esac
}

start_kind() { # start_kind NAME KIND VCPUS
	case "$2" in
	busy | single) start_vm "$1" "$3" busy ;;
	latency) start_vm "$1" "$3" duty --run-us 200 --block-us 800 --hints "$HINTS_DIR/$1" --hints-mode "$HINTS_MODE" ;;
	lock) start_vm "$1" "$3" lock --hold-us 40 --hints "$HINTS_DIR/$1" --hints-mode "$HINTS_MODE" ;;
	esac
	local tid
	for tid in $(vm_tids "$1"); do taskset -p -c "$ENCLAVE" "$tid" >/dev/null || fail "cannot pin $1"; done
}

policy_start() { # policy_start POLICY VM...
	local policy=$1 vm pids=()
	shift
	case "$policy" in
	fair) ;;
	batch) start_batch_pair "$@" ;;
	vmm | vmm_nokick | vmm_agent | vmm_hints)
		for vm in "$@"; do pids+=(--pid "${VM_PID[$vm]}:$vm"); done
		case "$policy" in
		vmm_nokick) pids+=(--no-kick) ;;
		vmm_agent) pids+=(--placement agent) ;;
		vmm_hints) pids+=(--hints-dir "$HINTS_DIR") ;;
		esac
		start_schedd --cpus "$ENCLAVE" "${pids[@]}"
		# The agent enrols the VMs after it starts, slowly under TCG: measure
		# only once every vCPU has run under the scheduler.
		wait_for 180 all_vcpus_ran "$(for vm in "$@"; do vm_tids "$vm"; done | wc -l)" ||
			echo "compare.sh: warning: after 180 s not every vCPU has run under vmm-schedd;" \
				"this measurement of $policy is not valid" >&2
		if [ "$policy" = vmm_hints ]; then
			local want
			want=$(ls "$HINTS_DIR" | wc -l)
			wait_for 60 hints_on "$want" ||
				echo "compare.sh: warning: the hints of only $(json_get "$HINTS_ON") of $want VMs" \
					"are in use; this measurement of $policy is not valid" >&2
		fi
		;;
	esac
}

HINTS_ON="sum(1 for v in s['vms'] if v.get('hints', {}).get('state') == 'on')"
hints_on() { [ "$(json_get "$HINTS_ON")" = "$1" ]; } # hints_on N: N VMs' hints in use

policy_stop() {
	case "$1" in
	batch) stop_batch_pair; echo "$BATCH_PAIR" ;;
	vmm | vmm_nokick | vmm_agent | vmm_hints) stop_schedd ;;
	esac
}

snapshot() { # snapshot POLICY FILE VM...
	local policy=$1 file=$2 vm args=()
	shift 2
	for vm in "$@"; do args+=("$vm=${VM_LOG[$vm]}"); done
	case "$policy" in
	vmm | vmm_nokick | vmm_agent | vmm_hints)
		ctl status --json >"$TMP/status.json" || fail "vmm-schedctl status failed"
		args+=(--agent-pid "$SCHEDD_PID" --status "$TMP/status.json")
		;;
	batch)
		batch_pair_stats "$TMP/batch-stats.json"
		args+=(--forced-idle "$TMP/batch-stats.json")
		;;
	esac
	python3 tests/bench/snapshot.py --cpus "$ENCLAVE" "${args[@]}" >"$file" ||
		fail "snapshot.py failed"
}

# measure SCENARIO ROUND POLICY VM...: one measurement into OUT/SCENARIO.ROUND.POLICY.*
# The checker starts before the policy's scheduler, so that its sched_switch
# probe runs first at every switch (started after, it misses switches and
# reports overlaps that did not happen), and counts only the measured window
# (mark_checker), not the policy's start with vCPUs still in the fair class.
measure() {
	local sc=$1 round=$2 policy=$3 vm base
	shift 3
	base=$OUT/$sc.$round.$policy
	start_checker
	policy_start "$policy" "$@"
	nap "$WARMUP"
	mark_checker
	for vm in "$@"; do [[ $vm == lat* ]] && mark_latency "$vm"; done
	snapshot "$policy" "$base.a.json" "$@"
	sleep "$SECS"
	nap 0.3 # every latency VM has printed a window that covers the measurement
	snapshot "$policy" "$base.b.json" "$@"
	stop_checker >/dev/null
	echo "$RESULT" >"$base.checker.txt"
	policy_stop "$policy" >"$base.policy.txt"
	echo "  $sc round $round $policy: $(tr -d '\n' <"$base.policy.txt")" \
		"cross_vm_overlaps=$(field cross_vm_overlaps) cross_vm_short=$(field cross_vm_short)"
}

echo "policy comparison: ${SCENARIOS[*]}, $ROUNDS round(s), $SECS s per policy, enclave $ENCLAVE," \
	"agent $SCHEDD_BIN"
# What the emulation does to time: how long a guest CPU runs between switches.
python3 tests/bench/tcg_stretch.py 0-7 "$([ "$QUICK" = 1 ] && echo 1 || echo 3)" >"$OUT/tcg.json" ||
	fail "tcg_stretch.py failed"
for sc in "${SCENARIOS[@]}"; do
	vms=()
	for spec in $(scenario_vms "$sc"); do
		IFS=: read -r name kind vcpus <<<"$spec"
		start_kind "$name" "$kind" "$vcpus"
		vms+=("$name")
		echo "$sc $name $kind $vcpus" >>"$OUT/vms.txt"
	done
	for ((round = 1; round <= ROUNDS; round++)); do
		for policy in "${POLICIES[@]}"; do measure "$sc" "$round" "$policy" "${vms[@]}"; done
	done
	for vm in "${vms[@]}"; do stop_vm "$vm"; done
	rm -f "$HINTS_DIR"/*
done
# Idle hints on their own (a guest-idle vCPU beside busy ones), with the hints policy.
if [[ " ${POLICIES[*]} " == *" vmm_hints "* ]]; then
	SCHEDD_BIN=$SCHEDD_BIN tests/bench/idle_hints.sh --out "$OUT" --secs "$SECS" --rounds "$ROUNDS" ||
		fail "idle_hints.sh failed"
fi
echo "raw results in $OUT"
