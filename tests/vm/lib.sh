# Helpers for VM test cases (sourced). Each case runs as root inside the test
# VM from the repository root; it exits 0 on pass and non-zero on failure,
# after saying what failed.
set -u

BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d /tmp/vmtest.XXXXXX)}
CTL_SOCK=$TMP/control.sock
# Each case pins its scheduler in a directory of its own.
PIN_DIR=/sys/fs/bpf/vmtest_${TMP##*.} # bpffs refuses dots
SCHEDD_LOG=$TMP/schedd.log
declare -A VM_PID VM_LOG
SCHEDD_PID=

fail() {
	local name
	echo "FAIL: $*" >&2
	if [ -n "$SCHEDD_PID" ]; then
		echo "--- vmm-schedctl status:" >&2
		ctl status >&2 2>&1
	fi
	[ -s "$SCHEDD_LOG" ] && { echo "--- vmm-schedd log (last lines):" >&2; tail -n 15 "$SCHEDD_LOG" >&2; }
	local shown=0
	for name in "${!VM_LOG[@]}"; do
		# A fleet of hundreds: a few are enough, the rest are in $TMP.
		[ $((shown++)) -lt 8 ] || { echo "--- and $((${#VM_LOG[@]} - 8)) more testvmm logs" >&2; break; }
		echo "--- testvmm $name (last lines):" >&2
		tail -n 4 "${VM_LOG[$name]}" >&2
		tail -n 4 "$TMP/vm-$name.err" >&2
	done
	exit 1
}

note() { echo "  $*"; }

# skip_case REASON: the case could not run here for a reason outside the code
# under test (e.g. a nested guest that never boots under the emulator); the
# suite reports it as skipped, never as passed.
skip_case() {
	echo "SKIP: $*" >&2
	exit 77
}

# nap SECONDS: sleeps without a fork. Under single-threaded TCG every fork
# takes CPU time from the test VM's other vCPUs, the daemon's start among them.
[ -p "$TMP/nap" ] || mkfifo "$TMP/nap"
exec {NAP_FD}<>"$TMP/nap"
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# Waits up to $1 seconds (wall clock) for the command in $2... to succeed.
# Limits are generous: the test VM is emulated and a loaded CI host is slower.
wait_for() {
	local deadline=$((EPOCHSECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$EPOCHSECONDS" -lt "$deadline" ] || return 1
		nap 0.2
	done
}

# start_vm NAME VCPUS PAYLOAD [testvmm options...]: a testvmm in the background.
start_vm() {
	local name=$1 vcpus=$2 payload=$3
	shift 3
	VM_LOG[$name]=$TMP/vm-$name.log
	"$BUILD/testvmm" --name "$name" --vcpus "$vcpus" --payload "$payload" --interval-ms 250 \
		"$@" >"${VM_LOG[$name]}" 2>"$TMP/vm-$name.err" &
	VM_PID[$name]=$!
	wait_for 120 grep -q "^ready vm=$name " "${VM_LOG[$name]}" ||
		fail "testvmm $name did not become ready: $(cat "$TMP/vm-$name.err")"
}

stop_vm() {
	local name=$1 pid=${VM_PID[$1]}
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	[ "$rc" = 0 ] || fail "testvmm $name exited with $rc: $(cat "$TMP/vm-$name.err")"
	grep -q "^exit vm=$name status=ok" "${VM_LOG[$name]}" || fail "testvmm $name did not exit cleanly"
	unset "VM_PID[$name]"
}

vm_tids() { sed -n "s/^vcpu vm=$1 index=[0-9]* tid=\([0-9]*\)$/\1/p" "${VM_LOG[$1]}"; }

# qemu_vcpu_tids PID: the vCPU threads of a qemu started with debug-threads=on
# ("CPU n/KVM", or "CPU n/TCG"), one a line.
qemu_vcpu_tids() {
	local t
	for t in /proc/"$1"/task/*; do
		grep -Eq '^CPU [0-9]+/(KVM|TCG)$' "$t/comm" 2>/dev/null && echo "${t##*/}"
	done
}

# The latest value of FIELD (units, halts, spin_cycles, acq) of vCPU INDEX of VM NAME.
progress() {
	local name=$1 index=$2 field=$3
	grep "^progress vm=$name vcpu=$index " "${VM_LOG[$name]}" | tail -n1 |
		sed -n "s/.* $field=\([0-9]*\).*/\1/p"
}

# Wakeup latency (duty payload): mark_latency NAME starts a new window in VM
# NAME; latency NAME INDEX FIELD is FIELD (wakes, p50_us, p99_us, p999_us,
# max_us) of vCPU INDEX over the window, from its latest "latency" line.
mark_latency() {
	local n
	n=$(grep -c "^marked vm=$1\$" "${VM_LOG[$1]}")
	kill -WINCH "${VM_PID[$1]}"
	wait_for 30 sh -c "[ \$(grep -c '^marked vm=$1\$' '${VM_LOG[$1]}') -gt $n ]" ||
		fail "testvmm $1 did not start a latency window"
}

latency() {
	grep "^latency vm=$1 vcpu=$2 " "${VM_LOG[$1]}" | tail -n1 | sed -n "s/.* $3=\([0-9.]*\).*/\1/p"
}

# Scheduling policy of a thread: field 41 of /proc/TID/stat, counted after the comm.
thread_policy() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	set -- $stat
	echo "${39}"
}

thread_affinity() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }

