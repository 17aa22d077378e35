#!/bin/bash
# Host-side checks of vmm-sched.conf and `make install`, no VM needed. Prints
# one 'PASS name: ...', 'FAIL name: ...' or 'SKIP name: ...' line per check
# (tests/run-all counts them) and exits 1 if any failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
BUILD=${BUILD:-build}
schedd=$BUILD/vmm-schedd
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pass() { echo "PASS $1: $2"; }
fail() {
	echo "FAIL $1: $2"
	failures=$((failures + 1))
}

# check_config NAME WANT_RC WANT_TEXT ARGS...: vmm-schedd ARGS must exit WANT_RC saying WANT_TEXT.
check_config() {
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$schedd" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want_rc" ] && [[ $out == *"$want"* ]]; then
		pass "$name" "exit $rc: $(echo "$out" | head -n1)"
	else
		fail "$name" "expected exit $want_rc saying '$want', got exit $rc: $out"
	fi
}

# Each broken file's first line says the error it must get, after its path.
for f in tests/config/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	[ -n "$want" ] || continue
	check_config "check_config_$(basename "$f" .conf)" 1 "$f$want" --check-config "$f"
done
check_config check_config_good 0 "tests/config/good.conf: valid" --check-config tests/config/good.conf
check_config check_config_example 0 "deploy/vmm-sched.conf: valid" --check-config deploy/vmm-sched.conf
check_config check_config_missing 1 \
	"$work/none.conf: cannot read the configuration file: No such file or directory" \
	--check-config "$work/none.conf"
# At start: a named file must exist, and its errors stop the agent (exit 2).
check_config start_config_missing 2 "$work/none.conf: cannot read the configuration file" \
	--config "$work/none.conf" --cpus 0
check_config start_config_invalid 2 "tests/config/out_of_range.conf:3: slice-us in [scheduler]" \
	--config tests/config/out_of_range.conf --cpus 0
# The command line wins, and is checked as the file is.
check_config start_cli_checked 2 "--slice-us '10' must be 50..1000000" \
	--config tests/config/good.conf --slice-us 10

# The libvirt hook: exit 0 within 1 s whether vmm-schedd is missing or its socket
# accepts but nobody answers (a daemon stopped with SIGSTOP), never failing a start.
hook_run() { # NAME SOCKET: runs the hook for 'started' and judges it
	local t0 t1 rc ms
	t0=$(date +%s%N)
	VMM_SCHEDCTL=$BUILD/vmm-schedctl VMM_SCHED_SOCKET=$2 \
		deploy/libvirt/qemu.d/vmm-sched web started begin - </dev/null
	rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	if [ "$rc" = 0 ] && [ "$ms" -lt 1000 ]; then
		pass "$1" "exit 0 after $ms ms"
	else
		fail "$1" "exit $rc after $ms ms (must be 0 within 1000 ms)"
	fi
}
hook_run hook_no_daemon "$work/no-such.sock"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
print("ready", flush=True); time.sleep(30)' "$work/hung.sock" >"$work/hung.out" &
hung=$!
for _ in $(seq 50); do grep -q ready "$work/hung.out" 2>/dev/null && break; sleep 0.1; done
kill -STOP "$hung"
hook_run hook_hung_daemon "$work/hung.sock"
# The nudge it left in the background is gone within a second.
sleep 1
if left=$(pgrep -f -- "--socket $work/hung.sock"); then
	fail hook_nudge_bounded "the hook's vmm-schedctl is still there after 1 s: pid $left"
else
	pass hook_nudge_bounded "its background vmm-schedctl was gone after 1 s"
fi
{
	kill -KILL "$hung"
	wait "$hung"
} 2>/dev/null

# make install into a scratch root, verify the unit there, uninstall: nothing left.
dest=$work/root
if ! out=$(make --no-print-directory install DESTDIR="$dest" PREFIX=/usr INSTALL_FROM="$BUILD" 2>&1); then
	fail install "make install failed: $out"
