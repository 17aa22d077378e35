#!/bin/bash
# case-seconds: 102
# Randomized stress: for at least STRESS_SECS (default 60) seconds, VMs with
# mixed payloads (busy, duty with random run/block times, lock with a random
# hold time; 1 or 2 vCPUs; random weight) are started paused, enrolled and
# stopped at random times, 2 to 5 alive at once, while host CPU hogs pinned to
# random enclave CPUs come and go. The pair checker runs from before vmm-schedd
# starts until the last VM has stopped.
#
# It fails when: the checker sees two VMs on the two threads of a core
# (cross_vm_overlaps or cross_vm_short > 0); sched_ext is no longer enabled or
# vmm-schedd died (a stall or error exit) or `vmm-schedctl status` fails; a VM
# that ran >= 3 s has a vCPU whose units did not grow between its first and last
# progress line (starved), or a duty vCPU never halted; a VM cannot be started,
# enrolled or stopped cleanly; vmm-schedd does not exit 0 on SIGTERM.
#
# A VMM's vCPU threads are not the scheduler's until enrolled, yet the checker
# counts them as vCPUs from their first run; so by default (SHIELD=1) each VM
# is created on a core kept free of enrolled vCPUs (see start_one), and any
# overlap still reported is listed with the VM being created or enrolled at
# that time. SHIELD=0 creates VMs anywhere: then a new VM's thread start-up
# beside another VM's vCPU shows as a cross-VM overlap, which fails the case.
#
# The draws come from $RANDOM seeded with SEED (printed at the start); replay a
# run with SEED=N. The VM steps and each of the two hog lanes (background
# loops) have their own streams derived from SEED, so a replay makes the same
# choices in the same order; how they interleave and how many steps fit in the
# time follow the machine's speed.
. "$(dirname "$0")/../lib.sh"

