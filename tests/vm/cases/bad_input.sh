#!/bin/bash
# case-seconds: 160
# Bad input gets a one-line error that names what was wrong, and a running
# daemon is not disturbed by it.
. "$(dirname "$0")/../lib.sh"

expect_error() { # expect_error PATTERN COMMAND...: fails unless COMMAND fails saying PATTERN
	local pattern=$1 out rc
	shift
	out=$("$@" 2>&1) && fail "'$*' succeeded; expected an error matching '$pattern'"
	echo "$out" | grep -q -- "$pattern" || fail "'$*' said '$out'; expected '$pattern'"
	note "ok: $* -> $(echo "$out" | tail -n1)"
}

start_paused_vm a 2 busy
expect_error "SMT sibling 1" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0,2-3
expect_error "is not online" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 8-9
expect_error "reversed range" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 3-0
expect_error "--cpus is required" "$BUILD/vmm-schedd" --control "$CTL_SOCK"
expect_error "no process 999999" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0-3 --pid 999999
expect_error "has no vCPU threads" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0-3 --pid $$
expect_error "not a process id" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0-3 --pid abc
[ "$(sched_ext_state)" = disabled ] || fail "a refused start left sched_ext '$(sched_ext_state)'"

start_schedd --cpus 4-7 --pid "${VM_PID[a]}:a"
resume_vm a
expect_error "another vmm-schedd answers on $CTL_SOCK" "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 0-3
expect_error "another vmm-schedd holds the scheduler pinned at $PIN_DIR" "$BUILD/vmm-schedd" \
	--control "$TMP/other.sock" --pin-dir "$PIN_DIR" --cpus 4-7
expect_error "a vmm_sched scheduler runs but nothing is pinned at $PIN_DIR-other" "$BUILD/vmm-schedd" \
	--control "$TMP/other.sock" --pin-dir "$PIN_DIR-other" --cpus 0-3
rmdir "$PIN_DIR-other"
expect_error "pin directory $TMP/bpf is not on a BPF file system" "$BUILD/vmm-schedd" \
	--control "$TMP/other.sock" --pin-dir "$TMP/bpf" --cpus 0-3
expect_error "must be an absolute path" "$BUILD/vmm-schedd" --pin-dir relative --cpus 0-3
expect_error "ring-kb '5' must be a power of two" "$BUILD/vmm-schedd" --ring-kb 5 --cpus 0-3
expect_error "no process 999999" ctl enroll 999999
expect_error "has no vCPU threads" ctl enroll $$
expect_error "already enrolled" ctl enroll "${VM_PID[a]}"
expect_error "no enrolled VM has pid" ctl release 4242

raw() { # raw BYTES: send bytes to the control socket, print the reply
	python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR); print(s.recv(65536).decode())' "$CTL_SOCK" "$1"
}
expect_reply() { # expect_reply REQUEST PATTERN
	local out
	out=$(raw "$1")
	echo "$out" | grep -q '"ok":false' || fail "request '$1' was not refused: $out"
	echo "$out" | grep -q -- "$2" || fail "request '$1' got '$out'; expected '$2'"
	note "ok: '$1' -> $out"
}
expect_reply '{"garbage' 'incomplete JSON'
expect_reply 'not json at all' 'not valid JSON'
expect_reply '[1,2,3]' 'not a JSON object'
expect_reply '{"cmd":"status"}' "no integer 'version'"
expect_reply '{"version":99,"cmd":"status"}' 'version 99 is not supported'
expect_reply '{"version":1,"cmd":"reboot"}' "unknown command 'reboot'"
expect_reply '{"version":1,"cmd":"enroll","pid":"12"}' "positive integer 'pid'"
expect_reply '{"version":1,"cmd":"enroll","pid":-5}' "positive integer 'pid'"
expect_reply "$(head -c 5000 /dev/zero | tr '\0' 'x')" 'longer than 4096 bytes'

# VM names: 1..63 of A-Z a-z 0-9 . _ -, refused otherwise without echoing the
# name, so nothing forged reaches the log or the status table.
expect_error "--pid ${VM_PID[a]}: the VM name has character 0x0a at position 2" "$BUILD/vmm-schedd" --cpus 0-3 \
	--pid "${VM_PID[a]}:a"$'\n'"forged line"
expect_error "has 64 characters: at most 63" "$BUILD/vmm-schedd" --cpus 0-3 \
	--pid "${VM_PID[a]}:$(printf 'x%.0s' {1..64})"
expect_error "'name': the VM name has character 0x0a at position 5" \
	ctl enroll "${VM_PID[a]}" --name $'evil\nvmm-schedd: forged'
expect_reply '{"version":1,"cmd":"enroll","pid":1,"name":"\u001b[31mred"}' 'character 0x1b at position 1'
expect_reply '{"version":1,"cmd":"enroll","pid":1,"name":"a\u0000b"}' 'character 0x00 at position 2'
expect_reply '{"version":1,"cmd":"enroll","pid":1,"name":""}' 'the VM name is empty'
expect_reply '{"version":1,"cmd":"enroll","pid":1,"name":"a b"}' 'character 0x20'
# A VMM whose own name (comm) carries escapes and a newline: the name the agent
# makes from it is cleaned, and no escape reaches the log or the status table.
evil=$'ev\x1b[1m\nil'
ln -s "$(realpath "$BUILD/testvmm")" "$TMP/$evil"
VM_LOG[e]=$TMP/vm-e.log
"$TMP/$evil" --name e --vcpus 1 --payload busy --interval-ms 250 --start-paused \
	>"${VM_LOG[e]}" 2>"$TMP/vm-e.err" &
VM_PID[e]=$!
wait_for 120 grep -q "^paused vm=e" "${VM_LOG[e]}" || fail "testvmm e did not start: $(cat "$TMP/vm-e.err")"
ctl enroll "${VM_PID[e]}" >/dev/null || fail "enrolling the VMM named with escapes failed"
name=$(json_get '[v["name"] for v in s["vms"] if v["pid"] == '"${VM_PID[e]}"'][0]')
[[ "$name" =~ ^ev__1m[A-Za-z0-9._-]*-${VM_PID[e]}$ ]] || fail "the VM named after an escaped comm is '$name'"
ctl status | grep -q $'\x1b' && fail "the status table holds an escape character"
ctl release "${VM_PID[e]}" >/dev/null || fail "release of VM e failed"
resume_vm e
stop_vm e
grep -q $'\x1b' "$SCHEDD_LOG" && fail "the log holds an escape character: $(grep -n $'\x1b' "$SCHEDD_LOG" | cat -v)"
grep -q "^il\|^vmm-schedd: forged" "$SCHEDD_LOG" && fail "a forged line reached the log: $(grep -n "^il\|forged" "$SCHEDD_LOG")"
note "ok: VM '$name' enrolled; nothing forged in the log or the status table"

# After all that the daemon still schedules the VM and answers.
[ "$(json_get 'len(s["vms"])')" = 1 ] || fail "the enrolled VM is gone after bad requests"
u0=$(progress a 0 units)
sleep 1
[ "$(progress a 0 units)" -gt "$u0" ] || fail "VM a stopped making progress"
stop_schedd
stop_vm a