else
	missing=""
	for f in usr/sbin/vmm-schedd usr/bin/vmm-schedctl usr/lib/systemd/system/vmm-schedd.service \
		usr/lib/tmpfiles.d/vmm-sched.conf usr/share/man/man8/vmm-schedd.8 \
		usr/share/man/man8/vmm-schedctl.8 usr/share/man/man5/vmm-sched.conf.5 \
		usr/share/bash-completion/completions/vmm-schedctl etc/vmm-sched/vmm-sched.conf \
		etc/libvirt/hooks/qemu.d/vmm-sched; do
		[ -f "$dest/$f" ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		pass install "$(find "$dest" -type f | wc -l) files under DESTDIR"
	else
		fail install "not installed:$missing"
	fi
	if ! command -v systemd-analyze >/dev/null; then
		echo "SKIP unit_verify: no systemd-analyze on this host"
	else
		# verify --root needs the host's own units (sysinit.target...) beside ours.
		vroot=$work/verify
		mkdir -p "$vroot/usr/lib/systemd"
		cp -a "$dest/." "$vroot/"
		cp -a /usr/lib/systemd/system/. "$vroot/usr/lib/systemd/system/"
		# Unknown directives are only warned about: any output is a failure.
		if out=$(MANPATH="$dest/usr/share/man" systemd-analyze verify --root="$vroot" \
			vmm-schedd.service 2>&1) && [ -z "$out" ]; then
			pass unit_verify "systemd-analyze verify: no complaints"
		else
			fail unit_verify "systemd-analyze verify: $out"
		fi
	fi
	# The installed bash completion: commands, each command's options, --sort's keys.
	comp=$dest/usr/share/bash-completion/completions/vmm-schedctl
	complete_words() { tests/tools/complete-words "$comp" vmm-schedctl "$@" | paste -sd ' '; }
	bad=""
	check_completion() { # WANT WORD...
		local want=$1 got
		shift
		got=$(complete_words "$@")
		[ "$got" = "$want" ] || bad="$bad; '$*' offered '$got', not '$want'"
	}
	check_completion "enclave enroll place rebalance release set status top vm" ''
	check_completion "set status" s
	check_completion "--help --socket" -
	check_completion "top" --socket /run/x.sock t
	check_completion "--json" status ''
	check_completion "--interval --iterations --json --sort" top -
	check_completion "delivered forced_idle name planned wait" top --sort ''
	check_completion "--cap --enclave --json --name --reserve --weight" enroll 42 -
	check_completion "add-cores create destroy list remove-cores" enclave ''
	check_completion "--cpus --json --pairing --slice-us" enclave create fast -
	check_completion "relaxed strict" enclave create fast --pairing ''
	check_completion "--dry-run --json" rebalance -
	check_completion "--cap --json --reserve --weight" set 42 --weight 5 -
	check_completion "--json" release 42 -
	check_completion "--json --seqnum --with" place 4250 2 -
	check_completion "" enroll 42 --name ''
	if [ -z "$bad" ]; then
		pass bash_completion "commands, options and --sort keys complete"
	else
		fail bash_completion "${bad#; }"
	fi
	if ! out=$(make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr 2>&1); then
		fail uninstall "make uninstall failed: $out"
	elif [ -n "$(find "$dest" -mindepth 1)" ]; then
		fail uninstall "left behind: $(find "$dest" -mindepth 1 | sed "s|^$dest||" | paste -sd ' ')"
	else
		pass uninstall "DESTDIR is empty again"
	fi
fi
# An operator's edited configuration survives uninstall; an unedited one does not.
dest=$work/edited
if make --no-print-directory install DESTDIR="$dest" PREFIX=/usr INSTALL_FROM="$BUILD" >/dev/null 2>&1; then
	echo "cpus = 2-7" >>"$dest/etc/vmm-sched/vmm-sched.conf"
	out=$(make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr 2>&1)
	left=$(find "$dest" -type f | sed "s|^$dest||" | paste -sd ' ')
	if [ "$left" = /etc/vmm-sched/vmm-sched.conf ] && [[ $out == *"keeping $dest/etc/vmm-sched/vmm-sched.conf: it was changed"* ]]; then
		pass uninstall_keeps_edited_config "only the edited $left is left, and uninstall said so"
	else
		fail uninstall_keeps_edited_config "left '$left' after: $out"
	fi
else
	fail uninstall_keeps_edited_config "make install failed"
fi
[ "$failures" = 0 ]
