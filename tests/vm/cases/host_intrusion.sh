#!/bin/bash
# case-seconds: 200
# Strict pairing against host tasks, with the kick and with --no-kick, in one
# run. Two busy 2-vCPU VMs on an enclave of 4 cores; on the second thread of
# each core a host task wakes every 20 ms and spins for 1 ms. Each time, the
# vCPU on the first thread must leave the core: with the kick at once (one
# IPI), with --no-kick at its next tick (4 ms at HZ=250, more under TCG). The
# pair checker (started before vmm-schedd: see "Probe order" in
# docs/design.md, and after the VMs were created paused) measures in each phase
# how long a vCPU ran on once a host task started beside it (host_beside_vcpu:
# the eviction time), mean and longest.
#
# It fails when: the kick phase's mean eviction is not well under a tick
# (KICK_MEAN_NS) or the scheduler made no kicks; the --no-kick phase made kicks
# or its mean eviction is not longer than the kick phase's by MIN_RATIO (the
# measurement could not tell the two apart); a phase shows a cross-VM overlap;
# a vCPU makes no progress. The longest exposures are printed, not judged:
# under single-threaded TCG a guest CPU can stand still for tens of ms, IPI
# or not.
. "$(dirname "$0")/../lib.sh"

SECS=${SECS:-10}
KICK_MEAN_NS=${KICK_MEAN_NS:-1000000} # a quarter of a tick at HZ=250
MIN_RATIO=${MIN_RATIO:-2}
INTRUDER_PIDS=()
stop_intruders() {
	local pid
	for pid in "${INTRUDER_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	INTRUDER_PIDS=()
}
trap 'stop_intruders; cleanup' EXIT

# A host task on CPU $1: every 20 ms it runs for 1 ms.
start_intruder() {
	taskset -c "$1" python3 -c '
import time
while True:
    time.sleep(0.02)
    end = time.monotonic() + 0.001
    while time.monotonic() < end:
        pass
' &
	INTRUDER_PIDS+=($!)
}

# phase NAME [vmm-schedd options]: sets MAX_<NAME>, KICKS_<NAME>, HOST_STARTS_<NAME>.
phase() {
	local name=$1 vm i cpu
	shift
	# Created paused before the checker starts: their threads' set-up under
	# the fair class, beside host tasks, is no part of the measurement.
	start_paused_vm a 2 busy
	start_paused_vm b 2 busy
	start_checker --grace-ns 0
	start_schedd --cpus 0-7 "$@"
	note "$name: $(ctl status | head -1)"
	for vm in a b; do enroll_vm $vm; done
	declare -gA U0
	for vm in a b; do for i in 0 1; do U0[$vm.$i]=$(progress $vm $i units); done; done
	for cpu in 1 3 5 7; do start_intruder $cpu; done
	sleep "$SECS"
	stop_intruders
	for vm in a b; do for i in 0 1; do
		[ "$(progress $vm $i units)" -gt "${U0[$vm.$i]}" ] ||
			fail "$name: $vm vCPU $i made no progress in $SECS s"
	done; done
	declare -g "KICKS_$name=$(sched_counter kicks)" "HOST_STARTS_$name=$(sched_counter host_starts)"
	note "$name: kicks=$(sched_counter kicks) host_starts=$(sched_counter host_starts)" \
		"self_check_overlaps=$(sched_counter self_check_overlaps)"
	stop_checker
	[ "$(field cross_vm_overlaps)" = 0 ] || CROSS+="$name: $RESULT; "
	[ "$(field host_beside_vcpu)" -gt 0 ] || fail "$name: the checker saw no host task start beside a vCPU: $RESULT"
	declare -g "MAX_$name=$(field host_beside_vcpu_max_ns)" \
		"MEAN_$name=$(($(field host_beside_vcpu_ns) / $(field host_beside_vcpu)))"
	for vm in a b; do stop_vm $vm; done
	stop_schedd
}

CROSS=
phase kick
phase nokick --no-kick
note "host task started beside a vCPU, exposure mean / longest: kick ${MEAN_kick} / ${MAX_kick} ns," \
	"--no-kick ${MEAN_nokick} / ${MAX_nokick} ns"
[ -z "$CROSS" ] || fail "cross-VM sibling overlaps: $CROSS"
[ "$KICKS_kick" -gt 0 ] || fail "the kick phase made no kicks (does scx_bpf_kick_cpu link?)"
[ "$KICKS_nokick" = 0 ] || fail "--no-kick made $KICKS_nokick kicks"
[ "$MEAN_kick" -lt "$KICK_MEAN_NS" ] ||
	fail "with the kick a vCPU ran on beside a host task for $MEAN_kick ns on average (limit $KICK_MEAN_NS)"
[ "$MEAN_nokick" -gt $((MEAN_kick * MIN_RATIO)) ] ||
	fail "--no-kick's mean exposure $MEAN_nokick ns is not $MIN_RATIO x the kick's $MEAN_kick ns"
