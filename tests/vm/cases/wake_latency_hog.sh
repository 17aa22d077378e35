#!/bin/bash
# case-seconds: 40
# The duty payload's in-guest wakeup latency histogram sees a known delay: a
# 1-vCPU duty VM (run 200 us, HLT 10 ms) in the fair class, pinned to CPU 3,
# first alone, then beside a host task on CPU 3 that runs 100 ms out of every
# 200 ms at SCHED_FIFO. The one wake per cycle that falls into the host task's
# run waits for the rest of it (0-100 ms); that is about 1 in 10 wakes, so p99
# must rise by 50 ms or more.
. "$(dirname "$0")/../lib.sh"
trap 'stop_cpu_hogs; cleanup' EXIT
SECS=5
start_vm duty 1 duty --run-us 200 --block-us 10000
taskset -p -c 3 "$(vm_tids duty)" >/dev/null || fail "cannot pin the vCPU thread to CPU 3"
sleep 1
mark_latency duty
sleep "$SECS"
nap 0.6 # a latency line from after the window's end
alone_p50=$(latency duty 0 p50_us) alone_p99=$(latency duty 0 p99_us) alone_wakes=$(latency duty 0 wakes)
note "alone: wakes=$alone_wakes p50=${alone_p50} us p99=${alone_p99} us max=$(latency duty 0 max_us) us"

start_host_blinker 3 100 100
chrt -f -p 10 "$HOG_LAST" || fail "cannot make the host task SCHED_FIFO"
sleep 1
mark_latency duty
sleep "$SECS"
nap 0.6
hog_p99=$(latency duty 0 p99_us) hog_wakes=$(latency duty 0 wakes)
note "beside the host task: wakes=$hog_wakes p50=$(latency duty 0 p50_us) us p99=${hog_p99} us" \
	"max=$(latency duty 0 max_us) us"
stop_cpu_hogs
stop_vm duty

[ "$alone_wakes" -gt 100 ] || fail "only $alone_wakes wakes in $SECS s alone"
[ "$hog_wakes" -gt 10 ] || fail "only $hog_wakes wakes in $SECS s beside the host task"
python3 -c "import sys; a, h = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if h >= a + 50000 else 1)" \
	"$alone_p99" "$hog_p99" || fail "p99 rose from $alone_p99 us to only $hog_p99 us beside a host task" \
	"that holds the CPU for 100 ms at a time (expected +50 ms or more)"
