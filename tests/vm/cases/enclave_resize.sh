#!/bin/bash
# case-seconds: 222
# Live enclaves. Busy 2-vCPU VMs a (enclave 'default') and b (enclave 'fast');
# one core moves between 'default' and 'fast' 20 times (10 times there and
# back; each move is remove-cores, then add-cores) while the pair checker
# runs. After every step each vCPU thread's CPU (field 39 of /proc/TID/stat,
# sampled with shell builtins, no fork) must
# be in its VM's enclave: a removed core runs none of its old VMs' vCPUs. The
# checker must see no cross-VM overlap and every vCPU must keep progressing.
# Then each refusal (partial core, CPU not online, CPU in another enclave,
# last core of an enclave with VMs, reservations above the cores left,
# destroying a non-empty enclave without --force, an unprivileged peer) must
# say why and leave status --json as it was; rebalance --dry-run changes
# nothing; destroy --force moves b to 'default'.
. "$(dirname "$0")/../lib.sh"

ROUNDS=${ROUNDS:-10} # there and back: 2 moves, 4 commands each round

# The 4 cores of the test VM as CPU lists, e.g. "0,4" or "0-1".
cores=()
for cpu in 0 1 2 3 4 5 6 7; do
	sib=$(cat /sys/devices/system/cpu/cpu$cpu/topology/thread_siblings_list)
	[[ " ${cores[*]} " == *" $sib "* ]] || cores+=("$sib")
done
[ "${#cores[@]}" = 4 ] || fail "expected 4 cores of 2 threads, found: ${cores[*]}"
C0=${cores[0]} C1=${cores[1]} C2=${cores[2]} C3=${cores[3]}
note "cores: $C0 $C1 $C2 $C3 (default: $C0 $C1, fast: $C2, free: $C3; $C1 moves)"

