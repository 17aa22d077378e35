#!/bin/bash
# make bench-sim-policies (part of make bench): the simulator's view of the
# agent's core planner (--policy agent) against the BPF scheduler's local
# rules (--policy bpf), the forced-idle lower bound and the fair-share
# reference (docs/simulator.md), at 1x/2x/4x overcommit, at the benchmark's
# size (6 threads: 3 cores x 2, the VM mixes of tests/bench/compare.sh) and
# at a fleet size (512 CPUs), plus the planner's wall time per call. Prints
# markdown; nothing passes or fails.
#
#   tests/bench/sim_compare.sh SIM [--quick]
# SIM: a vmm-sched-sim binary (a release build). --quick: shorter runs.
set -euo pipefail
sim=${1:?usage: sim_compare.sh SIM [--quick]}
case "${2:-}" in
--quick) secs=1 fleet_secs=0.1 ;;
"") secs=10 fleet_secs=0.5 ;;
*) echo "sim_compare.sh: unknown argument '$2' (--quick or nothing)" >&2; exit 2 ;;
esac
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
pct() { echo "scale=6; $1 * 100 / ($2 * $3 * 1000)" | bc -l | xargs printf '%.1f'; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The bench's own mixes (run-bench simulates them for its targets too).
for x in 1x 2x 4x; do cp "$(dirname "$0")/scenarios/$x.ini" "$dir/$x.ini"; done
# One VM of each kind, dealt in turn by --vms: 7 vCPUs per 4 VMs.
sed 's/^count = .*/count = 1/' "$dir/4x.ini" >"$dir/fleet.ini"

row() { # row LABEL OVERCOMMIT CPUS SECS ARGS...
	local label=$1 over=$2 cpus=$3 s=$4 policy line
	shift 4
	for policy in bpf agent; do
		line=$("$sim" --policy "$policy" --cpus "$cpus" --secs "$s" --csv "$dir/$label-$policy.csv" "$@")
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f |\n' "$label" "$policy" \
			"$over" "$(pct "$(echo "$line" | field forced_idle_ms)" "$cpus" "$s")" \
			"$(pct "$(echo "$line" | field lower_bound_ms)" "$cpus" "$s")" \
			"$(echo "$line" | field ratio)" \
			"$(pct "$(echo "$line" | field fair_ref_ms)" "$cpus" "$s")" \
			"$(echo "$line" | field ratio_fair)" \
			"$(echo "scale=3; $(echo "$line" | field wait_p99_max_us) / 1000" | bc -l)" \
			"$(echo "scale=4; $(echo "$line" | field work_cpu_s) / $s" | bc -l)"
	done
}

echo "## Simulator: agent planner vs BPF-local rules vs the lower bound and the fair-share reference"
echo
echo "Forced idle, its lower bound and the fair-share reference (the idle of a fluid scheduler"
echo "fair at every instant) in % of all thread time; ratio = forced idle / bound,"
echo "ratio to fair ref = forced idle / fair-share reference (-: a zero bound or reference);"
echo "wait p99 of the worst VM; work in CPUs (vCPU time less lock spinning, per second)."
echo "Bench size: ${secs} s simulated; fleet: ${fleet_secs} s. Seed 1, --epoch-ms 10, no agent delay."
echo
echo "| host | policy | overcommit | forced idle % | lower bound % | ratio | fair ref % | ratio to fair ref | wait p99 worst VM ms | work CPUs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for x in 1x 2x 4x; do
	row "6 CPUs" "$x" 6 "$secs" --workload "$dir/$x.ini"
done
for cell in "1x 292" "2x 585" "4x 1170" "6.8x 2000"; do
	set -- $cell
	row "512 CPUs x $2 VMs" "$1" 512 "$fleet_secs" --vms "$2" --workload "$dir/fleet.ini"
done
# The simulator's default mix: busy VMs and duty VMs running and blocking ~2 ms in turn.
row "64 CPUs x 200 VMs, busy + duty 2 ms" 6.3x 64 "$fleet_secs" --vms 200

echo
echo "### Wait p99 per VM at the bench size, ms (bpf / agent)"
echo
echo "| overcommit | VM kind (id) | bpf | agent |"
echo "|---:|---|---:|---:|"
for x in 1x 2x 4x; do
	"$sim" --policy bpf --cpus 6 --secs "$secs" --workload "$dir/$x.ini" --csv "$dir/b.csv" >/dev/null
	"$sim" --policy agent --cpus 6 --secs "$secs" --workload "$dir/$x.ini" --csv "$dir/a.csv" >/dev/null
	paste -d, "$dir/b.csv" "$dir/a.csv" | awk -F, -v x="$x" 'NR == 1 {
		for (i = 1; i <= NF; i++) if ($i == "wait_p99_us" && !b) b = i; else if ($i == "wait_p99_us") a = i
		next }
		$1 != "all" { printf "| %s | %s (%s) | %.2f | %.2f |\n", x, $2, $1, $b / 1000, $a / 1000 }'
done

