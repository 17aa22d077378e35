#!/bin/bash
# case-seconds: 60
# The benchmark's batch-pairing baseline (tests/bench/batch_pair.bpf.c) is a
# pairing scheduler too: under it the independent pair checker, started before
# any vCPU enters its guest, sees no instant at which the two threads of a core
# run vCPUs of different VMs; every vCPU makes progress and cores change owner.
. "$(dirname "$0")/../lib.sh"
SECS=10
vms=(b1 b2 duty lock single)
start_checker --grace-ns 0
start_paused_vm b1 2 busy
start_paused_vm b2 2 busy
start_paused_vm duty 2 duty --run-us 700 --block-us 900
start_paused_vm lock 2 lock --hold-us 40
start_paused_vm single 1 busy
start_batch_pair "${vms[@]}"
for vm in "${vms[@]}"; do resume_vm $vm; done
declare -A U0
sleep 1
for vm in "${vms[@]}"; do for i in 0 1; do
	[ $vm = single ] && [ $i = 1 ] && continue
	U0[$vm.$i]=$(progress $vm $i units)
done; done
sleep "$SECS"
for vm in "${vms[@]}"; do for i in 0 1; do
	[ $vm = single ] && [ $i = 1 ] && continue
	[ "$(progress $vm $i units)" -gt "${U0[$vm.$i]}" ] || fail "$vm vCPU $i made no progress in $SECS s"
done; done
stop_checker
stop_batch_pair
note "$BATCH_PAIR"
for vm in "${vms[@]}"; do stop_vm $vm; done
[ "$(field tracked_vcpus)" = 9 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 9"
[ "$(field switches)" -gt 1000 ] || fail "the checker saw only $(field switches) switches"
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps under batch-pair: $RESULT"
batches=$(echo "$BATCH_PAIR" | sed -n 's/.* batches=\([0-9]*\).*/\1/p')
[ "$batches" -gt 100 ] || fail "only $batches batches in $SECS s: cores did not change owner ($BATCH_PAIR)"

