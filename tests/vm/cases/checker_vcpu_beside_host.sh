#!/bin/bash
# case-seconds: 120
# The pair checker's split of vCPU-beside-host exposures by the side that came
# second can fail: in relaxed pairing a vCPU may start on a thread whose
# sibling runs a host task, so four busy 2-vCPU VMs on an enclave of 8 CPUs
# with a host CPU hog pinned to CPU 3 must show "vCPU started beside a host
# task" (vcpu_beside_host) as well as "host task started beside a vCPU"
# (host_beside_vcpu); the two together cover exactly the host exposure time.
. "$(dirname "$0")/../lib.sh"
trap 'stop_cpu_hogs; cleanup' EXIT

start_schedd --cpus 0-7 --pairing relaxed
for vm in a b c d; do start_paused_vm $vm 2 busy; done
for vm in a b c d; do enroll_vm $vm; done
start_checker --grace-ns 0
start_cpu_hog 3
sleep 8
stop_checker
stop_cpu_hogs
for vm in a b c d; do stop_vm $vm; done
stop_schedd
[ "$(field tracked_vcpus)" = 8 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 8: $RESULT"
[ "$(field vcpu_beside_host)" -gt 0 ] ||
	fail "relaxed pairing with a host hog on CPU 3: no vCPU started beside a host task: $RESULT"
[ "$(field host_beside_vcpu)" -gt 0 ] ||
	fail "relaxed pairing with a host hog on CPU 3: no host task started beside a vCPU: $RESULT"
[ $(($(field vcpu_beside_host_ns) + $(field host_beside_vcpu_ns))) = "$(field host_ns)" ] ||
	fail "the split exposures do not add up to host_ns: $RESULT"
note "vCPU started beside host: $(field vcpu_beside_host) for $(($(field vcpu_beside_host_ns) / 1000000)) ms," \
	"longest $(($(field vcpu_beside_host_max_ns) / 1000)) us"
