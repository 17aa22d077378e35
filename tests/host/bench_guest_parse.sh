#!/bin/bash
# Host-side check of the real-guest benchmark's in-guest parsing
# (tests/guest/bench_guest.sh) with the guest's own tools: busybox sh and
# busybox awk, which reads zero-padded numbers such as cyclictest's 000017 as
# octal. Prints one PASS/FAIL line and exits 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v busybox >/dev/null || { echo "FAIL bench_guest_parse: busybox not found; run 'make deps'"; exit 1; }

# 1000 wake-ups: 900 at 10 us, 90 at 17 us, 9 at 6254 us, 1 at 25135 us
# (bucket, thread 0, thread 1), as cyclictest --histfile writes them.
printf '%s\n' '# Histogram' '000010 000500	000400' '000017 000080	000010' \
	'006254 000005	000004' '025135 000001	000000' '# Total: 000000500 000000500' \
	'# Max Latencies: 25135 06254' '# Histogram Overflows: 00000 00000' >"$work/hist"
want="wake_p50_us=10 wake_p99_us=17 wake_p999_us=6254 wake_max_us=25135 wakes=1000 overflows=0"
got=$(BENCH_GUEST_LIB=1 busybox sh -c '. "$1"; awk() { busybox awk "$@"; }; cyclictest_percentiles "$2"' \
	sh "$top/tests/guest/bench_guest.sh" "$work/hist" 2>&1)
if [ "$got" = "$want" ]; then
	echo "PASS bench_guest_parse: cyclictest's histogram under busybox awk: $got"
else
	echo "FAIL bench_guest_parse: cyclictest's histogram under busybox awk gave '$got', want '$want'"
	exit 1
fi
