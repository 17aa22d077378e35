# The real-guest benchmark's guest side (tests/bench/guests.sh), run as the
# initramfs's /test.sh by busybox sh. It waits for commands from the host on
# the second serial port (/dev/ttyS1), one a line:
#   run SEQ WORKLOAD SECS [RATE]
#                           run WORKLOAD for about SECS s on both vCPUs; RATE
#                           (rocksdb only): offered reads per second, 0 = closed loop
#   quit                    exit 0 (the guest powers off)
# and answers on the console (ttyS0), which the host reads:
#   gb-ready                                waiting for commands
#   gb-result SEQ WORKLOAD key=value...     the workload's numbers
#   gb-error SEQ WORKLOAD what failed
#   gb-done SEQ                             the next command may come
# Workloads: Debian's cyclictest (rt-tests), sysbench cpu, stress-ng --cpu,
# hackbench (rt-tests) and RocksDB's db_bench readrandom on a DB in /tmp (tmpfs).
export PATH=/usr/bin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu

say() { echo "$*"; }

cyclictest_run() { # wake-up latency of 2 timer threads (1 ms period, SCHED_FIFO 80), in us
	rm -f /tmp/hist
	cyclictest -q -m -p 80 -t 2 -i 1000 -D "${1}s" -h 100000 --histfile=/tmp/hist >/tmp/out 2>&1 ||
		return 1
	cyclictest_percentiles /tmp/hist
}

cyclictest_percentiles() { # cyclictest's --histfile FILE: its percentiles, max and counts
	# The file's numbers are zero-padded (000123), which busybox awk reads as
	# octal; num() strips the zeros first.
	awk '
		function num(s) { sub(/^0+/, "", s); return s + 0 }
		/^# Max Latencies:/ { for (i = 4; i <= NF; i++) if (num($i) > max) max = num($i) }
		/^# Histogram Overflows:/ { for (i = 4; i <= NF; i++) over += num($i) }
		/^#/ { next }
		{ n = 0; for (i = 2; i <= NF; i++) n += num($i); if (n) { b[++k] = num($1); c[k] = n; tot += n } }
		END {
			tot += over
			if (tot == 0) { print "no samples"; exit 1 }
			p50 = p99 = p999 = -1; cum = 0
			for (i = 1; i <= k; i++) {
				cum += c[i]
				if (p50 < 0 && cum >= 0.5 * tot) p50 = b[i]
				if (p99 < 0 && cum >= 0.99 * tot) p99 = b[i]
				if (p999 < 0 && cum >= 0.999 * tot) p999 = b[i]
			}
			# Past the 100 ms histogram: the percentile is the max, or more.
			if (p50 < 0) p50 = max; if (p99 < 0) p99 = max; if (p999 < 0) p999 = max
			printf "wake_p50_us=%d wake_p99_us=%d wake_p999_us=%d wake_max_us=%d wakes=%d overflows=%d\n",
				p50, p99, p999, max, tot, over
		}' "$1"
}

sysbench_run() { # CPU throughput: prime-number events per second
	sysbench cpu --threads=2 --time="$1" run >/tmp/out 2>&1 || return 1
	awk '/events per second:/ { printf "sysbench_events_per_s=%s\n", $NF; f = 1 } END { exit !f }' /tmp/out
}

stressng_run() { # CPU throughput: bogo ops per second (real time)
	stress-ng --cpu 2 --timeout "${1}s" --metrics-brief --temp-path /tmp >/tmp/out 2>&1 || return 1
	awk '$4 == "cpu" && $5 ~ /^[0-9]+$/ { printf "stressng_bogo_ops_per_s=%s\n", $(NF - 1); f = 1 }
		END { exit !f }' /tmp/out
}

hackbench_run() { # scheduler/IPC churn: seconds per run of 2 groups of 10 threads, repeated for SECS
	local end=$(($(date +%s) + $1)) runs=0
	: >/tmp/times
	while [ "$runs" = 0 ] || [ "$(date +%s)" -lt "$end" ]; do
		hackbench -T -g 2 -f 5 -l 100 >/tmp/out 2>&1 || return 1
		awk '/^Time:/ { print $2 }' /tmp/out >>/tmp/times
		runs=$((runs + 1))
	done
	awk '{ s += $1; n++ } END { if (!n) exit 1; printf "hackbench_s=%.4f hackbench_runs=%d\n", s / n, n }' /tmp/times
}

rocksdb_run() { # db_bench readrandom, 2 threads, 20,000 keys in an in-memory DB, latency in us
	# $2: reads/s over both threads (db_bench's global read rate limit), 0 = as fast as it can
	local rate=${2:-0}
	rm -rf /tmp/db
	db_bench --benchmarks=fillseq,readrandom --num=20000 --threads=2 --duration="$1" \
		--benchmark_read_rate_limit="$rate" \
		--histogram=1 --db=/tmp/db --compression_type=none --disable_wal=1 >/tmp/out 2>&1 || return 1
	rm -rf /tmp/db
	awk -v rate="$rate" '/^readrandom/ { rr = 1; for (i = 1; i <= NF; i++) if ($i == "ops/sec") ops = $(i - 1) }
		rr && /^Percentiles:/ { printf "rocksdb_ops_per_s=%s rocksdb_p50_us=%s rocksdb_p99_us=%s rocksdb_p999_us=%s rocksdb_rate=%s\n",
			ops, $3, $7, $9, rate; f = 1; exit }
		END { exit !f }' /tmp/out
}

# Sourced with BENCH_GUEST_LIB=1 (tests/host/bench_guest_parse.sh): the functions only.
[ "${BENCH_GUEST_LIB:-}" = 1 ] && return 0
# Kernel warnings (e.g. "hrtimer: interrupt took ...") printed on the console
# land in the middle of these lines; from here on only errors and worse do
# (BUG, Oops and panics, which the host looks for, are among them).
dmesg -n 4 2>/dev/null || echo "gb-note cannot lower the console log level: kernel warnings may split result lines"
exec 3<>/dev/ttyS1 || { echo "gb-error 0 setup cannot open /dev/ttyS1"; exit 1; }
stty -F /dev/ttyS1 -echo -icrnl 2>/dev/null
say "gb-ready $(nproc) CPUs, $(uname -r)"
while read -r cmd seq what secs arg <&3; do
	case "$cmd" in
	quit) exit 0 ;;
	run) ;;
	*) continue ;;
	esac
	case "$what" in
	cyclictest | sysbench | stressng | hackbench | rocksdb) ;;
	*) say "gb-error $seq $what unknown workload"; say "gb-done $seq"; continue ;;
	esac
	case "$arg" in *[!0-9]*) say "gb-error $seq $what '$arg' is not a whole number"; say "gb-done $seq"; continue ;; esac
	if res=$("${what}_run" "$secs" $arg); then
		say "gb-result $seq $what $res"
	else
		say "gb-error $seq $what failed: $(tail -n 3 /tmp/out 2>/dev/null | tr '\n' ' ')$res"
	fi
	say "gb-done $seq"
done
say "gb-error 0 setup /dev/ttyS1 closed"
exit 1
