#!/bin/bash
# case-seconds: 53
# VMs enrolled through the control socket after start, a VM that exits while
# enrolled is forgotten, and release gives a VM back while others stay.
. "$(dirname "$0")/../lib.sh"

start_schedd --cpus 2-7
[ "$(json_get 'len(s["vms"])')" = 0 ] || fail "a fresh daemon lists VMs"
start_vm x 2 busy
start_vm y 2 duty --run-us 300 --block-us 700
ctl enroll "${VM_PID[x]}" --name x >/dev/null || fail "enroll x failed"
ctl enroll "${VM_PID[y]}" --name y >/dev/null || fail "enroll y failed"
for tid in $(vm_tids x) $(vm_tids y); do
	[ "$(thread_policy "$tid")" = 7 ] || fail "thread $tid not in SCHED_EXT after enroll"
	[ "$(thread_affinity "$tid")" = 2-7 ] || fail "thread $tid has affinity $(thread_affinity "$tid")"
done
ctl release "${VM_PID[y]}" >/dev/null || fail "release y failed"
for tid in $(vm_tids y); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid of y still policy $(thread_policy "$tid") after release"
done
[ "$(json_get '[v["name"] for v in s["vms"]]')" = "['x']" ] || fail "status after release: $(json_get '[v["name"] for v in s["vms"]]')"
stop_vm x
no_vms() { [ "$(vm_count)" = 0 ]; }
wait_for 60 no_vms || fail "the exited VM x is still listed"
grep -q "VM 'x' (pid [0-9]*) exited" "$SCHEDD_LOG" || fail "vmm-schedd did not log that VM x exited"
u0=$(progress y 0 units)
sleep 1
[ "$(progress y 0 units)" -gt "$u0" ] || fail "released VM y stopped running"
stop_vm y
stop_schedd
