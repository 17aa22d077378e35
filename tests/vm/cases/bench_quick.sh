#!/bin/bash
# case-seconds: 360
# The benchmark cannot rot: `make bench BENCH_QUICK=1`'s comparison (one round
# of the 2x scenario, 2 s per policy: fair class, batch pairing, vmm-sched,
# vmm-sched --no-kick, vmm-sched --placement agent) runs end to end and its report has every policy, the
# in-guest wakeup latency and the checker's counts, and vmm-sched did schedule
# the VMs (its agent got messages: a run where the VMs' threads, left in
# SCHED_EXT by the batch-pairing scheduler, were never made vCPUs had none).
# Fails on breakage only, never on the numbers.
. "$(dirname "$0")/../lib.sh"
out=$TMP/bench
tests/bench/compare.sh --quick --out "$out" >"$TMP/compare.log" 2>&1 ||
	fail "compare.sh --quick failed: $(tail -n 20 "$TMP/compare.log")"
python3 tests/bench/report.py "$out" >"$TMP/report.txt" 2>&1 ||
	fail "report.py failed: $(tail -n 20 "$TMP/report.txt")"
grep '^| (' "$TMP/report.txt" | sed 's/^/  /'
for p in fair batch vmm vmm_nokick vmm_agent; do
	grep -q "^2x,$p,busy1," "$out/results.csv" || fail "no result for policy $p in results.csv"
	lat=$(awk -F, -v p=$p '$1 == "2x" && $2 == p && $3 == "lat1" {print $10}' "$out/results.csv")
	[ -n "$lat" ] || fail "no wakeup latency for lat1 under $p"
done
for p in vmm vmm_nokick vmm_agent; do
	msgs=$(awk -F, -v p=$p '$1 == "2x" && $2 == p && $17 != "" {print $17; exit}' "$out/results.csv")
	awk -v m="${msgs:-0}" 'BEGIN {exit !(m > 0)}' ||
		fail "policy $p: the agent got no messages (${msgs:-none} per second): vmm-sched did not schedule the VMs"
done
[ "$(grep -c '^| (' "$out/table.md")" = 5 ] || fail "table.md does not have the 5 policies: $(cat "$out/table.md")"
if command -v gnuplot >/dev/null; then
	[ -s "$out/throughput.png" ] && [ -s "$out/latency.png" ] || fail "gnuplot made no charts"
fi
