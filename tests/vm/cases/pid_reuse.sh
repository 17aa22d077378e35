#!/bin/bash
# case-seconds: 15
# A reused VMM pid: vmm-schedd acts on a pid only while its start time is the
# one it recorded. An enrolled VMM is killed while the agent is stopped and a
# nobody process takes its pid: the VM is forgotten and nothing of the new
# process is enrolled. Before the fix the new process "was the VM": one of its
# threads listed as a vCPU, the old weight 5000 kept.
. "$(dirname "$0")/../lib.sh"

FAKE=tests/tools/fake-vmm
TAKE=tests/tools/take-pid
others=()
trap 'for p in "${others[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# --- (c) a reused VMM pid
start_schedd --cpus 2-7
start_paused_vm a 2 busy
out=$(ctl enroll "${VM_PID[a]}" --name a --weight 5000 2>&1) || fail "enroll a failed: $out"
resume_vm a
pid=${VM_PID[a]}
kill -STOP "$SCHEDD_PID"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
unset "VM_PID[a]"
unset "VM_LOG[a]"
wait_for 30 sh -c "! [ -e /proc/$pid ]" || fail "testvmm $pid did not exit"
"$TAKE" "$pid" --user nobody -- python3 "$FAKE" vcpu0 "CPU 1/KVM" >"$TMP/reuse.out" 2>&1 ||
	fail "could not start a process with pid $pid: $(cat "$TMP/reuse.out")"
others+=("$pid")
wait_for 60 grep -q "^ready pid=$pid" "$TMP/reuse.out" 2>/dev/null ||
	wait_for 60 sh -c "[ \$(ls /proc/$pid/task | wc -l) -ge 3 ]" || fail "the process at pid $pid did not start its threads"
kill -CONT "$SCHEDD_PID"
gone() { [ "$(vm_count)" = 0 ]; }
wait_for 20 gone || fail "the VM is still listed after its pid $pid was taken by another process: $(json_get 's["vms"]')"
grep -q "VM 'a' (pid $pid) exited and its pid was reused by another process; forgetting it" "$SCHEDD_LOG" ||
	fail "no log line for the reused pid: $(grep "VM 'a'" "$SCHEDD_LOG" | tail -n 3)"
sleep 2
for tid in $(ls "/proc/$pid/task"); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid of the process that took pid $pid has policy $(thread_policy "$tid")"
done
note "reused pid $pid: VM a forgotten, the new process left alone"
kill "$pid"
stop_schedd
