#!/bin/bash
# case-seconds: 237
# --placement agent: the agent plans each epoch and commits it as
# transactions, BPF's rules deciding wherever no commit is live. Four busy
# VMs (2 vCPUs each) overcommit the 4-core enclave beside a host hog on CPU 7;
# one VM stops and another is enrolled mid-run (churn). It fails unless the
# planner planned epochs and committed transactions, every VM progresses,
# the pair checker (started first) sees no two VMs on one core, and after
# SIGKILL of the agent the pinned scheduler alone keeps every vCPU running.
# It also notes the agent's CPU use on an idle enrolled host (every vCPU
# paused: the epoch timer must not run) and under load.
. "$(dirname "$0")/../lib.sh"

trap 'stop_cpu_hogs; cleanup' EXIT

# agent_cpu_ticks: utime + stime of vmm-schedd, in clock ticks.
agent_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$SCHEDD_PID/stat") || fail "vmm-schedd is gone"
	stat=${stat##*) }
	set -- $stat
	echo $((${12} + ${13}))
}
# agent_cpu SECS: the agent's CPU use over SECS seconds, in % of one CPU.
agent_cpu() {
	local t0 t1 hz
	hz=$(getconf CLK_TCK)
	t0=$(agent_cpu_ticks)
	sleep "$1"
	t1=$(agent_cpu_ticks)
	local v=$(((t1 - t0) * 10000 / hz / $1))
	printf '%d.%02d' $((v / 100)) $((v % 100))
}
planner() { json_get "s['planner']$1"; }
declare -A U
snapshot() { local vm i; for vm in $ALIVE; do for i in 0 1; do U[$vm.$i]=$(progress $vm $i units); done; done; }
all_progress() {
	local vm i
	for vm in $ALIVE; do
		for i in 0 1; do
			[ "$(progress $vm $i units)" -gt "${U[$vm.$i]}" ] || fail "$vm vCPU $i made no progress $1"
		done
	done
}

# --verbose: each cross-VM interval is logged with its core, tids and time.
start_checker --grace-ns 0 --verbose
start_schedd --cpus 0-7 --placement agent --epoch-ms 10 ${PLANNER_TAKES:+--planner-takes}
[ "$(planner "['placement']")" = agent ] || fail "status does not say placement agent"
grep -q "placement agent: planning every 10 ms" "$SCHEDD_LOG" || fail "no planner start line: $(tail -n 5 "$SCHEDD_LOG")"
for vm in b1 b2 b3 b4 b5; do start_paused_vm $vm 2 busy; done
# Enrolled but paused: an idle enrolled host.
for vm in b1 b2 b3 b4; do
	out=$(ctl enroll "${VM_PID[$vm]}" --name "$vm" 2>&1) || fail "enroll $vm: $out"
done
sleep 2
# Epoch timer expiries, planned or idle: none while no vCPU is runnable.
expiries() { json_get "s['planner']['epochs'] + s['planner']['idle_epochs']"; }
e0=$(expiries)
idle_cpu=$(agent_cpu 5)
e1=$(expiries)
note "idle enrolled host (8 paused vCPUs): agent CPU ${idle_cpu}%, $((e1 - e0)) epoch timer expiries in 5 s"
[ $((e1 - e0)) -lt 25 ] || fail "the epoch timer fired $((e1 - e0)) times in 5 s with every vCPU paused"

for vm in b1 b2 b3 b4; do resume_vm $vm; done
start_cpu_hog 7
ALIVE="b1 b2 b3 b4"
sleep 2
mark_checker
snapshot
t0=$EPOCHSECONDS
e0=$(planner "['epochs']")
busy_cpu=$(agent_cpu 5)
e1=$(planner "['epochs']")
note "busy (8 vCPUs on 7 free CPUs + hog): agent CPU ${busy_cpu}%, $(((e1 - e0) / 5)) epochs/s"
all_progress "under the planner"

# Churn: one VM leaves, another arrives.
stop_vm b1
out=$(ctl enroll "${VM_PID[b5]}" --name b5 2>&1) || fail "enroll b5: $out"
resume_vm b5
ALIVE="b2 b3 b4 b5"
sleep 1
snapshot
sleep 4
all_progress "after the churn"

summary=$(json_get '" ".join("%s=%s" % (k, v) for k, v in s["planner"].items() if k != "outcomes") + " outcomes: " + " ".join("%s=%s" % kv for kv in s["planner"]["outcomes"].items() if kv[1])')
note "planner: $summary"
note "scheduler: $(json_get '" ".join("%s=%s" % (k, s["scheduler"].get(k)) for k in ("self_check_overlaps", "switch_overlaps", "txn_takes", "preempt_holds_refused"))') take_wait: $(json_get 's["scheduler"].get("take_wait")')"
[ "$(planner "['epochs']")" -gt 0 ] || fail "no epoch planned: $summary"
[ "$(planner "['outcomes']['complete']")" -gt 0 ] || fail "no planner transaction completed: $summary"
[ "$(planner "['view_errors']")" = 0 ] || fail "the planner refused views: $(grep planner: "$SCHEDD_LOG")"

# SIGKILL mid-run: BPF's rules alone from here, on the pinned scheduler.
snapshot
kill -KILL "$SCHEDD_PID"
wait "$SCHEDD_PID" 2>/dev/null
SCHEDD_PID=
sleep 5
[ "$(sched_ext_state)" = enabled ] && [ "$(sched_ext_ops)" = vmm_sched ] ||
	fail "the scheduler did not survive SIGKILL of the planning agent (sched_ext $(sched_ext_state))"
all_progress "after the planning agent was killed"

stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps with the planner on and after it died: $RESULT $(grep 'pair-checker: overlap' "$CHECKER_ERR")"
stop_cpu_hogs
