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

# The kinds of tests/bench/compare.sh: busy, latency (duty 200 us / 800 us),
# lock (hold 40 us of every 200 us), single (a busy 1-vCPU VM).
kinds() { # kinds BUSY LATENCY LOCK SINGLE
	local n=("$@") i=0 name
	for name in busy latency lock single; do
		if [ "${n[$i]}" -gt 0 ]; then
			echo "[vm $name]"
			echo "count = ${n[$i]}"
			case $name in
			busy) printf 'vcpus = 2\n' ;;
			latency) printf 'vcpus = 2\nmodel = duty\ndist = fixed\nrun_us = 200\nblock_us = 800\n' ;;
			lock) printf 'vcpus = 2\nmodel = lock\nhold_us = 40\nfree_us = 160\n' ;;
			single) printf 'vcpus = 1\n' ;;
			esac
		fi
		i=$((i + 1))
	done
}
kinds 0 1 1 2 >"$dir/1x.ini"
kinds 2 2 1 2 >"$dir/2x.ini"
kinds 5 3 2 4 >"$dir/4x.ini"
kinds 1 1 1 1 >"$dir/fleet.ini" # dealt in turn by --vms: 7 vCPUs per 4 VMs

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
