#!/bin/bash
# case-seconds: 90
# A transaction with VS_TXN_F_TAKE_CORE (vmm-schedctl place --take-core) takes
# a core another VM runs: two busy 2-vCPU VMs share a one-core enclave; a
# plain commit of b's vCPU onto the core while a runs it is refused wrong_vm,
# a --take-core one completes, is counted (txn_takes), and b's vCPU runs
# there; the pair checker sees no cross-VM overlap throughout.
. "$(dirname "$0")/../lib.sh"

place() {
	OUT=$(ctl place "$@" 2>&1)
	RC=$?
}
outcome_of() { echo "$OUT" | sed -n "s/^vCPU thread $1 on CPU [0-9]* (seqnum [0-9]*): //p"; }
runs_of() { json_get "[c['runs'] for v in s['vms'] for c in v['vcpus'] if c['tid'] == $1][0]"; }
ran_since() { [ "$(runs_of "$1")" -gt "$2" ]; }
progressed() { [ "$(progress "$1" 0 units)" -gt "$2" ]; }
last_cpu_of() { json_get "[c['last_cpu'] for v in s['vms'] for c in v['vcpus'] if c['tid'] == $1][0]"; }

start_checker --grace-ns 0
start_schedd --cpus 0-1
start_paused_vm a 2 busy
start_paused_vm b 2 busy
enroll_vm a
enroll_vm b
sleep 2
mark_checker
read -r b0 b1 <<<"$(vm_tids b | tr '\n' ' ')"

# Without the flag: refused wrong_vm whenever a holds the core (half the time).
declare -A seen
wrong=0
for try in $(seq 1 30); do
	place "$b0" 0
	o=$(outcome_of "$b0")
	[ -n "$o" ] || fail "no outcome for $b0: $OUT"
	seen[$o]=$((${seen[$o]:-0} + 1))
	if [ "$o" = wrong_vm ]; then
		[ "$RC" = 3 ] || fail "a wrong_vm refusal exited $RC, not 3: $OUT"
		wrong=$((wrong + 1))
		break
	fi
done
note "without --take-core: $(for o in "${!seen[@]}"; do printf '%s=%s ' "$o" "${seen[$o]}"; done)"
[ "$wrong" -ge 1 ] || fail "no plain commit of b's vCPU was refused wrong_vm in 30 tries"
[ "$(sched_counter txn_takes)" = 0 ] || fail "a plain commit counted a take"

# With the flag: where the plain commit was wrong_vm, the core is taken.
declare -A seen_take
takes=0
for try in $(seq 1 30); do
	runs0=$(runs_of "$b0")
	takes0=$(sched_counter txn_takes)
	place "$b0" 0 --take-core
	o=$(outcome_of "$b0")
	[ -n "$o" ] || fail "no outcome for $b0: $OUT"
	seen_take[$o]=$((${seen_take[$o]:-0} + 1))
	if [ "$o" = complete ] && [ "$(sched_counter txn_takes)" -gt "$takes0" ]; then
		wait_for 30 ran_since "$b0" "$runs0" ||
			fail "b's vCPU $b0 did not run after the core was taken for it"
		takes=$((takes + 1))
		[ "$takes" -ge 3 ] && break
	fi
done
note "with --take-core: $(for o in "${!seen_take[@]}"; do printf '%s=%s ' "$o" "${seen_take[$o]}"; done)" \
	"takes=$(sched_counter txn_takes) last_cpu=$(last_cpu_of "$b0")" \
	"take_wait=$(json_get 's["scheduler"]["take_wait"]')"
[ "$takes" -ge 1 ] || fail "no --take-core commit took the core from a in 30 tries"

# Both VMs keep running afterwards.
for vm in a b; do
	u0=$(progress $vm 0 units)
	wait_for 30 progressed $vm "$u0" || fail "$vm vCPU 0 stopped after the takes"
done
for vm in a b; do stop_vm $vm; done
stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "a taken core broke core pairing: $RESULT"
note "checker: $RESULT"
stop_schedd
