#!/bin/bash
# case-seconds: 388
# Surviving agent failure. Three VMs run under vmm-schedd on 4 cores while:
#  1. the agent stalls (SIGSTOP, 3 s): the message ring buffer overflows, and
#     on SIGCONT the agent resynchronises from the maps (no silent divergence);
#  2. the agent is killed (SIGKILL): the pinned scheduler keeps running every
#     vCPU (an independent checker measures how long vCPUs wait to run, with
#     the agent alive and while it is dead), and a restarted agent adopts 100%
#     of VMs and vCPUs without moving them; SIGTERM then unloads it and gives
#     every thread its policy and affinity back.
# Until that stop, no two VMs share a core (a second checker, started first).
# case-timeout: 900
. "$(dirname "$0")/../lib.sh"

VMS="b1 b2 duty"
declare -A before_aff
vcpu_tids() { local vm; for vm in $VMS; do vm_tids $vm; done; }
all_progress() { # all_progress ARRAY-NAME: fails unless every vCPU advanced since the snapshot
	local -n snap=$1
	local vm i
	for vm in $VMS; do
		for i in 0 1; do
			[ "$(progress $vm $i units)" -gt "${snap[$vm.$i]}" ] || fail "$vm vCPU $i made no progress $2"
		done
	done
}
snapshot() { local -n snap=$1; local vm i; for vm in $VMS; do for i in 0 1; do snap[$vm.$i]=$(progress $vm $i units); done; done; }
sched_bool() { json_get "s['scheduler']['$1']"; }

start_checker --grace-ns 0
PAIR_PID=$CHECKER_PID PAIR_OUT=$CHECKER_OUT
trap '[ -n "$PAIR_PID" ] && kill "$PAIR_PID" 2>/dev/null; cleanup' EXIT
CHECKER_OUT=$TMP/gap.out CHECKER_ERR=$TMP/gap.err
start_schedd --cpus 0-7 --ring-kb 16
start_paused_vm b1 2 busy
start_paused_vm b2 2 busy
start_paused_vm duty 2 duty --run-us 700 --block-us 900
for tid in $(vcpu_tids); do before_aff[$tid]=$(thread_affinity "$tid"); done
for vm in $VMS; do enroll_vm $vm; done
sleep 2

# --- 1. a lagging agent
drops0=$(sched_counter dropped_messages)
resyncs0=$(sched_counter resyncs)
kill -STOP "$SCHEDD_PID"
sleep 3
kill -CONT "$SCHEDD_PID"
sleep 2
drops1=$(sched_counter dropped_messages)
[ "$drops1" -gt "$drops0" ] || fail "the ring buffer did not overflow while the agent was stopped (dropped $drops0 -> $drops1)"
[ "$(sched_counter resyncs)" -gt "$resyncs0" ] || fail "the agent did not resync after $((drops1 - drops0)) dropped messages"
grep -q "resynchronising vCPU and CPU state from the maps" "$SCHEDD_LOG" || fail "no resync log line"
# The agent's view matches the scheduler's: every vCPU known, seqnums close.
lag=$(json_get 'max(c["seqnum"] - c["tracked_seqnum"] for v in s["vms"] for c in v["vcpus"])')
unknown=$(json_get 'sum(c["state"] == "unknown" for v in s["vms"] for c in v["vcpus"])')
note "stalled agent: $((drops1 - drops0)) messages dropped, resynced; max seqnum lag $lag, $unknown vCPUs unknown"
[ "$lag" -ge 0 ] && [ "$lag" -lt 500 ] || fail "after the resync the agent's seqnums lag the scheduler's by $lag"
[ "$unknown" = 0 ] || fail "$unknown vCPUs are in state unknown after the resync"

# --- 2. SIGKILL, survival, re-adoption
# The baseline: how long vCPUs wait to run with the agent alive, same length.
start_checker --gap-threshold-ms 100
sleep 3
stop_checker
base="$(field gaps) waits, $(field gaps_over) over 100 ms, longest $(field gap_max_ns) ns"
start_checker --gap-threshold-ms 100
declare -A u0 u1
snapshot u0
kill -KILL "$SCHEDD_PID"
wait "$SCHEDD_PID" 2>/dev/null
SCHEDD_PID=
sleep 0.5
[ "$(sched_ext_state)" = enabled ] && [ "$(sched_ext_ops)" = vmm_sched ] ||
	fail "the scheduler did not survive SIGKILL of vmm-schedd (sched_ext $(sched_ext_state), ops '$(sched_ext_ops)')"
