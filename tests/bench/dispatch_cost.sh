#!/bin/bash
# make bench-dispatch: the BPF scheduler's cost per call (vs_dispatch,
# vs_enqueue, vs_tick, ...: the kernel's run_time_ns / run_cnt of its
# struct_ops programs) at 16 and at 512 enrolled one-vCPU test VMs carrying
# the same busy load (4 busy VMs, the rest mostly halted), and the ratio.
# Runs inside the test VM (tests/vm/run --mem 6G); reports, never judges.
#
#   tests/bench/dispatch_cost.sh [--quick] [--vms N] [--small N]
# --quick: 5 s windows instead of 30. --small: the first size (16): e.g. 128
# against 512, where both sizes fill the levels a pick offers from the
# enclave's VM heaps. The fleet_512 VM case runs the same
# measurement (fleet_two_sizes in tests/vm/fleet.sh) with 5 s windows.
# The placement sweep runs from a BPF timer, whose callbacks the kernel's
# statistics do not count: it is not in the table.
set -u
secs=30 n=512 small=16
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) secs=5; shift ;;
	--vms) n=$2; shift 2 ;;
	--small) small=$2; shift 2 ;;
	*) echo "dispatch_cost: unknown argument '$1' (--quick, --vms N, --small N)" >&2; exit 2 ;;
	esac
done
[ "${VMM_SCHED_IN_TEST_VM:-}" = 1 ] || { echo "dispatch_cost: run me inside the test VM: make bench-dispatch" >&2; exit 2; }
# A release build: the sanitizers' cost is in the agent, not in BPF, but the agent shares the CPUs.
SCHEDD_BIN=${SCHEDD_BIN:-build/release/vmm-schedd}
. tests/vm/lib.sh
. tests/vm/fleet.sh
case "$small" in "" | *[!0-9]*) echo "dispatch_cost: --small '$small' is not a number of VMs" >&2; exit 2 ;; esac
[ "$small" -ge 4 ] && [ "$small" -lt "$n" ] || { echo "dispatch_cost: --small $small must be at least 4 (the busy VMs) and below --vms $n" >&2; exit 2; }
echo "## BPF cost per call at $small and $n enrolled VMs (${secs} s windows, $(nproc) CPUs, kernel $(uname -r))"
echo
start_schedd --cpus 0-$(($(nproc) - 1)) --max-vms "$n"
fleet_two_sizes "$small" "$n" 4 "$secs"
fleet_release "${FLEET[@]}"
stop_schedd
fleet_stop "${FLEET[@]}"
