#!/bin/bash
# case-seconds: 167
# PR_SCHED_CORE cookies on vCPU threads (core scheduling and sched_ext together
# hang SMT hosts). With --core-cookie refuse a VM with a cookie on a vCPU thread
# is not enrolled, the error names the thread and no thread is left in
# SCHED_EXT; by default vmm-schedd clears the cookies, logs each, and enrols.
#
# On a kernel without core scheduling (no CONFIG_SCHED_CORE, as the test kernel
# today) the case first checks that the agent finds no cookie there and says
# nothing, then runs the same checks with the prctl emulated by
# build/fake-sched-core.so (tests/tools/fake-sched-core.c).
. "$(dirname "$0")/../lib.sh"

COOKIE=$BUILD/core-cookie

all_policies() { # all_policies POLICY: every vCPU thread of VM cc has POLICY
	local tid
	for tid in $tids; do
		[ "$(thread_policy "$tid")" = "$1" ] || return 1
	done
}

# Paused until part (b): a busy guest makes each vmm-schedd start (BPF load
# under TCG) several times slower.
start_paused_vm cc 2 busy
pid=${VM_PID[cc]}
tids=$(vm_tids cc)
read -r tid0 tid1 <<<"$(echo $tids)"
[ -n "$tid1" ] || fail "testvmm cc reported fewer than 2 vCPU threads: $tids"

out=$("$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0-7 --core-cookie maybe 2>&1) &&
	fail "--core-cookie maybe was accepted"
echo "$out" | grep -q -- "--core-cookie 'maybe' must be clear or refuse" ||
	fail "--core-cookie maybe: unexpected error '$out'"

"$COOKIE" get "$tid0" >/dev/null 2>"$TMP/cookie.err"
case $? in
0)
	note "this kernel has core scheduling: real cookies"
	;;
3)
	note "this kernel has no core scheduling ($(cat "$TMP/cookie.err"))"
	start_schedd --cpus 0-7 --core-cookie refuse
	ctl enroll "$pid" --name cc >/dev/null ||
		fail "--core-cookie refuse refused a VM on a kernel without cookies"
	all_policies 7 || fail "vCPU threads of cc are not in SCHED_EXT"
	! grep -i cookie "$SCHEDD_LOG" || fail "vmm-schedd spoke of cookies on a kernel without them"
	stop_schedd
	all_policies 0 || fail "vCPU threads of cc did not get SCHED_OTHER back"
	note "no cookie on this kernel: VM enrolled under --core-cookie refuse, nothing said"
	note "from here on PR_SCHED_CORE is emulated by $BUILD/fake-sched-core.so"
	mkdir -p "$TMP/sched-core"
	export VS_FAKE_SCHED_CORE_DIR=$TMP/sched-core
	export LD_PRELOAD=$(realpath "$BUILD/fake-sched-core.so")
	# The sanitizer runtime need not come first with a preloaded library.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	;;
*)
	fail "core-cookie get $tid0: $(cat "$TMP/cookie.err")"
	;;
esac
[ "$("$COOKIE" get "$tid0")" = 0 ] || fail "vCPU thread $tid0 has a cookie before the test gave it one"

# (a) refuse. Only vCPU 1 has a cookie: vCPU 0 must not be left in SCHED_EXT.
"$COOKIE" create-thread "$tid1" || fail "cannot give thread $tid1 a cookie"
c1=$("$COOKIE" get "$tid1")
[ "$c1" != 0 ] || fail "thread $tid1 has no cookie after PR_SCHED_CORE_CREATE"
start_schedd --cpus 0-7 --core-cookie refuse
out=$(ctl enroll "$pid" --name cc 2>&1) && fail "VM cc was enrolled with a cookie on thread $tid1"
echo "$out" | grep -q "thread $tid1 has core scheduling cookie $c1" ||
	fail "the refusal does not name thread $tid1 and its cookie $c1: '$out'"
note "refused: $out"
[ "$(vm_count)" = 0 ] || fail "a refused VM is listed"
all_policies 0 || fail "a vCPU thread of the refused VM is not in SCHED_OTHER"
[ "$("$COOKIE" get "$tid1")" = "$c1" ] || fail "refuse mode changed the cookie of thread $tid1"
stop_schedd

# The whole process gets a cookie; refused at start-up (--pid) too.
"$COOKIE" create "$pid" || fail "cannot give process $pid a cookie"
c0=$("$COOKIE" get "$tid0") c1=$("$COOKIE" get "$tid1")
[ "$c0" != 0 ] && [ "$c0" = "$c1" ] || fail "process-wide cookie: thread cookies $c0 and $c1"
"$BUILD/vmm-schedd" --control "$TMP/refuse.sock" --cpus 0-7 --core-cookie refuse \
	--pid "$pid:cc" >"$TMP/refuse.log" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "vmm-schedd --pid with a cookie under refuse exited $rc: $(cat "$TMP/refuse.log")"
grep -Eq -- "--pid $pid: thread ($tid0|$tid1) has core scheduling cookie $c0" "$TMP/refuse.log" ||
	fail "start-up refusal does not name a vCPU thread: $(cat "$TMP/refuse.log")"
note "refused at start-up: $(grep -- "--pid $pid" "$TMP/refuse.log")"
all_policies 0 || fail "a vCPU thread is not in SCHED_OTHER after the start-up refusal"

# (b) the default clears the cookies, logs each, and enrols the VM.
start_schedd --cpus 0-7
[ "$(json_get 's["scheduler"]["core_cookie"]')" = clear ] || fail "status does not show core_cookie clear"
ctl enroll "$pid" --name cc >/dev/null || fail "VM cc was not enrolled under --core-cookie clear"
for tid in $tids; do
	grep -q "warning: VM 'cc': cleared core scheduling cookie $c0 of vCPU thread $tid " "$SCHEDD_LOG" ||
		fail "no log line for clearing the cookie of thread $tid"
	[ "$("$COOKIE" get "$tid")" = 0 ] || fail "thread $tid still has cookie $("$COOKIE" get "$tid")"
	[ "$(thread_policy "$tid")" = 7 ] || fail "vCPU thread $tid has policy $(thread_policy "$tid"), not SCHED_EXT (7)"
done
grep "cleared core scheduling cookie" "$SCHEDD_LOG" | sed 's/^/  /'
resume_vm cc
u0=$(progress cc 0 units)
sleep 2
[ "$(progress cc 0 units)" -gt "$u0" ] || fail "cc made no progress after its cookies were cleared"
stop_schedd
all_policies 0 || fail "vCPU threads of cc did not get SCHED_OTHER back"
stop_vm cc
