#!/bin/bash
# case-seconds: 92
# The independent pair checker (build/pair-checker) can fail: under plain CFS,
# three busy VMs pinned so that every core runs vCPUs of two different VMs are
# reported as cross-VM overlaps, while one VM whose vCPUs share a core is not;
# a host CPU hog beside a vCPU is reported as a host overlap; overlaps that
# ended before the checker was marked (SIGUSR1) are not counted.
. "$(dirname "$0")/../lib.sh"

# pin VM INDEX CPU: pins vCPU INDEX of VM to CPU.
pin() {
	local tid
	tid=$(vm_tids "$1" | sed -n "$(($2 + 1))p")
	[ -n "$tid" ] || fail "VM $1 has no vCPU $2"
	taskset -pc "$3" "$tid" >/dev/null || fail "cannot pin vCPU $2 of VM $1 to CPU $3"
}

# 1. No pairing at all (CFS): cores 0-1, 2-3 and 4-5 each run two VMs.
start_checker
start_vm a 2 busy
start_vm b 2 busy
start_vm c 2 busy
pin a 0 0
pin b 0 1
pin a 1 2
pin c 0 3
pin b 1 4
pin c 1 5
sleep 6
stop_checker
for vm in a b c; do stop_vm $vm; done
[ "$(field switches)" -gt 0 ] || fail "the checker saw no context switches"
[ "$(field tracked_vcpus)" = 6 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 6"
[ "$(field cross_vm_overlaps)" -gt 0 ] || fail "no cross-VM overlap reported for VMs sharing cores under CFS"
# Three cores shared for about 6 s: well over a second of overlap in total.
[ "$(field cross_vm_ns)" -gt 1000000000 ] ||
	fail "only $(field cross_vm_ns) ns of cross-VM overlap for three shared cores over 6 s"

# 2. One VM: vCPUs 0 and 1 on the two threads of core 0-1 (same VM: allowed),
# vCPU 2 on CPU 2 beside a host CPU hog on its sibling 3.
start_checker
start_vm solo 3 busy
pin solo 0 0
pin solo 1 1
pin solo 2 2
taskset -c 3 sh -c 'while :; do :; done' &
HOG_PID=$!
sleep 5
stop_checker
kill "$HOG_PID"
wait "$HOG_PID" 2>/dev/null
HOG_PID=
stop_vm solo
[ "$(field tracked_vcpus)" = 3 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 3"
[ "$(field cross_vm_overlaps)" = 0 ] || fail "cross-VM overlaps reported with a single VM: $RESULT"
[ "$(field host_overlaps)" -gt 0 ] || fail "no host overlap reported for a CPU hog beside a vCPU"
[ "$(field host_ns)" -gt 1000000000 ] ||
	fail "only $(field host_ns) ns of host overlap for a CPU hog beside a busy vCPU over 5 s"

# 3. The SIGUSR1 mark: overlaps of two VMs sharing core 0-1 that ended before
# the mark are not counted; the same VMs sharing it after the mark are.
start_checker
start_vm a 1 busy
start_vm b 1 busy
pin a 0 0
pin b 0 1
sleep 3
pin b 0 2
sleep 0.5
mark_checker
sleep 1
stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] || fail "cross-VM overlaps that ended before the mark were counted: $RESULT"
start_checker
mark_checker
pin b 0 1
sleep 3
stop_checker
for vm in a b; do stop_vm $vm; done
[ "$(field cross_vm_overlaps)" -gt 0 ] || fail "no cross-VM overlap counted after the mark: $RESULT"
