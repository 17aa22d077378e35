#!/bin/bash
# The real-guest benchmark (make bench-guests, inside the test VM): two nested
# Debian 6.1 guests of 2 vCPUs each (tests/guest/, the initramfs of
# make-bench-initramfs) with their vCPU threads pinned to the same host CPUs
# (default 2-3, one core), so that both compete for it, under
#   fair    the kernel's fair class, no pairing (the throughput reference)
#   batch   batch-pair, 20 ms batches per core (tests/bench/batch_pair.bpf.c)
#   vmm     vmm-schedd, default settings, enclave = those CPUs
# alternating in rounds (fair batch vmm, fair ...). Per policy: pair checker,
# policy, then each workload at once in both guests (Debian's cyclictest,
# sysbench cpu, stress-ng --cpu, hackbench, RocksDB db_bench readrandom; see
# tests/guest/bench_guest.sh), the checker's cross-VM overlaps over all of it.
# Raw lines go to OUT/results.txt, the consoles to OUT/*.console;
# guests_report.py makes the table and CSV.
#
#   guests.sh [--quick] [--out DIR] [--cpus LIST]
# --quick: one round, cyclictest, sysbench and db_bench for 4 s each (CI).
# BENCH_SECS, BENCH_ROUNDS, BENCH_WORKLOADS, BENCH_POLICIES override the defaults;
# BENCH_ROCKSDB_RATE is db_bench's offered reads/s per guest (0: closed loop);
# BENCH_KVM_AMD (kvm-amd's parameters while the guests run), BENCH_GUEST_ACCEL
# (tests/guest/boot --accel: auto = nested KVM, or tcg), BENCH_GUEST_CPU (the
# nested qemu's -cpu), BENCH_GUEST_SMP and BENCH_GUEST_APPEND change the guests.
# Exits non-zero if a guest does not boot after retries or a workload gives no
# numbers: a benchmark that cannot measure says so and fails.
. "$(dirname "$0")/../vm/lib.sh"
QUICK=0 OUT=/run/results/bench-guests CPUS=2-3
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	--cpus) CPUS=$2; shift 2 ;;
	*) echo "guests.sh: unknown argument '$1' (--quick, --out DIR, --cpus LIST)" >&2; exit 2 ;;
	esac
done
POLICIES=(${BENCH_POLICIES:-fair batch vmm})
if [ "$QUICK" = 1 ]; then
	SECS=${BENCH_SECS:-4} ROUNDS=${BENCH_ROUNDS:-1} WORKLOADS=(${BENCH_WORKLOADS:-cyclictest sysbench rocksdb})
else
	SECS=${BENCH_SECS:-10} ROUNDS=${BENCH_ROUNDS:-3}
	WORKLOADS=(${BENCH_WORKLOADS:-cyclictest sysbench stressng hackbench rocksdb})
fi
ROCKSDB_RATE=${BENCH_ROCKSDB_RATE:-0}
case "$ROCKSDB_RATE" in "" | *[!0-9]*) fail "BENCH_ROCKSDB_RATE='$ROCKSDB_RATE' is not a whole number of reads/s" ;; esac
# db_bench 7.8.3's read limiter aborts (an assertion) below about 2,560 reads/s.
[ "$ROCKSDB_RATE" = 0 ] || [ "$ROCKSDB_RATE" -ge 2600 ] ||
	fail "BENCH_ROCKSDB_RATE=$ROCKSDB_RATE: db_bench's read limiter needs at least 2600 reads/s (or 0, closed loop)"
GUESTS=(g1 g2)
SMP=${BENCH_GUEST_SMP:-2}
ACCEL=${BENCH_GUEST_ACCEL:-auto}
# A guest emulated inside the emulated test VM boots in minutes, not seconds.
BOOT_TIMEOUT=240 KERNEL_TIMEOUT=40
[ "$ACCEL" = tcg ] && BOOT_TIMEOUT=900 KERNEL_TIMEOUT=300
KVM_AMD=${BENCH_KVM_AMD-}
# tests/vm/init keeps the test kernel's modules here.
KMOD=/dev/.vmm-sched-kmod
KVM_AMD_RELOADED=0
reload_kvm_amd() { rmmod kvm_amd && insmod "$KMOD/kvm-amd.ko" "$@"; }
declare -A BOOT_PID
guests_cleanup() {
	local g
	# A guest stopped around a flip (freeze_guests) must run to take its SIGTERM.
	for g in "${!VM_PID[@]}"; do kill -CONT "${VM_PID[$g]}" 2>/dev/null; done
	for g in "${GUESTS[@]}"; do
		[ -n "${BOOT_PID[$g]:-}" ] && kill "${BOOT_PID[$g]}" 2>/dev/null && wait "${BOOT_PID[$g]}" 2>/dev/null
	done
	if [ "$KVM_AMD_RELOADED" = 1 ]; then
		reload_kvm_amd || echo "guests.sh: cannot put kvm-amd back with its default parameters" >&2
	fi
	cleanup
}
trap guests_cleanup EXIT
# The benchmark's own processes and qemu's other threads stay off the measured CPUs.
taskset -p -c 0,1 $$ >/dev/null || fail "cannot keep the benchmark on CPUs 0-1"
SCHEDD_BIN=${SCHEDD_BIN:-$BUILD/release/vmm-schedd}
[ -x "$SCHEDD_BIN" ] || SCHEDD_BIN=$BUILD/vmm-schedd
mkdir -p "$OUT" || fail "cannot create $OUT"
: >"$OUT/results.txt"
: >"$OUT/vcpus.txt"
INITRD=$BUILD/tests/guest/bench-initrd.gz
if [ -n "$KVM_AMD" ]; then
	[ -f "$KMOD/kvm-amd.ko" ] || fail "no $KMOD/kvm-amd.ko to reload kvm-amd with '$KVM_AMD' (not in the test VM?)"
	KVM_AMD_RELOADED=1
	# shellcheck disable=SC2086 # one word per parameter
	reload_kvm_amd $KVM_AMD || fail "cannot reload kvm-amd with '$KVM_AMD'"
	[ -c /dev/kvm ] || fail "no /dev/kvm after reloading kvm-amd with '$KVM_AMD'"
