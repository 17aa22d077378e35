#!/bin/bash
# case-seconds: 20
# A reused vCPU tid: a saved policy goes back only to the thread it was saved
# from. SCHED_FIFO 10 vCPU threads are enrolled, the agent is killed, a thread
# exits and a nobody process takes its tid: `vmm-schedd --unload-pinned` must
# leave that process SCHED_OTHER, and a restarted agent must not adopt exited
# threads nor give their policy to the new process at its stop. Before the fix
# the nobody process got SCHED_FIFO 10 and dead threads were adopted.
. "$(dirname "$0")/../lib.sh"

FAKE=tests/tools/fake-vmm
TAKE=tests/tools/take-pid
others=()
trap 'for p in "${others[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# --- (d) a reused vCPU tid after the agent was killed
mkfifo "$TMP/ctl.fifo"
python3 "$FAKE" --kvm-vcpus 4 --control "$TMP/ctl.fifo" vcpu0 vcpu1 vcpu2 vcpu3 >"$TMP/fake.out" 2>"$TMP/fake.err" &
fpid=$!
others+=("$fpid")
wait_for 60 grep -q "^ready pid=$fpid" "$TMP/fake.out" || fail "fake-vmm did not start: $(cat "$TMP/fake.err")"
tid_of() { sed -n "s/^thread name=$1 tid=\([0-9]*\)$/\1/p" "$TMP/fake.out"; }
t0=$(tid_of vcpu0) t1=$(tid_of vcpu1) t2=$(tid_of vcpu2) t3=$(tid_of vcpu3)
for tid in $t1 $t2 $t3; do chrt -f -p 10 "$tid" || fail "cannot make thread $tid SCHED_FIFO 10"; done
enrol_f() {
	ctl enroll "$fpid" --name f >/dev/null || fail "enroll of the fake VMM with 4 KVM vCPUs failed"
	local tid
	for tid in "$@"; do [ "$(thread_policy "$tid")" = 7 ] || fail "thread $tid not in SCHED_EXT"; done
}
kill_agent() {
	kill -KILL "$SCHEDD_PID"
	wait "$SCHEDD_PID" 2>/dev/null
	SCHEDD_PID=
	rm -f "$CTL_SOCK"
}
# exit_and_take NAME TID: the thread exits and a nobody sleep takes its tid.
exit_and_take() {
	echo "exit $1" >"$TMP/ctl.fifo"
	wait_for 30 sh -c "! [ -e /proc/$fpid/task/$2 ]" || fail "thread $2 ($1) did not exit"
	"$TAKE" "$2" --user nobody -- sleep 1000 >"$TMP/take.out" 2>&1 ||
		fail "could not start a process with pid $2: $(cat "$TMP/take.out")"
	others+=("$2")
	[ "$(thread_policy "$2")" = 0 ] || fail "the sleep with pid $2 starts with policy $(thread_policy "$2")"
}

# --unload-pinned gives a saved policy only to the thread it was saved from.
start_schedd --cpus 2-7
enrol_f $t0 $t1 $t2 $t3
kill_agent
exit_and_take vcpu1 "$t1"
timeout 60 "$BUILD/vmm-schedd" --unload-pinned --pin-dir "$PIN_DIR" >>"$SCHEDD_LOG" 2>&1 ||
	fail "--unload-pinned failed ($?): $(tail -n 5 "$SCHEDD_LOG")"
[ "$(thread_policy "$t1")" = 0 ] ||
	fail "the nobody sleep with pid $t1 got policy $(thread_policy "$t1") from --unload-pinned (SCHED_FIFO is 1)"
[ "$(thread_policy "$t0")" = 0 ] && [ "$(thread_policy "$t2")" = 1 ] ||
	fail "--unload-pinned did not give the live threads their policy back: $t0 $(thread_policy "$t0"), $t2 $(thread_policy "$t2")"
note "--unload-pinned: the nobody process with the dead SCHED_FIFO vCPU's tid $t1 stays SCHED_OTHER"
wait_for 60 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]' || fail "sched_ext is '$(sched_ext_state)' after --unload-pinned"

# A restarted agent adopts the live threads only, and a clean stop gives a
# saved policy only to the thread it was saved from.
start_schedd --cpus 2-7
enrol_f $t0 $t2 $t3
kill_agent
exit_and_take vcpu2 "$t2"
start_schedd --cpus 2-7
grep -q "adopted 1 VMs (2 vCPU threads) from the pinned scheduler" "$SCHEDD_LOG" ||
	fail "the restarted agent did not adopt 1 VM and its 2 live threads: $(grep adopted "$SCHEDD_LOG")"
grep -q "vCPU 2 of VM 'f' (thread $t2) exited while no agent ran; forgetting it" "$SCHEDD_LOG" ||
	fail "no log line for the exited vCPU thread $t2"
listed=$(json_get '" ".join(sorted(str(c["tid"]) for v in s["vms"] for c in v["vcpus"]))')
[ "$listed" = "$(echo -e "$t0\n$t3" | sort | tr '\n' ' ' | sed 's/ $//')" ] || fail "adopted vCPU threads '$listed', want $t0 $t3"
stop_schedd
[ "$(thread_policy "$t2")" = 0 ] || fail "the nobody sleep with pid $t2 has policy $(thread_policy "$t2") after the restart and stop"
[ "$(thread_policy "$t3")" = 1 ] || fail "the live vCPU thread $t3 did not get SCHED_FIFO back: $(thread_policy "$t3")"
note "restart: 2 live vCPU threads adopted, the dead one ($t2, its tid now a nobody sleep) forgotten"
