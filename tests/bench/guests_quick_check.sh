#!/bin/bash
# case-seconds: 420 (an estimate: no run has passed yet)
# NOT IN THE VM SUITE YET: the VM case to be, tests/vm/cases/bench_guests_quick.sh,
# once the nested guests survive their workloads in the suite's test VMs: they
# die under its single-threaded TCG and survived one run under multi-threaded
# TCG (docs/performance.md, "Real guests"). By hand:
#   VMM_SCHED_TCG_THREAD=multi tests/vm/run -- tests/bench/guests_quick_check.sh
# The real-guest benchmark cannot rot: `make bench-guests BENCH_QUICK=1`'s run
# (two nested Debian 6.1 guests on one core, one round of fair class, batch
# pairing and vmm-sched, cyclictest, sysbench and db_bench for 4 s each) runs
# end to end, every policy has numbers from both guests for every workload,
# and the pair checker saw no cross-VM overlap under vmm-sched. A guest that
# does not boot after the boot helper's retries fails the case: a benchmark
# that cannot measure is broken, not skipped. Never fails on the numbers.
. "$(dirname "$0")/../vm/lib.sh"
out=$TMP/bench-guests
tests/bench/guests.sh --quick --out "$out" >"$TMP/guests.log" 2>&1 ||
	fail "guests.sh --quick failed: $(tail -n 25 "$TMP/guests.log")"
grep -E '^  [a-z0-9]+: init after|round' "$TMP/guests.log" | sed 's/^ */  /'
python3 tests/bench/guests_report.py "$out" >"$TMP/report.txt" 2>&1 ||
	fail "guests_report.py failed: $(tail -n 20 "$TMP/report.txt")"
sed 's/^/  /' "$TMP/report.txt"
for p in fair batch vmm; do
	for w in cyclictest sysbench rocksdb; do
		n=$(awk -F, -v p=$p -v w=$w '$2 == p && $4 == w' "$out/results.csv" | cut -d, -f3 | sort -u | wc -l)
		[ "$n" = 2 ] || fail "$w under $p: numbers from $n guest(s), not 2"
	done
done
for m in wake_p99_us sysbench_events_per_s rocksdb_p99_us; do
	grep -q "^1,vmm,g1,[a-z]*,$m," "$out/results.csv" || fail "no $m for vmm-sched in results.csv"
done
RESULT=$(cat "$out/vmm.1.checker.txt")
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM overlaps under vmm-sched: $RESULT"
[ "$(field tracked_vcpus)" = 4 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 4: $RESULT"
[ "$(field switches)" -gt 100 ] || fail "the checker saw only $(field switches) switches under vmm-sched: $RESULT"
