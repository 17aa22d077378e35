#!/bin/bash
# case-seconds: 80
# A host task that takes an enclave CPU and keeps it (a local user's busy loop
# in the fair class, which runs before SCHED_EXT) must not strand the vCPU it
# pushed off that CPU: a task preempted by a higher class with slice left goes
# back to the head of that CPU's own queue, and if it waited there for as long
# as the host task runs, the kernel's watchdog would disable the scheduler
# after 30 s. (On 7.3.4 it does not wait there: the case passes without an
# ops.cpu_release; it guards the property.) Four busy vCPUs of one
# VM on two cores (CPUs 0-3); three times a busy loop starts on CPU 1 while a
# vCPU runs there and stays HOG_SECS: every vCPU must make progress while it
# runs, and the scheduler must stay loaded.
. "$(dirname "$0")/../lib.sh"
HOG_SECS=${HOG_SECS:-8}
trap 'stop_cpu_hogs; cleanup' EXIT

start_schedd --cpus 0-3
start_paused_vm a 4 busy
enroll_vm a
sleep 2
declare -A U0
for round in 1 2 3; do
	for i in 0 1 2 3; do U0[$i]=$(progress a $i units); done
	start_cpu_hog 1
	sleep "$HOG_SECS"
	nap 0.6 # a progress line from after the window
	stuck=
	for i in 0 1 2 3; do
		[ "$(progress a $i units)" -gt "${U0[$i]}" ] || stuck+="vCPU $i "
	done
	stop_cpu_hogs
	[ -z "$stuck" ] || fail "round $round: ${stuck}made no progress in $HOG_SECS s while a host task held CPU 1 (status: $(ctl status | head -3 | tr '\n' ' '))"
	kill -0 "$SCHEDD_PID" || fail "round $round: vmm-schedd exited while a host task held CPU 1"
	note "round $round: all 4 vCPUs progressed while a host task held CPU 1 for $HOG_SECS s"
	sleep 1
done
stop_vm a
stop_schedd