fi
note "kvm-amd: npt=$(cat /sys/module/kvm_amd/parameters/npt)${KVM_AMD:+ (BENCH_KVM_AMD='$KVM_AMD')}"
tests/guest/make-bench-initramfs -o "$INITRD" || fail "cannot build the guests' initramfs"

# Boot both guests (tests/guest/boot retries a boot stuck in the firmware or
# before init) and wait until each says it takes commands.
guest_ready() { grep -aq '^gb-ready' "$OUT/$1.console" 2>/dev/null && grep -q 'init after' "$OUT/$1.boot.txt"; }
guest_gone() { ! kill -0 "${BOOT_PID[$1]}" 2>/dev/null; }
ready_or_gone() { guest_ready "$1" || guest_gone "$1"; }
# Nested in the emulated test VM an interrupt that finds a guest in user mode
# sometimes faults at its handler's first instructions and the guest dies
# (guest-agent/README.md); docs/performance.md ("Real guests") has what was
# tried against it. BENCH_GUEST_APPEND adds kernel parameters to try.
APPEND=${BENCH_GUEST_APPEND:-}
for g in "${GUESTS[@]}"; do
	rm -f "$OUT/$g.console"
	taskset -c 0,1 tests/guest/boot --name "$g" --initrd "$INITRD" --smp "$SMP" --mem 512M --append "$APPEND" \
		--accel "$ACCEL" ${BENCH_GUEST_CPU:+--cpu "$BENCH_GUEST_CPU"} \
		--command-pipe "$TMP/$g" --console "$OUT/$g.console" --pidfile "$TMP/$g.pid" \
		--kernel-timeout "$KERNEL_TIMEOUT" --boot-timeout "$BOOT_TIMEOUT" --retries 2 --timeout 100000 2>"$OUT/$g.boot.txt" &
	BOOT_PID[$g]=$!
done
for g in "${GUESTS[@]}"; do
	wait_for $((3 * BOOT_TIMEOUT + 120)) ready_or_gone "$g"
	guest_ready "$g" || fail "guest $g did not come up (up to 3 boot attempts): $(cat "$OUT/$g.boot.txt")"
	note "$g: $(grep -o 'init after.*' "$OUT/$g.boot.txt"); $(grep -c retrying "$OUT/$g.boot.txt") retries"
	exec {fd}>"$TMP/$g.in"
	declare -g "CMD_FD_$g=$fd"
	VM_PID[$g]=$(cat "$TMP/$g.pid")
	tids=($(qemu_vcpu_tids "${VM_PID[$g]}"))
	[ "${#tids[@]}" = "$SMP" ] || fail "guest $g: ${#tids[@]} vCPU threads ('CPU n/KVM') in qemu ${VM_PID[$g]}, not $SMP"
	echo "$g ${tids[*]}" >>"$OUT/vcpus.txt"
done
# Pinned again before each policy: one that gave the threads back may have
# left another affinity.
pin_vcpus() {
	local g t
	for t in $(cut -d' ' -f2- "$OUT/vcpus.txt"); do
		taskset -p -c "$CPUS" "$t" >/dev/null || fail "cannot pin vCPU thread $t to $CPUS"
	done
}
pin_vcpus
note "vCPUs of both guests on CPUs $CPUS (siblings of CPU ${CPUS%%[-,]*}:" \
	"$(cat /sys/devices/system/cpu/cpu${CPUS%%[-,]*}/topology/thread_siblings_list))"

