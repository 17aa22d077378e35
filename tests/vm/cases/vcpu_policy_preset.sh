#!/bin/bash
# case-seconds: 45
# A VMM that puts its own vCPU threads in SCHED_EXT before it is enrolled (any
# process may choose that policy for its threads; so may a scheduler that
# unloaded and left them there) must not keep them out of pairing. Such a
# thread entered the scheduler as host work, which runs wherever it woke; once
# the agent lists it as a vCPU, it must be scheduled as one. Relaxed pairing
# (host tasks may share a core with a vCPU, two VMs never): two busy 2-vCPU VMs
# whose vCPU threads chose SCHED_EXT before enrolment must show no cross-VM
# overlap and every vCPU must run as a vCPU. Without the adoption their
# threads ran as host work beside each other: cross-VM overlaps, no vCPU run.
. "$(dirname "$0")/../lib.sh"

start_checker --grace-ns 0
start_schedd --cpus 0-7 --pairing relaxed
for vm in a b; do start_paused_vm $vm 2 busy; done
for vm in a b; do
	for tid in $(vm_tids $vm); do
		python3 -c 'import os, sys; os.sched_setscheduler(int(sys.argv[1]), 7, os.sched_param(0))' "$tid" ||
			fail "cannot put thread $tid of VM $vm in SCHED_EXT"
		[ "$(python3 -c 'import os, sys; print(os.sched_getscheduler(int(sys.argv[1])))' "$tid")" = 7 ] ||
			fail "thread $tid of VM $vm is not in SCHED_EXT"
	done
done
for vm in a b; do enroll_vm $vm; done
sleep 8
ADOPTED=$(json_get "s['scheduler'].get('late_adoptions', 0)")
NOT_RUN=$(json_get "' '.join(str(v['tid']) for vm in s['vms'] for v in vm['vcpus'] if v['runs'] == 0)")
stop_checker
for vm in a b; do stop_vm $vm; done
stop_schedd
note "threads adopted as vCPUs after choosing SCHED_EXT themselves: $ADOPTED"
[ "$(field tracked_vcpus)" = 4 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 4: $RESULT"
[ -z "$NOT_RUN" ] || fail "vCPU threads $NOT_RUN never ran as vCPUs (left as host work): $RESULT"
[ "$ADOPTED" -ge 4 ] || fail "only $ADOPTED of 4 threads already in SCHED_EXT were made vCPUs"
[ "$(field cross_vm_overlaps)" = 0 ] || fail "cross-VM overlaps with vCPUs that chose SCHED_EXT before enrolment: $RESULT"
