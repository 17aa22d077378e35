#!/bin/bash
# case-seconds: 45
# SO_PEERCRED: with the socket opened to everyone (0666, as an operator might
# for monitoring), uid nobody may read the status but not set, release,
# enroll or place: each refusal names the uid and the command, in the reply
# and the log. --control-group GROUP lets that group change things, by its
# primary or a supplementary group, and gives the socket file to it (0660).
. "$(dirname "$0")/../lib.sh"

chmod 0755 "$TMP" # nobody must reach the socket inside it
as_nobody() { # as_nobody GROUP-OPTIONS... -- vmm-schedctl ARGS...
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	setpriv --reuid=nobody "${opts[@]}" "$BUILD/vmm-schedctl" --socket "$CTL_SOCK" "$@"
}
nobody_uid=$(id -u nobody)

expect_refused() { # expect_refused CMD ARGS...: nobody (no groups) is refused CMD
	local out
	out=$(as_nobody --regid=nogroup --clear-groups -- "$@" 2>&1) &&
		fail "uid nobody could '$*': $out"
	echo "$out" | grep -q "uid $nobody_uid may not '$1'" ||
		fail "the refusal of '$*' does not name uid $nobody_uid and the command: $out"
	note "ok: nobody: $* -> $out"
}

start_paused_vm a 2 busy
start_paused_vm c 1 busy
start_schedd --cpus 4-7 --pid "${VM_PID[a]}:a"
resume_vm a
mode=$(stat -c %a "$CTL_SOCK")
chmod 0666 "$CTL_SOCK"

out=$(as_nobody --regid=nogroup --clear-groups -- status --json 2>&1) || fail "uid nobody could not read the status: $out"
echo "$out" | grep -q '"name":"a"\|"name": "a"' || fail "nobody's status does not list VM a: $out"
note "ok: nobody may read the status"
expect_refused set "${VM_PID[a]}" --weight 1 --cap 1
expect_refused release "${VM_PID[a]}"
expect_refused enroll "${VM_PID[c]}" --name c
tid=$(vm_tids a | head -n1)
expect_refused place "$tid" 4
grep -q "control: refused 'set' from uid $nobody_uid" "$SCHEDD_LOG" ||
	fail "the agent did not log the refusal with the uid: $(grep control: "$SCHEDD_LOG")"
[ "$(json_get '[(v["name"], v["weight"]) for v in s["vms"]]')" = "[('a', 100)]" ] ||
	fail "nobody's refused requests changed the VMs: $(json_get '[(v["name"], v["weight"]) for v in s["vms"]]')"
for tid in $(vm_tids a); do
	[ "$(thread_policy "$tid")" = 7 ] || fail "thread $tid of VM a left SCHED_EXT after refused requests"
done
[ "$(json_get 's["control"]["denied"]')" = 4 ] || fail "status counts $(json_get 's["control"]["denied"]') denied requests, not 4"
[ "$mode" = 600 ] || fail "without --control-group the socket was mode $mode, not 0600"
ctl set "${VM_PID[a]}" --weight 300 >/dev/null || fail "root could not set the weight"
stop_schedd

expect_error() { # expect_error PATTERN COMMAND...
	local pattern=$1 out
	shift
	out=$("$@" 2>&1) && fail "'$*' succeeded; expected an error matching '$pattern'"
	echo "$out" | grep -q -- "$pattern" || fail "'$*' said '$out'; expected '$pattern'"
	note "ok: $* -> $(echo "$out" | tail -n1)"
}
expect_error "--control-group 'no-such-group-x': no such group" \
	"$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 4-7 --control-group no-such-group-x

start_schedd --cpus 4-7 --pid "${VM_PID[a]}:a" --control-group users
[ "$(stat -c '%a %G' "$CTL_SOCK")" = "660 users" ] ||
	fail "with --control-group users the socket is '$(stat -c '%a %G' "$CTL_SOCK")', not '660 users'"
out=$(as_nobody --regid=users --clear-groups -- set "${VM_PID[a]}" --weight 200 2>&1) ||
	fail "nobody with primary group users could not set: $out"
out=$(as_nobody --regid=nogroup --groups=users -- set "${VM_PID[a]}" --weight 250 2>&1) ||
	fail "nobody with supplementary group users could not set: $out"
[ "$(json_get 's["vms"][0]["weight"]')" = 250 ] || fail "the group's set did not apply: weight $(json_get 's["vms"][0]["weight"]')"
note "ok: the control group may set, by primary or supplementary group"
chmod 0666 "$CTL_SOCK"
out=$(as_nobody --regid=nogroup --clear-groups -- release "${VM_PID[a]}" 2>&1) &&
	fail "nobody outside the control group could release: $out"
echo "$out" | grep -q "uid $nobody_uid may not 'release': only root and members of group 'users'" ||
	fail "the refusal does not name the uid, the command and the group: $out"
note "ok: outside the group: $out"
stop_schedd
stop_vm a
stop_vm c