SEED=${SEED:-$((10#$(date +%N) % 32768))}
STRESS_SECS=${STRESS_SECS:-60}
SHIELD=${SHIELD:-1} # 0: start VMMs anywhere (see start_one)
RANDOM=$SEED
echo "  stress_random: SEED=$SEED (replay: tests/vm/run -- env SEED=$SEED tests/vm/suite stress_random)"
trap 'stop_hog_lanes; stop_cpu_hogs; cleanup' EXIT

# rnd LO HI: R = a random integer in [LO, HI]. Call it in this shell, never in
# $(...): a subshell reseeds $RANDOM and the run would no longer replay.
rnd() { R=$(($1 + RANDOM % ($2 - $1 + 1))); }

# Milliseconds since boot (/proc/uptime: CLOCK_MONOTONIC here, as there is no
# suspend; the clock of the checker's overlap times), to 10 ms.
now_ms() {
	local t
	read -r t _ </proc/uptime
	echo $((${t%.*} * 1000 + 10#${t#*.} * 10))
}

alive=()           # names of the VMs running now, oldest first
all=()             # every VM started, in order
declare -A KIND=() NVCPU=() CREATED=() PAUSED=() ENROLLED=() BORN=() DIED=() ARGS=() NAME_OF=()
nvm=0
kinds=(busy duty lock)

start_one() {
	local kind vcpus weight name out shield opts=()
	nvm=$((nvm + 1))
	rnd 0 2
	kind=${kinds[$R]}
	rnd 1 2
	vcpus=$R
	rnd 50 400
	weight=$R
	case $kind in
	duty)
		rnd 100 3000
		opts=(--run-us "$R")
		rnd 100 3000
		opts+=(--block-us "$R")
		;;
	lock)
		rnd 0 400
		opts=(--hold-us "$R")
		;;
	esac
	printf -v name 's%02d-%s' "$nvm" "$kind"
	# Until it is enrolled, a new VM's vCPU threads are host tasks to the
	# scheduler but vCPUs to the checker: started next to another VM's vCPU
	# they count as a cross-VM overlap the scheduler has no part in. With
	# SHIELD=1 the VMM starts pinned to CPU 6 while a hog holds its sibling
	# CPU 7: in strict mode that core then runs no enrolled vCPU. Enrolment
	# gives the vCPU threads the enclave's affinity; the VMM's main thread (a
	# host task that mostly sleeps) stays on CPU 6.
	CREATED[$name]=$(now_ms)
	if [ "$SHIELD" = 1 ]; then
		start_cpu_hog 7
		shield=$HOG_LAST
		taskset -pc 6 $$ >/dev/null || fail "cannot pin the test shell to CPU 6"
		sleep 0.2
	fi
	start_paused_vm "$name" "$vcpus" "$kind" "${opts[@]}"
	PAUSED[$name]=$(now_ms)
	# enroll_vm in two steps, to time the enrolment.
	out=$(ctl enroll "${VM_PID[$name]}" --name "$name" --weight "$weight" 2>&1) ||
		fail "vmm-schedctl enroll $name failed: $out"
	ENROLLED[$name]=$(now_ms)
	if [ "$SHIELD" = 1 ]; then
		taskset -pc 0-7 $$ >/dev/null || fail "cannot unpin the test shell"
		stop_cpu_hog "$shield"
	fi
	resume_vm "$name"
	BORN[$name]=$(now_ms)
	KIND[$name]=$kind
	NVCPU[$name]=$vcpus
	ARGS[$name]="vcpus=$vcpus weight=$weight ${opts[*]}"
	NAME_OF[${VM_PID[$name]}]=$name
	alive+=("$name")
	all+=("$name")
	note "$((BORN[$name] - t0))ms: start $name ${ARGS[$name]} (alive ${#alive[@]};" \
		"created from $((CREATED[$name] - t0))ms, paused at $((PAUSED[$name] - t0))ms," \
		"enrolled at $((ENROLLED[$name] - t0))ms)"
}

# stop_one I: stops alive[I].
stop_one() {
	local name=${alive[$1]}
	stop_vm "$name"
	DIED[$name]=$(now_ms)
	alive=("${alive[@]:0:$1}" "${alive[@]:$(($1 + 1))}")
	note "$(($(now_ms) - t0))ms: stop $name after $((DIED[$name] - BORN[$name]))ms (alive ${#alive[@]})"
}

# stop_random: stops an alive VM, older ones more likely (the lower of two
# draws), so that most VMs live long enough to be judged.
stop_random() {
	local a
	rnd 0 $((${#alive[@]} - 1))
	a=$R
	rnd 0 $((${#alive[@]} - 1))
	[ "$R" -lt "$a" ] && a=$R
	stop_one "$a"
}

# hog_lane N: in the background, over and over: wait 0.5-3 s, then hog a
# random CPU for 1-4 s. Its own $RANDOM stream (seeded from SEED and N) keeps
# hogs coming at their own pace however long VM starts take. Two lanes: at
# most two hogs at a time (besides the SHIELD hog). A lane ends with the case.
hog_lane() {
	local hog='' cpu secs
	RANDOM=$((SEED * 4 + $1))
	trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; exit 0' TERM
	while :; do
		rnd 5 30
		sleep "$((R / 10)).$((R % 10))" &
		wait $!
		kill -0 $$ 2>/dev/null || exit 0 # the case was killed
		rnd 0 7
		cpu=$R
		rnd 1 4
		secs=$R
		taskset -c "$cpu" sh -c 'while :; do :; done' &
		hog=$!
		echo "$(($(now_ms) - t0))ms: hog on CPU $cpu for ${secs}s (lane $1)" >>"$TMP/hogs.log"
		note "$(($(now_ms) - t0))ms: hog on CPU $cpu for ${secs}s (lane $1)"
		sleep "$secs" &
		wait $!
		kill "$hog" 2>/dev/null
		wait "$hog" 2>/dev/null
		hog=
	done
}
HOG_LANES=()
stop_hog_lanes() {
	local pid
	for pid in "${HOG_LANES[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	HOG_LANES=()
}

# --verbose: the checker logs each cross-VM interval (core, tids, VMs by pid,
# start in CLOCK_MONOTONIC ns), shown with VM names and times if any is found.
start_checker --grace-ns 0 --verbose
start_schedd --cpus 0-7
t0=$(now_ms)
: >"$TMP/hogs.log"
for lane in 1 2; do
	hog_lane $lane &
	HOG_LANES+=($!)
done
steps=0
while [ $(($(now_ms) - t0)) -lt $((STRESS_SECS * 1000)) ]; do
	steps=$((steps + 1))
	# A VM starts or stops, or neither.
	rnd 0 99
	if [ ${#alive[@]} -lt 2 ]; then
		start_one
	elif [ ${#alive[@]} -ge 5 ]; then
		stop_random
	elif [ "$R" -lt 40 ]; then
		start_one
	elif [ "$R" -lt 75 ]; then
		stop_random
	fi
	rnd 2 20
	sleep "$((R / 10)).$((R % 10))"
done
stress_ms=$(($(now_ms) - t0))
stop_hog_lanes
note "stress over after ${stress_ms}ms, $steps steps: ${#all[@]} VMs, $(wc -l <"$TMP/hogs.log") hogs"

# The scheduler survived: still enabled, agent alive and answering.
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)' after the stress, not enabled"
kill -0 "$SCHEDD_PID" 2>/dev/null || fail "vmm-schedd died during the stress: $(tail -n 20 "$SCHEDD_LOG")"
ctl status >"$TMP/status.txt" 2>&1 || fail "vmm-schedctl status failed: $(cat "$TMP/status.txt")"
sed 's/^/  /' "$TMP/status.txt"
# One status --json read for all of them: python3 starts slowly under TCG.
counters=$(json_get '" ".join(["vms=%d" % len(s["vms"])] + ["%s=%s" % (k, s["scheduler"][k])
	for k in ("self_check_overlaps", "unclaimed_runs", "misplaced_runs", "switch_overlaps",
		"stray_enqueues", "dropped_messages")])') || fail "vmm-schedctl status --json failed"
note "scheduler: $counters"
[ "${counters%% *}" = "vms=${#alive[@]}" ] || fail "status lists ${counters%% *} VMs, ${#alive[@]} are alive"

while [ ${#alive[@]} -gt 0 ]; do stop_one 0; done
stop_checker

# Each cross-VM interval the checker logged, with VM names and its start on
# the stress clock; one that began while a VM was being created or enrolled is
# marked (its vCPU threads were not yet the scheduler's).
show_overlaps() {
	local core cpu tids vms start ns a b at vm why
	grep '^pair-checker: overlap ' "$CHECKER_ERR" | head -n 20 |
		sed 's/.* core=\([0-9]*\) closed_by_cpu=\([0-9]*\) tids=\([0-9,]*\) vms=\([0-9,]*\) start=\([0-9]*\) ns=\([0-9]*\)/\1 \2 \3 \4 \5 \6/' |
		while read -r core cpu tids vms start ns; do
			a=${NAME_OF[${vms%,*}]:-pid ${vms%,*}} b=${NAME_OF[${vms#*,}]:-pid ${vms#*,}}
			at=$((start / 1000000 - t0)) why=
			for vm in "$a" "$b"; do
				[ -n "${ENROLLED[$vm]:-}" ] && [ $((at + 10)) -ge $((CREATED[$vm] - t0)) ] || continue
				if [ $((at - 10)) -le $((PAUSED[$vm] - t0)) ]; then
					why+=" [while $vm was being created]"
				elif [ $((at - 10)) -le $((ENROLLED[$vm] - t0)) ]; then
					why+=" [while $vm was paused, before enrolment]"
				fi
			done
			echo "  overlap at ${at}ms core $core, ${ns}ns: $a and $b (tids $tids), closed by CPU $cpu$why"
		done
}
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] || {
	show_overlaps
	fail "cross-VM sibling overlaps under vmm_sched (SEED=$SEED): $RESULT"
}

# first_last NAME: per vCPU of VM NAME, "INDEX UNITS0 UNITS1 SPIN0 SPIN1 ACQ0
# ACQ1 HALTS1" from its first and last progress lines (one awk, not a grep per
# field: processes start slowly under TCG).
first_last() {
	awk '$1 == "progress" {
		for (f = 2; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
		i = v["vcpu"]
		if (!(i in u0)) { u0[i] = v["units"]; s0[i] = v["spin_cycles"]; a0[i] = v["acq"] }
		u1[i] = v["units"]; s1[i] = v["spin_cycles"]; a1[i] = v["acq"]; h1[i] = v["halts"]
	}
	END { for (i in u0) print i, u0[i], u1[i], s0[i], s1[i], a0[i], a1[i], h1[i] }' "${VM_LOG[$1]}" | sort -n
}

# Progress of every VM that ran >= 3 s (its last progress line is the one
# printed at its stop): each vCPU's work units grew, and a duty vCPU halted.
# A lock vCPU only counts units after it wins the guest's spinlock, which is
# test-and-test-and-set, not fair: under TCG one vCPU can win every time while
# its sibling spins for the whole run (SEED=23435: 0 acquisitions in 14 s
# against 12382, while both ran 4.5 s). So a lock vCPU passes if its units or
# its spin cycles grew (it ran in the guest either way), and the VM as a whole
# must have taken the lock.
checked=0
for name in "${all[@]}"; do
	lived=$((DIED[$name] - BORN[$name]))
	line="$name (${KIND[$name]} ${ARGS[$name]}, ${lived}ms):"
	seen=0 acq=0
	first_last "$name" >"$TMP/first_last"
	while read -r i u0 u1 s0 s1 a0 a1 h1; do
		seen=$((seen + 1))
		line+=" vcpu$i units $u0->$u1"
		case ${KIND[$name]} in
		duty) line+=" halts $h1" ;;
		lock) line+=" spin $s0->$s1 acq $a0->$a1" acq=$((acq + a1 - a0)) ;;
		esac
		[ "$lived" -ge 3000 ] || continue
		[ "$u1" -gt "$u0" ] || { [ "${KIND[$name]}" = lock ] && [ "$s1" -gt "$s0" ]; } ||
			fail "$name vCPU $i made no progress in ${lived}ms (units $u0 -> $u1, spin_cycles $s0 -> $s1)"
		[ "${KIND[$name]}" != duty ] || [ "$h1" -gt 0 ] || fail "duty $name vCPU $i never halted in ${lived}ms"
	done <"$TMP/first_last" # (no /dev/fd in the test VM for <(...))
	if [ "$lived" -ge 3000 ]; then
		[ "$seen" = "${NVCPU[$name]}" ] || fail "$name printed progress for $seen of ${NVCPU[$name]} vCPUs in ${lived}ms"
		[ "${KIND[$name]}" != lock ] || [ "$acq" -gt 0 ] || fail "no vCPU of $name took the lock in ${lived}ms"
		checked=$((checked + 1))
	else
		line+=" (under 3 s: not judged)"
	fi
	note "$line"
done
[ "$checked" -ge 3 ] || fail "only $checked VMs ran for 3 s or more; the stress judged too little"

nvcpus=0
for name in "${all[@]}"; do nvcpus=$((nvcpus + NVCPU[$name])); done
[ "$(field tracked_vcpus)" = "$nvcpus" ] ||
	fail "the checker tracked $(field tracked_vcpus) vCPU threads, but the VMs had $nvcpus"
[ "$(field switches)" -gt 10000 ] || fail "the checker saw only $(field switches) switches"
stop_schedd
echo "  stress_random: passed with SEED=$SEED"