# True once the control socket exists or vmm-schedd has exited.
schedd_up_or_gone() { [ -S "$CTL_SOCK" ] || ! kill -0 "$SCHEDD_PID" 2>/dev/null; }

start_schedd() {
	local from
	from=$(($(cat "$SCHEDD_LOG" 2>/dev/null | wc -l) + 1))
	"${SCHEDD_BIN:-$BUILD/vmm-schedd}" --control "$CTL_SOCK" --pin-dir "$PIN_DIR" "$@" >>"$SCHEDD_LOG" 2>&1 &
	SCHEDD_PID=$!
	wait_for 240 schedd_up_or_gone
	[ -S "$CTL_SOCK" ] || fail "vmm-schedd did not start: $(tail -n +$from "$SCHEDD_LOG")"
	wait_for 120 sh -c "tail -n +$from '$SCHEDD_LOG' | grep -Eq 'scheduler vmm_sched (enabled|adopted)'" ||
		fail "vmm-schedd did not enable the scheduler: $(tail -n +$from "$SCHEDD_LOG")"
}

# Stops vmm-schedd with SIGTERM and checks that it exited 0.
stop_schedd() {
	kill -TERM "$SCHEDD_PID"
	wait "$SCHEDD_PID"
	local rc=$?
	SCHEDD_PID=
	[ "$rc" = 0 ] || fail "vmm-schedd exited with $rc: $(tail -n 20 "$SCHEDD_LOG")"
}

ctl() { "$BUILD/vmm-schedctl" --socket "$CTL_SOCK" "$@"; }

