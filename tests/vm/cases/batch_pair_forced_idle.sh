#!/bin/bash
# case-seconds: 50
# batch-pair counts forced idle as vmm_sched does (a thread idle while a vCPU
# waits; tests/bench/batch_pair.bpf.c), so the benchmark can compare the two.
# One core, two busy one-vCPU VMs pinned to it: the batch holds the core for
# one VM's vCPU while the other's waits, so one thread is forced idle most of
# the time. One such VM alone: nothing waits, so almost no forced idle.
. "$(dirname "$0")/../lib.sh"
SECS=8
core=$(cat /sys/devices/system/cpu/cpu2/topology/thread_siblings_list)
case "$core" in
2,3 | 2-3) ;;
*) fail "expected CPUs 2 and 3 to be one core, sysfs says '$core'" ;;
esac

# forced_ms FILE: forced idle of CPUs 2 and 3 in batch-pair's stats FILE, in ms.
forced_ms() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(sum(c["forced_idle_ns"] for c in s["cpus"] if c["cpu"] in (2, 3)) // 1000000)' "$1"
}

# measure VM...: forced idle of the core over SECS with the VMs' vCPUs pinned to it.
measure() {
	local vm tid
	for vm in "$@"; do start_paused_vm "$vm" 1 busy; done
	for vm in "$@"; do for tid in $(vm_tids "$vm"); do
		taskset -p -c 2-3 "$tid" >/dev/null || fail "cannot pin $vm to CPUs 2-3"
	done; done
	start_batch_pair "$@"
	for vm in "$@"; do resume_vm "$vm"; done
	sleep 1
	batch_pair_stats "$TMP/a.json"
	sleep "$SECS"
	batch_pair_stats "$TMP/b.json"
	stop_batch_pair
	note "$*: $BATCH_PAIR"
	for vm in "$@"; do stop_vm "$vm"; done
	FORCED_MS=$(($(forced_ms "$TMP/b.json") - $(forced_ms "$TMP/a.json")))
}

measure x y
pair_ms=$FORCED_MS
measure z
alone_ms=$FORCED_MS
window_ms=$((SECS * 1000))
note "forced idle of the core in ${window_ms} ms: two VMs ${pair_ms} ms, one VM ${alone_ms} ms"
# Two threads: at most twice the window; one of them idles while the other VM waits.
[ "$pair_ms" -le $((2 * window_ms)) ] || fail "forced idle ${pair_ms} ms exceeds the core's ${window_ms} ms x 2"
[ "$pair_ms" -ge $((window_ms * 3 / 10)) ] ||
	fail "two VMs on one core: forced idle only ${pair_ms} ms of ${window_ms} ms (one thread should idle while the other VM waits)"
[ "$alone_ms" -le $((window_ms / 20)) ] ||
	fail "one VM alone on the core: ${alone_ms} ms forced idle, nothing waited"
