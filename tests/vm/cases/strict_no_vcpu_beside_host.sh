#!/bin/bash
# case-seconds: 50
# Strict pairing starts no vCPU on a thread whose sibling runs a host task.
# Four busy 2-vCPU VMs share an enclave of 8 CPUs (2x overcommit) while host
# tasks intrude: CPU hogs pinned to changing CPUs, and a task on CPU 5 that
# runs 5 ms every 25 ms. The pair checker starts before the scheduler (so its
# sched_switch probe runs before the scheduler's: it never sees a thread still
# running a vCPU the scheduler already counts as gone) and counts from the
# point the VMs are enrolled (the enable itself is a documented window: a
# vCPU may be running beside a host task then). It must see host tasks start
# beside vCPUs (so the case can see them) but no vCPU start beside a running
# host task for longer than GRACE_NS: a host task switching in on the sibling
# while this thread is already switching to a vCPU is a race no scheduler can
# close, and is cut within one IPI round trip (~0.5 ms here).
#
# The goal is 0. What the scheduler reaches today is not: with the fix for a
# preempted vCPU restarted beside a host task (ops.stopping sends it back
# through enqueue, ops.running kicks a vCPU that started beside one anyway),
# 5-18 starts beside a host task outlast the grace in this case (three runs:
# 15, 18, 8; the scheduler itself saw 274-455 such starts and kicked each);
# without it, 90. Under single-threaded TCG the guest CPUs take turns on one
# host thread, so a kick reaches a sibling only when its turn comes round:
# the exposures that outlast the grace are that wait (longest 13-54 ms), and
# multi-threaded TCG, which would shorten it, oopses while sched_ext patches
# kernel text. So the case fails above MAX_STARTS, which the scheduler without
# the fix exceeds. A cross-VM overlap fails it at once: it was seen here
# (4.2 ms, once) only while the checker started after the scheduler, whose
# probe then ran first (see "Probe order" in docs/design.md).
. "$(dirname "$0")/../lib.sh"
GRACE_NS=${GRACE_NS:-1000000}
MAX_STARTS=${MAX_STARTS:-30}
trap 'stop_cpu_hogs; cleanup' EXIT

start_checker --grace-ns "$GRACE_NS" --verbose
start_schedd --cpus 0-7
for vm in a b c d; do start_paused_vm $vm 2 busy; done
for vm in a b c d; do enroll_vm $vm; done
start_host_blinker 5 5 20
BLINK_PID=$HOG_LAST
mark_checker
for cpu in 2 7 0 4; do
	start_cpu_hog $cpu
	sleep 2
	stop_cpu_hog "$HOG_LAST"
	sleep 1
done
stop_checker
SELF_CHECK=$(for k in self_check_overlaps switch_overlaps misplaced_runs unclaimed_runs host_starts kicks; do
	printf '%s=%s ' "$k" "$(sched_counter "$k")"; done)
note "scheduler: $SELF_CHECK"
stop_cpu_hog "$BLINK_PID"
for vm in a b c d; do stop_vm $vm; done
stop_schedd
[ "$(field tracked_vcpus)" = 8 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 8: $RESULT"
[ "$(field host_beside_vcpu)" -gt 0 ] || fail "no host task started beside a vCPU: the case saw no intrusion: $RESULT"
note "vCPU started beside host: $(field vcpu_beside_host) (+$(field vcpu_beside_host_short) under ${GRACE_NS} ns)," \
	"longest $(($(field vcpu_beside_host_max_ns) / 1000)) us; host started beside vCPU: $(field host_beside_vcpu)," \
	"longest $(($(field host_beside_vcpu_max_ns) / 1000)) us"
note "of those, ended by the vCPU leaving, by timer interrupts its CPU took meanwhile (0/1/2+):" \
	"vCPU second $(field vcpu_beside_host_left_0_timer_irqs)/$(field vcpu_beside_host_left_1_timer_irq)/$(field vcpu_beside_host_left_2_timer_irqs)," \
	"host second $(field host_beside_vcpu_left_0_timer_irqs)/$(field host_beside_vcpu_left_1_timer_irq)/$(field host_beside_vcpu_left_2_timer_irqs)"
if [ "$(field vcpu_beside_host)" -gt "$MAX_STARTS" ]; then
	grep 'vcpu_beside_host ' "$CHECKER_ERR" | awk -v g="$GRACE_NS" '{for(i=1;i<=NF;i++) if ($i ~ /^ns=/ && substr($i,4)+0 >= g) {print; break}}' | head -n 10 >&2
	fail "strict pairing: $(field vcpu_beside_host) times (more than $MAX_STARTS) a vCPU started beside a running host task: $RESULT"
fi
if [ "$(field cross_vm_overlaps)" != 0 ]; then
	grep ' overlap ' "$CHECKER_ERR" | head -n 10 >&2
	fail "cross-VM overlaps in strict mode: $RESULT"
fi
