#!/bin/bash
# case-seconds: 35
# vCPU threads a VM creates after its enrolment are found by the kernel's
# process events (the proc connector): the thread is started, then names
# itself like a vCPU (as qemu does), and the agent rescans that VM from /proc
# well under a second later, with no polling (--safety-rescan-s 3600). Its
# exit is noticed the same way. With --discovery poll (events forced off) the
# same thread is found by the 1 s rescan, and status names the mode.
. "$(dirname "$0")/../lib.sh"

FAKE=tests/tools/fake-vmm
FAKE_PID=
trap '[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT

disc() { json_get "s['discovery']$1"; }
vcpus_of_late() { json_get '[len(v["vcpus"]) for v in s["vms"] if v["name"] == "late"][0]'; }
late_has() { [ "$(vcpus_of_late)" = "$1" ]; }
# start_late NAME: a new thread of the fake VMM; prints ms until it was in SCHED_EXT.
start_late() {
	echo "start $1" >"$TMP/ctl.fifo"
	wait_for 90 grep -q "^in_ext name=$1 " "$TMP/fake.out" || fail "thread $1 did not start"
	sed -n "s/^in_ext name=$1 after_ms=//p" "$TMP/fake.out"
}

start_schedd --cpus 2-7 --safety-rescan-s 3600
[ "$(disc "['mode']")" = events ] || fail "discovery mode is '$(disc "['mode']")', not events"
grep -q "vCPU thread discovery: process events" "$SCHEDD_LOG" || fail "the log does not name the discovery mode"
mkfifo "$TMP/ctl.fifo"
python3 "$FAKE" --kvm-vcpus 3 --control "$TMP/ctl.fifo" vcpu0 >"$TMP/fake.out" 2>"$TMP/fake.err" &
FAKE_PID=$!
wait_for 60 grep -q "^ready pid=" "$TMP/fake.out" || fail "fake-vmm did not start: $(cat "$TMP/fake.err")"
ctl enroll "$FAKE_PID" --name late >/dev/null || fail "the fake VMM was not enrolled"
late_has 1 || fail "VM late lists $(vcpus_of_late) vCPUs after enrolment, not 1"

# 1. Events: a vCPU thread created after enrolment.
ms=$(start_late vcpu1)
[ "$ms" != none ] || fail "thread vcpu1 was not enrolled within 60 s with process events"
late_has 2 || fail "VM late lists $(vcpus_of_late) vCPUs after vcpu1 started, not 2"
read -r ev safety poll cause <<<"$(disc "['rescans']['events'], s['discovery']['rescans']['safety'], s['discovery']['rescans']['poll'], s['discovery']['last_rescan_cause']" | tr -d "(),'")"
note "events: vcpu1 in SCHED_EXT ${ms} ms after its thread was created; rescans events=$ev safety=$safety poll=$poll, last cause $cause"
[ "$ev" -ge 1 ] && [ "$poll" = 0 ] && [ "$safety" = 0 ] ||
	fail "rescans events=$ev safety=$safety poll=$poll: vcpu1 was not found by an event rescan"
[ "$cause" = events ] || fail "last rescan cause $cause, not events"
[ "$ms" -lt 1000 ] || fail "vcpu1 took $ms ms to be enrolled by the event path (want well under 1 s)"

# 2. Events: its exit.
echo "exit vcpu1" >"$TMP/ctl.fifo"
wait_for 5 late_has 1 || fail "VM late still lists $(vcpus_of_late) vCPUs 5 s after vcpu1 exited"
[ "$(disc "['rescans']['poll'] + s['discovery']['rescans']['safety']")" = 0 ] || fail "a full rescan ran with events"
stop_schedd

# 3. Events forced off: the same by polling, and status says why.
start_schedd --cpus 2-7 --discovery poll
[ "$(disc "['mode']")" = poll ] || fail "discovery mode is '$(disc "['mode']")' with --discovery poll"
disc "['poll_reason']" | grep -q -- "--discovery poll" || fail "poll_reason '$(disc "['poll_reason']")' does not name the setting"
ctl enroll "$FAKE_PID" --name late >/dev/null || fail "the fake VMM was not enrolled again"
ms=$(start_late vcpu2)
[ "$ms" != none ] || fail "thread vcpu2 was not enrolled within 60 s by polling"
late_has 2 || fail "VM late lists $(vcpus_of_late) vCPUs after vcpu2 started, not 2"
read -r ev poll <<<"$(disc "['rescans']['events'], s['discovery']['rescans']['poll']" | tr -d '(),')"
note "poll: vcpu2 in SCHED_EXT ${ms} ms after its thread was created; rescans events=$ev poll=$poll"
[ "$ev" = 0 ] && [ "$poll" -ge 1 ] || fail "rescans events=$ev poll=$poll with --discovery poll"
stop_schedd
