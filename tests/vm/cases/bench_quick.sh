#!/bin/bash
# case-seconds: 680
# case-timeout: 900
# The benchmark cannot rot: `make bench BENCH_QUICK=1`'s comparison (one round
# of the 2x scenario, 2 s per policy: fair class, batch pairing, vmm-sched,
# vmm-sched --no-kick, vmm-sched --placement agent, vmm-sched with guest hints)
# runs end to end and its report has every policy, the in-guest wakeup latency
# and the checker's counts, and vmm-sched did schedule the VMs (its agent got
# messages: a run where the VMs' threads, left in SCHED_EXT by the
# batch-pairing scheduler, were never made vCPUs had none); the hints policy
# had the latency and lock VMs' hints in use and used both kinds, and (c)
# had none; the idle-hint runs (tests/bench/idle_hints.sh) ran without and
# with h's region, and with it the scheduler acted on the idle vCPU.
# Fails on breakage only, never on the numbers.
. "$(dirname "$0")/../lib.sh"
out=$TMP/bench
tests/bench/compare.sh --quick --out "$out" >"$TMP/compare.log" 2>&1 ||
	fail "compare.sh --quick failed: $(grep -m 5 -E '^(FAIL|ERROR)|error:|did not' "$TMP/compare.log") ... last lines: $(tail -n 20 "$TMP/compare.log")"
python3 tests/bench/report.py "$out" >"$TMP/report.txt" 2>&1 ||
	fail "report.py failed: $(tail -n 20 "$TMP/report.txt")"
grep -E '^(\| |- )\(' "$TMP/report.txt" | sed 's/^/  /'
# csv_value POLICY VM COLUMN: the named column of the 2x row (VM: any, the first row).
csv_value() {
	awk -F, -v p="$1" -v vm="$2" -v name="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c && $1 == "2x" && $2 == p && (vm == "any" || $3 == vm) && $c != "" { print $c; exit }' "$out/results.csv"
}
for p in fair batch vmm vmm_nokick vmm_agent vmm_hints; do
	grep -q "^2x,$p,busy1," "$out/results.csv" || fail "no result for policy $p in results.csv"
	lat=$(csv_value "$p" lat1 lat_p99_us)
	[ -n "$lat" ] || fail "no wakeup latency for lat1 under $p"
done
for p in vmm vmm_nokick vmm_agent vmm_hints; do
	msgs=$(csv_value "$p" any agent_msgs_per_s)
	awk -v m="${msgs:-0}" 'BEGIN {exit !(m > 0)}' ||
		fail "policy $p: the agent got no messages (${msgs:-none} per second): vmm-sched did not schedule the VMs"
done
# The policy table's rows: 17 columns (the hint table's rows have 7, the time table's 5).
rows=$(awk -F'|' '/^\| \(/ && NF == 19' "$out/table.md" | wc -l)
[ "$rows" = 6 ] || fail "table.md does not have the 6 policies: $(cat "$out/table.md")"
hint_row() { awk -F'|' -v p="$1" 'NF == 9 && $2 == " " p " " {gsub(/ /, "", $3); print $3}' "$out/table.md"; }
hinted=$(hint_row "(e) vmm-sched + guest hints")
[ "$hinted" = 3 ] || fail "vmm_hints had ${hinted:-no} VMs' hints in use, not the 3 latency and lock VMs"
[ "$(hint_row "(c) vmm-sched")" = 0 ] || fail "(c) vmm-sched had guest hints in use"
# The payloads' hints reached the scheduler: critical-section extensions (lock
# VM) and idle hand-ons or deferrals (latency VMs) under vmm_hints.
awk -F'|' 'NF == 9 && $2 == " (e) vmm-sched + guest hints " {exit !($4 > 0 && $6 + $7 > 0)}' \
	"$out/table.md" || fail "vmm_hints used no critical-section or no idle hints: $(grep -A8 '^Guest-hint' "$out/table.md")"
# The idle-hint runs: one without and one with h's region, and the hints acted.
grep -q '^| 1 | none | ' "$out/table.md" && grep -q '^| 1 | hints | ' "$out/table.md" ||
	fail "table.md has no idle-hint runs: $(grep -A12 '^### Idle hints' "$out/table.md")"
awk -F'|' '$2 ~ /^ [0-9]+ $/ && $3 == " hints " {exit !($8 + $9 > 0)}' "$out/table.md" ||
	fail "the idle-hint run with hints made no idle hand-ons or deferrals: $(grep -A12 '^### Idle hints' "$out/table.md")"
! grep 'not valid' "$TMP/compare.log" || fail "a measurement was not valid: see above"
if command -v gnuplot >/dev/null; then
	[ -s "$out/throughput.png" ] && [ -s "$out/latency.png" ] || fail "gnuplot made no charts"
fi
