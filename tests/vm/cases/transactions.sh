#!/bin/bash
# case-seconds: 81
# Agent transactions ("run vCPU T on CPU c if its seqnum is still S") through
# vmm-schedctl place: each refusal comes back with its own outcome (stale,
# unknown vCPU, CPU outside the enclave), fresh ones commit, a group commit on
# both threads of a core is all or nothing, and no committed placement breaks
# core pairing (the pair checker watches throughout).
. "$(dirname "$0")/../lib.sh"

# place ARGS...: sets OUT to vmm-schedctl's output and RC to its exit status.
place() {
	OUT=$(ctl place "$@" 2>&1)
	RC=$?
}
outcome_of() { echo "$OUT" | sed -n "s/^vCPU thread $1 on CPU [0-9]* (seqnum [0-9]*): //p"; }

start_checker --grace-ns 0
start_schedd --cpus 0-3
# Ten busy vCPUs of VM a on 4 CPUs (a owns both cores, six vCPUs always
# wait), and a mostly idle VM b.
start_paused_vm a 10 busy
start_paused_vm b 1 duty --run-us 200 --block-us 2000
enroll_vm a
enroll_vm b
sleep 2
read -r a0 a1 a2 a3 a4 a5 _ <<<"$(vm_tids a | tr '\n' ' ')"
b0=$(vm_tids b)

# Refusals, each with the outcome that says why.
place "$SCHEDD_PID" 0
[ "$RC" = 3 ] && [ "$(outcome_of "$SCHEDD_PID")" = unknown_vcpu ] ||
	fail "placing a thread that is no vCPU: expected unknown_vcpu (exit 3), got ($RC) $OUT"
place "$a0" 5
[ "$RC" = 3 ] && [ "$(outcome_of "$a0")" = not_in_enclave ] ||
	fail "placing on CPU 5 outside enclave 0-3: expected not_in_enclave, got ($RC) $OUT"
place "$a0" 0
seq=$(echo "$OUT" | sed -n 's/.*(seqnum \([0-9]*\)).*/\1/p')
[ -n "$seq" ] && [ "$seq" -gt 0 ] || fail "no seqnum in the reply: $OUT"
place "$a0" 0 --seqnum $((seq - 1))
[ "$RC" = 3 ] && [ "$(outcome_of "$a0")" = stale ] ||
	fail "placing with an old seqnum $((seq - 1)): expected stale, got ($RC) $OUT"
note "refusals: unknown_vcpu, not_in_enclave, stale (seqnum $((seq - 1)) < $seq)"

# Fresh placements of waiting vCPUs commit. Whether a vCPU still waits when its
# transaction reaches the CPU is chance (a third of the time here, less on a
# slow host): up to 12 rounds until two commit.
declare -A seen
complete=0
for try in $(seq 1 12); do
	for tid in $a0 $a1 $a2 $a3 $a4 $a5; do
		place "$tid" $((RANDOM % 4))
		o=$(outcome_of "$tid")
		[ -n "$o" ] || fail "no outcome for $tid: $OUT"
		seen[$o]=$((${seen[$o]:-0} + 1))
		[ "$o" = complete ] && complete=$((complete + 1))
	done
	[ "$complete" -ge 2 ] && break
done
note "single placements ($SECONDS s): $(for o in "${!seen[@]}"; do printf '%s=%s ' "$o" "${seen[$o]}"; done)"
[ "$complete" -ge 2 ] || fail "only $complete of the fresh placements committed"

# Group commits on core 0 (CPUs 0 and 1): both or neither. Each try names two
# vCPUs of a that status shows waiting, so a group can commit if they still
# wait when it reaches the CPUs (with two of six waiting, 20 tries were not
# always enough).
waiting_pair() {
	json_get "' '.join(str(c['tid']) for v in s['vms'] if v['name'] == 'a' for c in v['vcpus'] if c['state'] == 'runnable')" |
		awk '{ if (NF >= 2) print $1, $2 }'
}
groups=0 tried=
for try in $(seq 1 20); do
	read -r g1 g2 <<<"$(waiting_pair)"
	[ -n "$g2" ] || g1=$a1 g2=$a2
	place "$g1" 0 --with "$g2" 1
	o1=$(outcome_of "$g1") o2=$(outcome_of "$g2")
	tried+="$o1/$o2 "
	[ -n "$o1" ] && [ -n "$o2" ] || fail "no outcomes for the group: $OUT"
	if [ "$o1" = complete ] || [ "$o2" = complete ]; then
		[ "$o1" = complete ] && [ "$o2" = complete ] ||
			fail "a group commit placed only one vCPU: $OUT"
		groups=$((groups + 1))
		break
	fi
	[ "$o1" = group_failed ] || [ "$o2" = group_failed ] || [ "$o1" = "$o2" ] || [ "$o1" != complete ] ||
		fail "a failed group must mark its fine member group_failed: $OUT"
done
[ "$groups" -ge 1 ] || fail "no group commit of two waiting vCPUs of VM a succeeded in 20 tries (outcomes: $tried)"
# Two VMs on one core can never commit together.
for try in $(seq 1 3); do
	place "$a0" 2 --with "$b0" 3
	[ "$(outcome_of "$a0")" = complete ] && fail "a group of two VMs' vCPUs on one core committed: $OUT"
done
place "$a0" 0 --with "$a1" 2
[ "$RC" = 3 ] && [ "$(outcome_of "$a0")" = bad_slot ] ||
	fail "a group on CPUs of two cores must be refused as bad_slot, got ($RC) $OUT"
note "group commits: $groups complete pairs, none split"

ctl place 1 >/dev/null 2>&1 && fail "vmm-schedctl place with no CPU did not fail"
[ "$(json_get 's["scheduler"]["txn_outcomes"]["stale"]')" -ge 1 ] || fail "status counts no stale transaction"
sleep 1
for vm in a b; do stop_vm $vm; done
stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "transactions broke core pairing: $RESULT"
stop_schedd