# Under thread=multi, loading or unloading a scheduler or the checker flips
# static keys and tracepoints (kernel text patched through int3), and now and
# then another emulated CPU runs a stale int3 and the test VM's kernel oopses
# (docs/performance.md, "Real guests"). Both guests are stopped around each
# flip, so that the emulated CPUs are idle while the text changes.
freeze_guests() {
	local g
	for g in "${GUESTS[@]}"; do kill -STOP "${VM_PID[$g]}" || fail "cannot stop guest $g's qemu"; done
}
thaw_guests() {
	local g
	for g in "${GUESTS[@]}"; do kill -CONT "${VM_PID[$g]}" || fail "cannot continue guest $g's qemu"; done
}

policy_start() {
	case "$1" in
	fair) ;;
	batch) start_batch_pair "${GUESTS[@]}" ;;
	vmm) start_schedd --cpus "$CPUS" --pid "${VM_PID[g1]}:g1" --pid "${VM_PID[g2]}:g2" ;;
	esac
}

# Once the guests run again: every vCPU has run under the policy.
policy_ready() {
	[ "$1" = vmm ] || return 0
	wait_for 180 all_vcpus_ran $((2 * SMP)) ||
		fail "after 180 s not every vCPU of the guests has run under vmm-schedd"
}

policy_stop() {
	case "$1" in
	batch) stop_batch_pair; echo "$BATCH_PAIR" ;;
	vmm) stop_schedd ;;
	esac
}

SEQ=0
# Console lines end in CR LF; a kernel message ("[  724.187115] ...") may follow on the same line.
done_in() { grep -aqE "^gb-done $2([[:space:]]|\[|$)" "$OUT/$1.console"; }
both_done() { done_in g1 "$1" && done_in g2 "$1"; }
done_or_gone() { both_done "$1" || guest_gone g1 || guest_gone g2; }
# run_workload ROUND POLICY WORKLOAD: in both guests at once; their result lines to results.txt.
# Allowed SECS * 4 + 600 s: under a pairing policy a guest runs at half speed
# or less in the test VM, and db_bench fills its DB before it reads.
run_workload() {
	local g fd line arg=""
	SEQ=$((SEQ + 1))
	[ "$3" = rocksdb ] && arg=" $ROCKSDB_RATE"
	for g in "${GUESTS[@]}"; do
		fd=CMD_FD_$g
		echo "run $SEQ $3 $SECS$arg" >&"${!fd}" || fail "cannot send the command to guest $g"
	done
	wait_for $((SECS * 4 + 600)) done_or_gone "$SEQ"
	if ! both_done "$SEQ"; then
		for g in "${GUESTS[@]}"; do
			guest_gone "$g" && fail "guest $g died during $3 under $2 (first kernel error:" \
				"$(grep -a -m1 -E 'BUG:|Oops|Kernel panic|general protection' "$OUT/$g.console"))"
		done
		fail "$3 under $2 did not finish in both guests within $((SECS * 4 + 600)) s"
	fi
	for g in "${GUESTS[@]}"; do
		line=$(grep -a "^gb-result $SEQ $3 " "$OUT/$g.console" | tr -d '\r')
		[ -n "$line" ] || fail "$3 under $2 in $g gave no numbers: $(grep -a "^gb-error $SEQ " "$OUT/$g.console")"
		echo "$1 $2 $g $3 ${line#gb-result $SEQ $3 }" >>"$OUT/results.txt"
	done
}

echo "real-guest benchmark: ${WORKLOADS[*]}, $SECS s each, $ROUNDS round(s), policies ${POLICIES[*]}," \
	"db_bench offered reads/s per guest $ROCKSDB_RATE (0: closed loop)," \
	"both guests' vCPUs on CPUs $CPUS, agent $SCHEDD_BIN"
for ((round = 1; round <= ROUNDS; round++)); do
	for policy in "${POLICIES[@]}"; do
		start=$EPOCHSECONDS
		pin_vcpus
		freeze_guests
		start_checker
		policy_start "$policy"
		thaw_guests
		policy_ready "$policy"
		mark_checker
		for w in "${WORKLOADS[@]}"; do run_workload "$round" "$policy" "$w"; done
		freeze_guests
		stop_checker >/dev/null
		echo "$RESULT" >"$OUT/$policy.$round.checker.txt"
		policy_stop "$policy" >"$OUT/$policy.$round.policy.txt"
		thaw_guests
		echo "  round $round $policy ($((EPOCHSECONDS - start)) s):" \
			"cross_vm_overlaps=$(field cross_vm_overlaps) cross_vm_short=$(field cross_vm_short)" \
			"$(tr -d '\n' <"$OUT/$policy.$round.policy.txt")"
		grep " $policy g[12] " "$OUT/results.txt" | grep "^$round " | sed 's/^/    /'
	done
done
for g in "${GUESTS[@]}"; do
	fd=CMD_FD_$g
	echo quit >&"${!fd}"
done
for g in "${GUESTS[@]}"; do
	wait "${BOOT_PID[$g]}" || note "guest $g exited with status $? after quit"
	BOOT_PID[$g]=
done
echo "raw results in $OUT"
