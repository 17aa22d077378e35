#!/bin/bash
# case-seconds: 169
# Core pairing under contention: five 2-vCPU VMs (three busy, one duty-cycle,
# one spinlock) on an enclave of 4 cores in strict mode. The independent pair
# checker, started before any vCPU enters its guest, must see no instant at
# which the two threads of a core run vCPUs of different VMs (no grace period),
# and every vCPU must make progress.
. "$(dirname "$0")/../lib.sh"

run_pairing_scenario 15
[ "$(field switches)" -gt 10000 ] || fail "the checker saw only $(field switches) switches"
[ "$(field tracked_vcpus)" = 10 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 10"
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps under vmm_sched: $RESULT"
stop_schedd