[ -e "$PIN_DIR/link_ops" ] || fail "no pinned struct_ops map at $PIN_DIR"
for tid in $(vcpu_tids); do
	[ "$(thread_policy "$tid")" = 7 ] || fail "vCPU thread $tid left SCHED_EXT when the agent died"
done
sleep 2.5
stop_checker
all_progress u0 "while no agent ran"
note "vCPU waits, agent alive (3 s): $base"
note "vCPU waits, agent dead (3 s):  $(field gaps) waits, $(field gaps_over) over 100 ms, longest $(field gap_max_ns) ns"
# A scheduler that needed its agent would leave vCPUs waiting the whole 3 s.
# The 100 ms target is reported, not enforced: under TCG it is missed with the
# agent alive too.
[ "$(field gaps)" -gt 50 ] || fail "the gap checker saw only $(field gaps) vCPU waits"
[ "$(field gap_max_ns)" -lt 2000000000 ] ||
	fail "a vCPU waited $(field gap_max_ns) ns to run while no agent ran (tid $(field gap_max_tid))"

snapshot u1
rm -f "$CTL_SOCK"
start_schedd --cpus 0-7 --ring-kb 16
grep -q "adopted 3 VMs (6 vCPU threads) from the pinned scheduler" "$SCHEDD_LOG" ||
	fail "the restarted agent did not adopt 3 VMs and 6 vCPUs: $(grep adopted "$SCHEDD_LOG")"
[ "$(sched_bool adopted)" = True ] || fail "status does not say the scheduler was adopted"
[ "$(json_get 'len(s["vms"])')" = 3 ] || fail "status lists $(json_get 'len(s["vms"])') VMs, not 3"
listed=$(json_get '" ".join(sorted(str(c["tid"]) for v in s["vms"] for c in v["vcpus"]))')
[ "$listed" = "$(vcpu_tids | sort | tr '\n' ' ' | sed 's/ $//')" ] || fail "adopted vCPUs '$listed' are not the VMs' threads"
[ "$(json_get 'sorted((v["name"], v["weight"]) for v in s["vms"])')" = "[('b1', 100), ('b2', 100), ('duty', 100)]" ] ||
	fail "adopted VM names or weights differ: $(json_get 'sorted((v["name"], v["weight"]) for v in s["vms"])')"
for tid in $(vcpu_tids); do
	[ "$(thread_policy "$tid")" = 7 ] || fail "vCPU thread $tid left SCHED_EXT at adoption"
done
all_progress u1 "after the agent was restarted"

# Pairing held from enrolment to here (after the stop the fair class runs the
# VMs, and pairing is not its business).
CHECKER_PID=$PAIR_PID CHECKER_OUT=$PAIR_OUT CHECKER_ERR=$TMP/checker.err
PAIR_PID=
stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps across the agent's stall, death and restart: $RESULT"

# A clean stop of the adopted scheduler unloads it and restores every thread.
stop_schedd
grep -q "released 3 VMs (6 vCPU threads)" "$SCHEDD_LOG" || fail "the adopted agent did not release every vCPU"
wait_for 60 sh -c '[ "$(cat /sys/kernel/sched_ext/state)" = disabled ]' ||
	fail "sched_ext is '$(sched_ext_state)' after the adopted agent stopped"
[ -z "$(ls -A "$PIN_DIR")" ] || fail "pins left after a clean stop: $(ls "$PIN_DIR")"
for tid in $(vcpu_tids); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid has policy $(thread_policy "$tid") after the stop"
	[ "$(thread_affinity "$tid")" = "${before_aff[$tid]}" ] || fail "thread $tid kept affinity $(thread_affinity "$tid")"
done

for vm in $VMS; do stop_vm $vm; done