# in_list CPU LIST: is CPU in the CPU list (a,b or a-b forms, as the kernel prints)?
in_list() {
	local cpu=$1 part lo hi
	IFS=, read -ra parts <<<"$2"
	for part in "${parts[@]}"; do
		lo=${part%-*} hi=${part#*-}
		[ "$cpu" -ge "$lo" ] && [ "$cpu" -le "$hi" ] && return 0
	done
	return 1
}

# thread_cpu TID: sets CPU to the CPU it last ran on (field 39), without a fork.
thread_cpu() {
	local stat f
	read -r stat <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	read -ra f <<<"$stat"
	CPU=${f[36]}
}

# check_placement WHAT: every vCPU of VM a on A_CPUS, of VM b on B_CPUS, sampled 3 times.
misplaced=0 samples=0
check_placement() {
	local what=$1 n vm tid allowed
	for n in 1 2 3; do
		for vm in a b; do
			[ $vm = a ] && allowed=$A_CPUS || allowed=$B_CPUS
			for tid in ${TIDS[$vm]}; do
				thread_cpu "$tid" || fail "vCPU thread $tid of $vm is gone"
				samples=$((samples + 1))
				if ! in_list "$CPU" "$allowed"; then
					misplaced=$((misplaced + 1))
					note "after $what: vCPU thread $tid of $vm on CPU $CPU, outside its enclave ($allowed)"
				fi
			done
		done
		nap 0.05
	done
}

# The state a refused command must leave as it was: every enclave's CPUs,
# pairing, slice, VMs and reservations (one fork: python would cost seconds).
snapshot() { ctl enclave list --json; }

expect_refused() { # expect_refused PATTERN vmm-schedctl-ARGS...
	local pattern=$1 out before after
	shift
	before=$(snapshot)
	out=$(ctl "$@" 2>&1) && fail "'$*' succeeded; expected a refusal matching '$pattern'"
	echo "$out" | grep -q -- "$pattern" || fail "'$*' said '$out'; expected '$pattern'"
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "'$*' was refused but changed the state: $before -> $after"
	note "ok: $* -> $out"
}

start_paused_vm a 2 busy
start_paused_vm b 2 busy
declare -A TIDS=([a]="$(vm_tids a)" [b]="$(vm_tids b)")
start_checker --grace-ns 0
start_schedd --cpus "$C0,$C1"
out=$(ctl enclave create fast --cpus "$C2" --pairing strict --slice-us 3000 2>&1) ||
	fail "enclave create failed: $out"
enroll_vm a
out=$(ctl enroll "${VM_PID[b]}" --name b --enclave fast 2>&1) || fail "enroll b --enclave fast: $out"
resume_vm b
[ "$(json_get '[v["enclave"] for v in s["vms"]]')" = "['default', 'fast']" ] ||
	fail "VMs not in their enclaves: $(json_get '[(v["name"], v["enclave"]) for v in s["vms"]]')"
A_CPUS="$C0,$C1" B_CPUS=$C2
check_placement "enrolment"

declare -A U0
for vm in a b; do for i in 0 1; do U0[$vm.$i]=$(progress $vm $i units); done; done
start=$EPOCHSECONDS
for round in $(seq "$ROUNDS"); do
	ctl enclave remove-cores default "$C1" >/dev/null || fail "round $round: remove $C1 from default"
	A_CPUS=$C0
	check_placement "round $round: $C1 out of default"
	ctl enclave add-cores fast "$C1" >/dev/null || fail "round $round: add $C1 to fast"
	B_CPUS="$C2,$C1"
	check_placement "round $round: $C1 into fast"
	ctl enclave remove-cores fast "$C1" >/dev/null || fail "round $round: remove $C1 from fast"
	B_CPUS=$C2
	check_placement "round $round: $C1 out of fast"
	ctl enclave add-cores default "$C1" >/dev/null || fail "round $round: add $C1 to default"
	A_CPUS="$C0,$C1"
	check_placement "round $round: $C1 back in default"
done
note "$((2 * ROUNDS)) moves (8 commands per round trip) in $((EPOCHSECONDS - start)) s;" \
	"$samples CPU samples, $(grep -c 'drained in' "$SCHEDD_LOG") core moves logged"
grep 'drained in' "$SCHEDD_LOG" | tail -n 2 | sed 's/^/  /'
for vm in a b; do for i in 0 1; do
	[ "$(progress $vm $i units)" -gt "${U0[$vm.$i]}" ] ||
		fail "$vm vCPU $i made no progress during the moves"
done; done
[ "$misplaced" = 0 ] || fail "$misplaced samples found a vCPU outside its VM's enclave"

# Refusals: nothing changes.
ctl set "${VM_PID[a]}" --reserve 2 >/dev/null || fail "set a --reserve 2"
ctl set "${VM_PID[b]}" --reserve 1 >/dev/null || fail "set b --reserve 1"
first_c3=${C3%%[,-]*}
expect_refused "without its SMT sibling" enclave add-cores fast "$first_c3"
expect_refused "CPU 40 is not online" enclave add-cores fast 40-41
expect_refused "belongs to enclave 'default'" enclave add-cores fast "$C0"
expect_refused "no core left for its 1 VM" enclave remove-cores fast "$C2"
expect_refused "fewer than its VMs' reservations (2)" enclave remove-cores default "$C1"
expect_refused "has 1 VM(s)" enclave destroy fast
expect_refused "the default enclave cannot" enclave destroy default --force
expect_refused "its VMs reserve 2, this VM 1 more" vm move b default
expect_refused "no enclave named 'slow'" enclave add-cores slow "$C3"
chmod 0755 "$TMP"
chmod 0666 "$CTL_SOCK"
before=$(snapshot)
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BUILD/vmm-schedctl" --socket "$CTL_SOCK" \
	enclave remove-cores default "$C1" 2>&1) && fail "uid nobody could remove cores: $out"
echo "$out" | grep -q "may not 'enclave-remove-cores'" || fail "nobody's refusal says '$out'"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$BUILD/vmm-schedctl" --socket "$CTL_SOCK" \
	enclave list >/dev/null || fail "uid nobody may not list the enclaves"
[ "$before" = "$(snapshot)" ] || fail "nobody's refused request changed the state"
note "ok: nobody: enclave remove-cores -> $out"

# rebalance --dry-run plans without moving; destroy --force moves b to default.
ctl set "${VM_PID[a]}" --reserve 0 >/dev/null || fail "set a --reserve 0"
ctl set "${VM_PID[b]}" --reserve 0 >/dev/null || fail "set b --reserve 0"
before=$(snapshot)
out=$(ctl rebalance --dry-run 2>&1) || fail "rebalance --dry-run: $out"
note "rebalance --dry-run: $out"
[ "$before" = "$(snapshot)" ] || fail "rebalance --dry-run changed the state"
out=$(ctl enclave destroy fast --force 2>&1) || fail "enclave destroy fast --force: $out"
[ "$(json_get '[v["enclave"] for v in s["vms"]]')" = "['default', 'default']" ] ||
	fail "after destroy --force: $(json_get '[(v["name"], v["enclave"]) for v in s["vms"]]')"
A_CPUS="$C0,$C1" B_CPUS="$C0,$C1"
check_placement "destroy --force"
[ "$misplaced" = 0 ] || fail "a vCPU ran outside its enclave after destroy --force"
ctl enclave list | sed 's/^/  /'

stop_checker
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps while cores moved: $RESULT"
stop_schedd
stop_vm a
stop_vm b