# Batch pairing, the benchmark's policy (b), on the same simulated host: the
# test VM's emulation distorts vmm-sched's short handovers more than 20 ms
# batches (docs/performance.md, "What the test VM distorts").
echo
echo "### vmm-sched's rules (bpf) against batch pairing (batch), simulated, seeds 1-3"
echo
echo "Means over the seeds; ratio = bpf / batch. Forced idle in % of thread time; wait p99: worst VM, mean over seeds."
echo
echo "| overcommit | work bpf CPUs | work batch CPUs | ratio | forced idle bpf | forced idle batch | ratio | wait p99 bpf ms | wait p99 batch ms | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for x in 1x 2x 4x; do
	for policy in bpf batch; do
		for seed in 1 2 3; do
			"$sim" --policy "$policy" --seed "$seed" --cpus 6 --secs "$secs" --workload "$dir/$x.ini"
		done >"$dir/vs-$policy.txt"
	done
	for policy in bpf batch; do
		awk -v s="$secs" '{ for (i = 1; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == "work_cpu_s") w += kv[2]; if (kv[1] == "forced_idle_ms") f += kv[2]
			if (kv[1] == "wait_p99_max_us") p += kv[2] } }
			END { printf "%.3f %.3f %.3f\n", w / (NR * s), f * 100 / (NR * s * 6000), p / (NR * 1000) }' \
			"$dir/vs-$policy.txt"
	done | paste -s -d' ' | awk -v x="$x" '{ printf "| %s | %.2f | %.2f | %.2f | %.1f%% | %.1f%% | %.2f | %.2f | %.2f | %.2f |\n",
		x, $1, $4, $1 / $4, $2, $5, $2 / $5, $3, $6, $3 / $6 }'
done

echo
echo "### Planner wall time per call (check + plan, this machine; busy and duty 2-vCPU VMs)"
echo
echo "| CPUs | VMs | epochs | plans | mean µs | max µs |"
echo "|---:|---:|---:|---:|---:|---:|"
for cell in "64 200 1" "512 2000 0.3"; do
	set -- $cell
	line=$("$sim" --policy agent --cpus "$1" --vms "$2" --secs "$3")
	printf '| %s | %s | %s | %s | %.1f | %.1f |\n' "$1" "$2" "$(echo "$line" | field epochs)" \
		"$(echo "$line" | field plans)" \
		"$(echo "$(echo "$line" | field plan_ns_avg) / 1000" | bc -l)" \
		"$(echo "$(echo "$line" | field plan_ns_max) / 1000" | bc -l)"
done

# Guest hints: the 2x mix with its lock VM at 4 vCPUs (two cores, so a cut of
# the holder can leave the others spinning), without hints, with its critical
# sections published (hints = cs), and with the second busy VM lying (hints =
# always: every vCPU in a critical section all the time).
hinted() { # hinted LOCK_HINTS BUSY2_HINTS
	printf '[vm busy]\nvcpus = 2\n[vm busy2]\nvcpus = 2\nhints = %s\n' "$2"
	printf '[vm latency]\ncount = 2\nvcpus = 2\nmodel = duty\ndist = fixed\nrun_us = 200\nblock_us = 800\n'
	printf '[vm lock]\nvcpus = 4\nmodel = lock\nhold_us = 40\nfree_us = 160\nhints = %s\n' "$1"
	printf '[vm single]\ncount = 2\nvcpus = 1\n'
}
hinted none none >"$dir/h-none.ini"
hinted cs none >"$dir/h-cs.ini"
hinted none always >"$dir/h-liar.ini"
col() { # col CSV VM COLUMN: the named column of VM's row
	awk -F, -v vm="$2" -v name="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		$2 == vm { print $c }' "$1"
}
echo
echo "### Guest hints: critical-section extensions (policy bpf, 6 CPUs, 2x mix, lock VM of 4 vCPUs)"
echo
echo "Lock VM spin in ms without hints and with its critical sections published (50 us"
echo "extensions, 3% budget); seeds 1-5, ${secs} s each."
echo
echo "| seed | spin, no hints | spin, hints | ratio | extensions | extended ms | lock VM work ms, no hints / hints |"
echo "|---:|---:|---:|---:|---:|---:|---|"
for seed in 1 2 3 4 5; do
	"$sim" --seed "$seed" --cpus 6 --secs "$secs" --workload "$dir/h-none.ini" --csv "$dir/h0.csv" >/dev/null
	"$sim" --seed "$seed" --cpus 6 --secs "$secs" --workload "$dir/h-cs.ini" --csv "$dir/h1.csv" >/dev/null
	s0=$(col "$dir/h0.csv" lock spin_ms) s1=$(col "$dir/h1.csv" lock spin_ms)
	printf '| %s | %.1f | %.1f | %s | %s | %.2f | %.0f / %.0f |\n' "$seed" "$s0" "$s1" \
		"$(echo "$s0" | awk -v b="$s1" '$1 > 0 { printf "%.2f", b / $1; next } { print "-" }')" \
		"$(col "$dir/h1.csv" lock cs_extensions)" "$(col "$dir/h1.csv" lock cs_extended_ms)" \
		"$(col "$dir/h0.csv" lock work_ms)" "$(col "$dir/h1.csv" lock work_ms)"
done
echo
echo "A liar (busy2: every vCPU claims a critical section all the time), seed 1: core time owned, ms (the first VM of each kind)."
echo
echo "| VM | honest run | busy2 lying | ratio | busy2's extended ms (% of its vCPU time) |"
echo "|---|---:|---:|---:|---|"
"$sim" --cpus 6 --secs "$secs" --workload "$dir/h-none.ini" --csv "$dir/h0.csv" >/dev/null
"$sim" --cpus 6 --secs "$secs" --workload "$dir/h-liar.ini" --csv "$dir/h2.csv" >/dev/null
for vm in busy busy2 latency lock single; do
	o0=$(col "$dir/h0.csv" "$vm" owned_core_ms | head -1) o1=$(col "$dir/h2.csv" "$vm" owned_core_ms | head -1)
	ext=""
	[ "$vm" = busy2 ] && ext=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "cs_extended_ms") e = i; if ($i == "run_ms") r = i }; next }
		$2 == "busy2" { printf "%.1f (%.2f%%)", $e, $e * 100 / $r }' "$dir/h2.csv")
	printf '| %s | %.1f | %.1f | %.3f | %s |\n' "$vm" "$o0" "$o1" "$(echo "scale=6; $o1 / $o0" | bc -l)" "$ext"
done