# json_get EXPR: evaluates a Python expression over `s` = the status JSON.
json_get() {
	ctl status --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

vm_count() { json_get 'len(s["vms"])'; }

sched_ext_state() { cat /sys/kernel/sched_ext/state; }
sched_ext_ops() { cat /sys/kernel/sched_ext/root/ops 2>/dev/null; }

# The independent pair checker (tests/checker), started before what it judges.
# CHECKER_BIN runs another build of it (e.g. an old one, to see a check fail).
CHECKER_PID=
CHECKER_OUT=$TMP/checker.out
CHECKER_ERR=$TMP/checker.err
start_checker() {
	"${CHECKER_BIN:-$BUILD/pair-checker}" --cpus 0-7 --track-all-vmms "$@" >"$CHECKER_OUT" 2>"$CHECKER_ERR" &
	CHECKER_PID=$!
	wait_for 120 grep -q "^pair-checker: ready" "$CHECKER_ERR" ||
		fail "pair-checker did not start: $(cat "$CHECKER_ERR")"
}

# mark_checker: the checker counts only intervals that open from here on (a
# case starts it before the scheduler, so that its probe runs first at every
# switch, and marks once the set-up it does not judge is over).
mark_checker() {
	kill -USR1 "$CHECKER_PID"
	wait_for 30 grep -q "^pair-checker: counting from here" "$CHECKER_ERR" ||
		fail "pair-checker did not take the mark: $(cat "$CHECKER_ERR")"
}

# Stops the checker and sets RESULT to its summary line.
stop_checker() {
	kill -TERM "$CHECKER_PID"
	wait "$CHECKER_PID"
	local rc=$?
	CHECKER_PID=
	[ "$rc" = 0 ] || fail "pair-checker exited with $rc: $(cat "$CHECKER_ERR")"
	RESULT=$(grep '^checker ' "$CHECKER_OUT")
	[ -n "$RESULT" ] || fail "pair-checker printed no result line: $(cat "$CHECKER_OUT" "$CHECKER_ERR")"
	note "$RESULT"
}

field() { echo "$RESULT" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

cleanup() {
	local name
	[ -n "$CHECKER_PID" ] && kill -TERM "$CHECKER_PID" 2>/dev/null && wait "$CHECKER_PID" 2>/dev/null
	[ -n "${HOG_PID:-}" ] && kill "$HOG_PID" 2>/dev/null
	[ -n "${BATCH_PAIR_PID:-}" ] && kill -TERM "$BATCH_PAIR_PID" 2>/dev/null && wait "$BATCH_PAIR_PID" 2>/dev/null
	[ -n "$SCHEDD_PID" ] && kill -TERM "$SCHEDD_PID" 2>/dev/null && wait "$SCHEDD_PID" 2>/dev/null
	# A case that failed after killing vmm-schedd leaves its scheduler pinned.
	[ -n "$(ls -A "$PIN_DIR" 2>/dev/null)" ] && "$BUILD/vmm-schedd" --unload-pinned --pin-dir "$PIN_DIR"
	rmdir "$PIN_DIR" 2>/dev/null
	for name in "${!VM_PID[@]}"; do
		kill -TERM "${VM_PID[$name]}" 2>/dev/null
		wait "${VM_PID[$name]}" 2>/dev/null
	done
	[ -n "${KEEP_TMP:-}" ] && cp "$CHECKER_ERR" /run/results/ 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT

# start_paused_vm NAME VCPUS PAYLOAD [options...]: vCPU threads exist but stay
# out of the guest until resume_vm (a VM started paused, as libvirt does).
start_paused_vm() {
	local name=$1
	start_vm "$@" --start-paused
	wait_for 60 grep -q "^paused vm=$name" "${VM_LOG[$name]}" || fail "testvmm $name did not pause"
}

resume_vm() {
	kill -HUP "${VM_PID[$1]}"
	wait_for 60 grep -q "^resumed vm=$1" "${VM_LOG[$1]}" || fail "testvmm $1 did not resume"
}

# enroll_vm NAME [WEIGHT]: enrols a started VM with vmm-schedctl, then resumes it.
enroll_vm() {
	local name=$1 weight=${2:-100} out
	out=$(ctl enroll "${VM_PID[$name]}" --name "$name" --weight "$weight" 2>&1) ||
		fail "vmm-schedctl enroll $name failed: $out"
	resume_vm "$name"
}

# all_vcpus_ran N: N vCPUs enrolled, each has run under vmm_sched (wait_for it).
all_vcpus_ran() {
	[ "$(json_get "sum(1 for v in s['vms'] for c in v['vcpus'] if c['runs'] > 0)")" = "$1" ]
}

# Scheduler counters from status --json (the "scheduler" object).
sched_counter() { json_get "s['scheduler']['$1']"; }

# run_pairing_scenario SECS: vmm-schedd on an enclave of 4 cores (8 CPUs) and
# five VMs with mixed payloads contending for it for SECS seconds, judged by
# the pair checker. The checker starts first: its sched_switch probe then runs
# before the scheduler's at every switch, so a thread is seen leaving a vCPU
# before the scheduler lets its sibling start another VM. Sets RESULT.
run_pairing_scenario() {
	local secs=$1 vm i
	start_checker --grace-ns 0 ${CHECKER_VERBOSE:+--verbose}
	start_schedd --cpus 0-7
	start_paused_vm b1 2 busy
	start_paused_vm b2 2 busy
	start_paused_vm b3 2 busy
	start_paused_vm duty 2 duty --run-us 700 --block-us 900
	start_paused_vm lock 2 lock --hold-us 40
	for vm in b1 b2 b3 duty lock; do enroll_vm $vm; done
	declare -gA U0
	sleep 1
	for vm in b1 b2 b3 duty lock; do
		for i in 0 1; do U0[$vm.$i]=$(progress $vm $i units); done
	done
	sleep "$secs"
	for vm in b1 b2 b3 duty lock; do
		for i in 0 1; do
			[ "$(progress $vm $i units)" -gt "${U0[$vm.$i]}" ] ||
				fail "$vm vCPU $i made no progress in $secs s"
		done
	done
	note "scheduler: self_check_overlaps=$(sched_counter self_check_overlaps)" \
		"unclaimed_runs=$(sched_counter unclaimed_runs) misplaced_runs=$(sched_counter misplaced_runs)" \
		"switch_overlaps=$(sched_counter switch_overlaps) unrecorded_switches=$(sched_counter unrecorded_switches)"
	[ -n "${CHECKER_VERBOSE:-}" ] && bpftool prog show | grep -A2 "sched_switch" >&2
	stop_checker
	for vm in b1 b2 b3 duty lock; do stop_vm $vm; done
}

# The benchmark's batch-pairing baseline (tests/bench/batch_pair.bpf.c) on the
# vCPU threads of the named VMs: start_batch_pair [--batch-ms N] VM...;
# stop_batch_pair sets BATCH_PAIR to its counters line; batch_pair_stats FILE
# writes its per-CPU forced idle so far to FILE as JSON.
BATCH_PAIR_PID=
start_batch_pair() {
	local opts=(--stats "$TMP/batch-pair.stats.json") vm pids=()
	[ "${1:-}" = --batch-ms ] && { opts+=(--batch-ms "$2"); shift 2; }
	for vm in "$@"; do pids+=("${VM_PID[$vm]}"); done
	"$BUILD/batch-pair" "${opts[@]}" "${pids[@]}" >"$TMP/batch-pair.out" 2>"$TMP/batch-pair.err" &
	BATCH_PAIR_PID=$!
	wait_for 120 grep -q "^batch-pair: ready" "$TMP/batch-pair.err" ||
		fail "batch-pair did not start: $(cat "$TMP/batch-pair.err")"
}

batch_pair_stats() {
	rm -f "$TMP/batch-pair.stats.json"
	kill -USR1 "$BATCH_PAIR_PID" || fail "batch-pair is not running"
	wait_for 10 test -s "$TMP/batch-pair.stats.json" ||
		fail "batch-pair wrote no stats: $(cat "$TMP/batch-pair.err")"
	cp "$TMP/batch-pair.stats.json" "$1"
}

stop_batch_pair() {
	kill -TERM "$BATCH_PAIR_PID"
	wait "$BATCH_PAIR_PID"
	local rc=$?
	BATCH_PAIR_PID=
	[ "$rc" = 0 ] || fail "batch-pair exited with $rc: $(cat "$TMP/batch-pair.err")"
	BATCH_PAIR=$(grep '^batch-pair ' "$TMP/batch-pair.out")
	[ -n "$BATCH_PAIR" ] || fail "batch-pair printed no counters: $(cat "$TMP/batch-pair.err")"
}

# Host CPU hogs: start_cpu_hog CPU starts a shell loop pinned to CPU and
# records it in HOG_CPU[pid] (HOG_LAST is its pid); stop_cpu_hog PID ends one,
# stop_cpu_hogs all. A case that starts hogs should stop them in its EXIT trap.
declare -A HOG_CPU=()
start_cpu_hog() {
	taskset -c "$1" sh -c 'while :; do :; done' &
	HOG_LAST=$!
	HOG_CPU[$HOG_LAST]=$1
}

stop_cpu_hog() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	unset "HOG_CPU[$1]"
}

stop_cpu_hogs() {
	local pid
	for pid in "${!HOG_CPU[@]}"; do stop_cpu_hog "$pid"; done
}

# A host task that comes and goes: start_host_blinker CPU RUN_MS SLEEP_MS runs
# RUN_MS on CPU, sleeps SLEEP_MS, and again; a hog like those above (HOG_LAST,
# stop_cpu_hog, stop_cpu_hogs).
start_host_blinker() {
	taskset -c "$1" python3 -c '
import sys, time
run, nap = float(sys.argv[1]) / 1000, float(sys.argv[2]) / 1000
while True:
    end = time.monotonic() + run
    while time.monotonic() < end:
        pass
    time.sleep(nap)
' "$2" "$3" &
	HOG_LAST=$!
	HOG_CPU[$HOG_LAST]=$1
}
