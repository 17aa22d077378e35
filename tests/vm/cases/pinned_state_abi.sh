#!/bin/bash
# case-seconds: 128
# Pinned state left by a killed agent: an agent of another ABI refuses it with
# the way out and without disturbing it; `vmm-schedd --unload-pinned` unloads
# it, unpins it and gives every vCPU thread its policy and affinity back.
. "$(dirname "$0")/../lib.sh"

start_paused_vm a 2 busy
declare -A before_aff
for tid in $(vm_tids a); do before_aff[$tid]=$(thread_affinity "$tid"); done
start_schedd --cpus 0-7
enroll_vm a
kill -KILL "$SCHEDD_PID"
wait "$SCHEDD_PID" 2>/dev/null
SCHEDD_PID=
rm -f "$CTL_SOCK"

# The stamp as an agent of ABI 99 would have written it.
stamp=$(bpftool -j map lookup pinned "$PIN_DIR/abi" key 0 0 0 0 |
	python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["value"]))')
bpftool map update pinned "$PIN_DIR/abi" key 0 0 0 0 value 0x53 0x4d 0x4d 0x56 99 0 0 0 ||
	fail "cannot write the ABI stamp"
out=$("$BUILD/vmm-schedd" --control "$CTL_SOCK" --pin-dir "$PIN_DIR" --cpus 0-7 2>&1) &&
	fail "vmm-schedd adopted pinned state of ABI 99: $out"
echo "$out" | grep -q "was loaded by a vmm-schedd of ABI 99, and this vmm-schedd speaks ABI" &&
	echo "$out" | grep -q -- "--unload-pinned --pin-dir $PIN_DIR" || fail "no clear ABI mismatch error: $out"
note "ABI mismatch: $(echo "$out" | tail -n1)"
[ "$(sched_ext_ops)" = vmm_sched ] && [ -e "$PIN_DIR/link_ops" ] || fail "the refused start disturbed the pinned scheduler"
for tid in $(vm_tids a); do
	[ "$(thread_policy "$tid")" = 7 ] || fail "the refused start moved vCPU thread $tid out of SCHED_EXT"
done

# Same ABI again: --unload-pinned restores the threads as the agent's SIGTERM would.
bpftool map update pinned "$PIN_DIR/abi" key 0 0 0 0 value $stamp || fail "cannot restore the ABI stamp '$stamp'"
u0=$(progress a 0 units)
timeout 60 "$BUILD/vmm-schedd" --unload-pinned --pin-dir "$PIN_DIR" >>"$SCHEDD_LOG" 2>&1 ||
	fail "--unload-pinned failed ($?): $(tail -n 5 "$SCHEDD_LOG")"
grep -q "released 1 VMs (2 vCPU threads)" "$SCHEDD_LOG" || fail "--unload-pinned did not release every vCPU"
wait_for 60 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]' ||
	fail "sched_ext is '$(sched_ext_state)' after --unload-pinned"
[ -z "$(ls -A "$PIN_DIR")" ] || fail "pins left after --unload-pinned: $(ls "$PIN_DIR")"
for tid in $(vm_tids a); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid has policy $(thread_policy "$tid") after --unload-pinned"
	[ "$(thread_affinity "$tid")" = "${before_aff[$tid]}" ] || fail "thread $tid kept affinity $(thread_affinity "$tid")"
done
sleep 1
[ "$(progress a 0 units)" -gt "$u0" ] || fail "VM a stopped running after --unload-pinned"

# Another ABI: --unload-pinned can only unload and unpin; threads stay SCHED_EXT
# in the fair class until enrolled again.
start_schedd --cpus 0-7
ctl enroll "${VM_PID[a]}" --name a >/dev/null || fail "cannot enrol a again"
kill -KILL "$SCHEDD_PID"
wait "$SCHEDD_PID" 2>/dev/null
SCHEDD_PID=
rm -f "$CTL_SOCK"
bpftool map update pinned "$PIN_DIR/abi" key 0 0 0 0 value 0x53 0x4d 0x4d 0x56 99 0 0 0
out=$(timeout 60 "$BUILD/vmm-schedd" --unload-pinned --pin-dir "$PIN_DIR" 2>&1) || fail "--unload-pinned of ABI 99 failed: $out"
echo "$out" | grep -q "(ABI 99): the scheduler is unloaded" || fail "--unload-pinned of ABI 99 said: $out"
wait_for 60 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]' ||
	fail "sched_ext is '$(sched_ext_state)' after --unload-pinned of ABI 99"
u0=$(progress a 0 units)
sleep 1
[ "$(progress a 0 units)" -gt "$u0" ] || fail "VM a stopped running after --unload-pinned of ABI 99"
# A new agent enrols the threads again and gives them SCHED_OTHER at its stop.
start_schedd --cpus 0-7 --pid "${VM_PID[a]}:a"
stop_schedd
for tid in $(vm_tids a); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid has policy $(thread_policy "$tid") after re-enrolment and stop"
done
stop_vm a
