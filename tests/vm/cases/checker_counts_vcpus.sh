#!/bin/bash
# case-seconds: 60
# The pair checker's tracked_vcpus (the guard other cases put on its results)
# is exactly the number of vCPU threads that ran while it watched, even for
# threads that came and went while its /proc scans lagged behind: its BPF side
# judges a new vCPU thread by name from its first switch, and those threads
# must be counted too. The lag is made certain here by stopping the checker's
# loader (SIGSTOP) while two VMs start, run and exit; under a loaded TCG test
# VM it happens on its own.
. "$(dirname "$0")/../lib.sh"

# 1. No lag: three VMs, five vCPU threads.
start_checker
start_vm a 2 busy
start_vm b 1 duty --run-us 500 --block-us 500
start_vm c 2 busy
sleep 3
stop_checker
for vm in a b c; do stop_vm $vm; done
[ "$(field tracked_vcpus)" = 5 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 5: $RESULT"

# 2. The loader stopped while VMs d (2 vCPUs) and e (1) live and exit; f (2)
# starts once it runs again.
start_checker
kill -STOP "$CHECKER_PID"
start_vm d 2 busy
start_vm e 1 busy
sleep 2
stop_vm d
stop_vm e
kill -CONT "$CHECKER_PID"
start_vm f 2 busy
sleep 2
stop_checker
stop_vm f
[ "$(field switches)" -gt 0 ] || fail "the checker saw no context switches"
[ "$(field tracked_vcpus)" = 5 ] ||
	fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 5 (2 of them only while its loader was stopped): $RESULT"
