#!/bin/bash
# case-seconds: 115
# A vCPU whose affinity stops allowing any enclave CPU (taskset by the VMM's
# user, a vcpupin, a cpuset change) must never stall the scheduler: it runs at
# once where it may, as a host task, and vmm-schedd takes it out of SCHED_EXT
# (its previous policy, the affinity it was given) and says so. Once its
# affinity includes an enclave CPU again it is enrolled again. Before the fix
# it waited on its VM's queue for ever and the kernel's watchdog disabled the
# scheduler for every VM after ~30 s.
. "$(dirname "$0")/../lib.sh"

start_schedd --cpus 2-7
start_paused_vm a 2 busy
start_paused_vm b 2 busy
enroll_vm a
enroll_vm b
read -r tid0 tid1 <<<"$(echo $(vm_tids a))"
escaped_lines() { grep -c "VM 'a': vCPU 0 (thread $tid0) may no longer run on an enclave CPU" "$SCHEDD_LOG"; }

# 1. The scheduler alone (agent stopped): the escaped vCPU runs on CPU 0 and
#    nothing stalls for longer than the kernel's watchdog (30 s).
kill -STOP "$SCHEDD_PID"
u0=$(progress a 0 units) ub=$(progress b 0 units)
taskset -p -c 0 "$tid0" >/dev/null || fail "taskset -p -c 0 $tid0 failed"
sleep 40
state=$(sched_ext_state)
kill -CONT "$SCHEDD_PID"
[ "$state" = enabled ] || fail "sched_ext is '$state' 40 s after a vCPU's affinity left the enclave"
[ "$(progress a 0 units)" -gt "$u0" ] || fail "the vCPU with affinity 0 did not run while the agent was stopped"
[ "$(progress b 0 units)" -gt "$ub" ] || fail "VM b made no progress after a's vCPU left the enclave"
note "agent stopped: vCPU 0 of a ran on CPU 0 for 40 s, scheduler still enabled"

# 2. The agent takes it out of SCHED_EXT, keeps the affinity it was given, says so.
out_of_ext() { [ "$(thread_policy "$tid0")" = 0 ]; }
wait_for 10 out_of_ext || fail "thread $tid0 with affinity 0 is still policy $(thread_policy "$tid0") after the agent resumed"
[ "$(thread_affinity "$tid0")" = 0 ] || fail "thread $tid0 got affinity $(thread_affinity "$tid0"), not the 0 it was given"
[ "$(escaped_lines)" = 1 ] || fail "no single log line for the escaped vCPU: $(grep "thread $tid0" "$SCHEDD_LOG")"
grep "may no longer run on an enclave CPU" "$SCHEDD_LOG" | sed 's/^/  /'
[ "$(json_get '[len(v["vcpus"]) for v in s["vms"] if v["name"] == "a"][0]')" = 1 ] ||
	fail "VM a does not list 1 vCPU after the escape"
[ "$(thread_policy "$tid1")" = 7 ] || fail "a's other vCPU left SCHED_EXT"

# 3. A taskset straight away, the agent running: out within seconds.
taskset -p -c 1 "$tid1" >/dev/null || fail "taskset -p -c 1 $tid1 failed"
t1_out() { [ "$(thread_policy "$tid1")" = 0 ]; }
wait_for 5 t1_out || fail "thread $tid1 is still in SCHED_EXT 5 s after taskset -c 1"
note "with the agent running: out of SCHED_EXT within 5 s"

# 4. Back on the enclave: enrolled again at the next rescan.
taskset -p -c 2-7 "$tid0" >/dev/null || fail "taskset -p -c 2-7 $tid0 failed"
back_in() { [ "$(thread_policy "$tid0")" = 7 ]; }
wait_for 10 back_in || fail "thread $tid0 was not enrolled again once its affinity allowed the enclave"

# 5. A VMM changing affinity in a loop: the scheduler stays up, the log stays short.
lines0=$(grep -c "VM 'a'" "$SCHEDD_LOG")
for i in $(seq 12); do
	taskset -p -c 0 "$tid0" >/dev/null
	nap 0.5
	taskset -p -c 2-7 "$tid0" >/dev/null
	nap 0.5
done
lines=$(($(grep -c "VM 'a'" "$SCHEDD_LOG") - lines0))
note "affinity flipped 12 times in 12 s: $lines log lines about VM a"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext is '$(sched_ext_state)' after the affinity loop"
[ "$lines" -le 6 ] || fail "$lines log lines about VM a during the affinity loop (rate limit: 5 a minute)"
ub=$(progress b 0 units)
sleep 2
[ "$(progress b 0 units)" -gt "$ub" ] || fail "VM b made no progress after the affinity loop"
stop_schedd
for tid in $tid0 $tid1; do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid has policy $(thread_policy "$tid") after the stop"
done
stop_vm a
stop_vm b
