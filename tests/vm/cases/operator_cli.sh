#!/bin/bash
# case-seconds: 80
# The operator's side of the control protocol against a running agent:
# - the --json outputs of enroll, set, place, status and top are valid against
#   docs/control-protocol.schema.json (tests/tools/json-schema-check), and the
#   checker rejects a status with a field missing, unknown or mistyped;
# - raw requests: a malformed one and one of another version get error replies
#   that match the schema and say what was wrong; a server of another version
#   makes vmm-schedctl exit 4 naming both versions, no agent exits 4;
# - bash completion offers the enrolled VMs' pids and vCPU thread ids;
# - `top` in a real terminal (tmux): the grid shows both running VMs in
#   colour, a host task pinned into the enclave is marked, keys sort the rows
#   (n by name, d by delivered cores), q quits with status 0; not on a
#   terminal its output is plain text with no escape sequence.
. "$(dirname "$0")/../lib.sh"
step() { note "[${SECONDS}s] $*"; }
TMUX_SOCK=$TMP/tmux.sock
trap 'tmux -S "$TMUX_SOCK" kill-server 2>/dev/null; stop_cpu_hogs; cleanup' EXIT

SCHEMA=docs/control-protocol.schema.json
for tool in tmux jq; do command -v $tool >/dev/null || fail "$tool is not installed (make deps)"; done

start_schedd --cpus 0-3
step "agent up"
start_paused_vm zeta 2 busy
start_paused_vm alpha 1 busy
ctl enroll "${VM_PID[zeta]}" --name zeta --json >"$TMP/enroll.json" || fail "enroll --json failed"
resume_vm zeta
enroll_vm alpha
ctl set "${VM_PID[alpha]}" --weight 150 --json >"$TMP/set.json" || fail "set --json failed"
tid=$(vm_tids zeta | head -n1)
ctl place "$tid" 0 --json >"$TMP/place.json"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "place --json exited $rc"
ctl status --json >"$TMP/status.json" || fail "status --json failed"
ctl top --json --iterations 2 >"$TMP/top.jsonl" || fail "top --json failed"
[ "$(wc -l <"$TMP/top.jsonl")" = 2 ] || fail "top --json --iterations 2 printed $(wc -l <"$TMP/top.jsonl") lines"
step "ran enroll, set, place, status and top with --json"

# The protocol checks are mostly Python starting up, CPU time of the test VM,
# while the terminal part below mostly waits for top's refreshes: they run
# side by side, and protocol_checks' output is shown (and judged) at the end.
protocol_checks() {
	# Raw requests on the socket, one connection each, their replies one a line;
	# then vmm-schedctl against a server of another version, and against none.
	python3 - "$CTL_SOCK" "$TMP/raw.jsonl" "$BUILD/vmm-schedctl" "$TMP/other.sock" "$TMP/none.sock" \
		>"$TMP/exits" <<-'PY'
	import socket, subprocess, sys, threading
	sock, raw, ctl, other, none = sys.argv[1:6]
	with open(raw, "w") as f:
	    for req in ('{"version":2,"cmd":"status"}', '{"version":1,"cmd":"set","pid":1,"weight":0}',
	                '{"version":1,"cmd":"status",}'):
	        s = socket.socket(socket.AF_UNIX)
	        s.connect(sock)
	        s.sendall(req.encode() + b"\n")
	        out = b""
	        while True:
	            b = s.recv(65536)
	            if not b:
	                break
	            out += b
	        f.write(out.decode())
	srv = socket.socket(socket.AF_UNIX)
	srv.bind(other)
	srv.listen(1)
	def serve():
	    c, _ = srv.accept()
	    c.recv(4096)
	    c.sendall(b'{"version":2,"ok":true}\n')
	    c.close()
	t = threading.Thread(target=serve)
	t.start()
	for name, path in (("other", other), ("none", none)):
	    r = subprocess.run([ctl, "--socket", path, "status"], capture_output=True, text=True, timeout=60)
	    print(name, r.returncode, r.stderr.strip())
	    if name == "other":
	        t.join(10)
	PY
	for want in "control protocol version 2 is not supported: this daemon speaks version 1" \
		"'weight' must be an integer 1..10000" "the request is not valid JSON"; do
		grep -qF "$want" "$TMP/raw.jsonl" || fail "no reply says '$want': $(cat "$TMP/raw.jsonl")"
	done
	grep -q "^other 4 vmm-schedctl: vmm-schedd speaks control protocol version 2, this client speaks version 1" "$TMP/exits" ||
		fail "against a version 2 server: $(grep ^other "$TMP/exits")"
	grep -q "^none 4 vmm-schedctl: cannot reach vmm-schedd at $TMP/none.sock" "$TMP/exits" ||
		fail "without an agent: $(grep ^none "$TMP/exits")"
	step "ok: raw requests say what was wrong; another version and no agent exit 4"

	# Every output against the schema, and status replies with a field missing,
	# one the schema does not know and one of the wrong type, which must fail.
	jq -c 'del(.vms[0].name), (.scheduler.surprise = 1), (.vms[0].vcpus[0].wait_ns = "12")' \
		"$TMP/status.json" >"$TMP/bad.jsonl" || fail "jq could not make the broken replies"
	tests/tools/json-schema-check "$SCHEMA" reply_enroll "$TMP/enroll.json" reply_done "$TMP/set.json" \
		reply_place "$TMP/place.json" reply_status "$TMP/status.json" top_frame "$TMP/top.jsonl" \
		reply_error "$TMP/raw.jsonl" reply_status "$TMP/bad.jsonl" >"$TMP/checked" 2>&1
	rc=$?
	grep -v "^$TMP/bad.jsonl: " "$TMP/checked" && fail "not valid against the schema (above)"
	[ "$rc" = 1 ] || fail "the checker exited $rc, not 1 (for the broken replies): $(cat "$TMP/checked")"
	for want in "document 1: .*'name' is missing" "document 2: .*'surprise' is not in the schema" \
		"document 3: .*is not of type integer"; do
		grep -q "^$TMP/bad.jsonl: $want" "$TMP/checked" || fail "the checker did not say '$want': $(cat "$TMP/checked")"
	done
	step "ok: enroll, set, place, status, top --json and error replies match the schema; broken ones do not"
}
protocol_checks >"$TMP/protocol.out" 2>&1 &
PROTO_PID=$!

# Completion asks the agent for what is enrolled.
complete_words() { PATH=$BUILD:$PATH tests/tools/complete-words deploy/bash-completion/vmm-schedctl vmm-schedctl --socket "$CTL_SOCK" "$@" | paste -sd ' '; }
want=$(printf '%s\n' "${VM_PID[zeta]}" "${VM_PID[alpha]}" | sort | paste -sd ' ')
got=$(complete_words release '')
[ "$got" = "$want" ] || fail "release completes '$got', not '$want'"
want=$( (vm_tids zeta; vm_tids alpha) | sort | paste -sd ' ')
got=$(complete_words place '')
[ "$got" = "$want" ] || fail "place completes '$got', not '$want'"
step "ok: completion offers the VMs' pids and vCPU tids ($got)"

# Not a terminal: plain text, both VMs, no escape sequence.
ctl top --iterations 1 >"$TMP/top.txt" || fail "top without a terminal failed"
grep -q $'\e' "$TMP/top.txt" && fail "top without a terminal printed escape sequences"
grep -q "^A zeta " "$TMP/top.txt" && grep -q "^B alpha " "$TMP/top.txt" ||
	fail "top without a terminal does not list both VMs: $(cat "$TMP/top.txt")"
step "ok: top to a file is plain text"

# In a real terminal; then a host task on CPU 3, an intrusion into the enclave.
TERM=xterm-256color tmux -S "$TMUX_SOCK" new-session -d -x 110 -y 30 \
	"'$BUILD/vmm-schedctl' --socket '$CTL_SOCK' top; echo TOP-EXITED \$?; sleep 600"
screen() { tmux -S "$TMUX_SOCK" capture-pane -p "$@"; }
rows() { screen | sed -n 's/^[A-Z] \([a-z]*\) .*/\1/p' | paste -sd ' '; }
delivered() { screen | awk '/^[A-Z] [a-z]+ / { print $8 }' | paste -sd ' '; }
grid_has() { screen | grep -E '^ +[0-9]+ \[' | grep -q "$1"; }
both_on_grid() { grid_has 'A' && grid_has 'B'; }
wait_for 60 both_on_grid || fail "the grid never showed both VMs: $(screen)"
# tmux's escape for a VM's colour: a background 42..47
coloured() { screen -e | grep -E '^ +[0-9]+ \[' | grep -q $'\e\\[4[2-7]mA'; }
wait_for 10 coloured || fail "zeta has no colour on the grid: $(screen -e | cat -v)"
step "grid: $(screen | grep -E '^ +[0-9]+ \[' | paste -sd ' ')"
start_cpu_hog 3
host_marked() { screen | grep -qE ' 2 \[.\|H\]' && screen -e | grep -q $'\e\\[1m\e\\[37m\e\\[41mH'; }
wait_for 30 host_marked || fail "the grid never marked the host task on CPU 3 (H, in red): $(screen -e | cat -v)"
step "grid with a host task on CPU 3: $(screen | grep -E '^ +[0-9]+ \[' | paste -sd ' ')"
tmux -S "$TMUX_SOCK" send-keys n
sorted_by() { screen | grep -q "sort: $1"; }
wait_for 10 sorted_by name || fail "after n the header does not say 'sort: name': $(screen)"
[ "$(rows)" = "alpha zeta" ] || fail "sorted by name the rows are '$(rows)'"
tmux -S "$TMUX_SOCK" send-keys d
wait_for 10 sorted_by delivered || fail "after d the header does not say 'sort: delivered': $(screen)"
d=$(delivered)
echo "$d" | awk '{ exit !(NF == 2 && $1 + 0 >= $2 + 0) }' ||
	fail "sorted by delivered the rows are '$(rows)' with '$d'"
step "ok: n sorts by name, d by delivered: $(rows) at $d cores"
tmux -S "$TMUX_SOCK" send-keys q
top_quit() { screen | grep -q "TOP-EXITED"; }
wait_for 10 top_quit || fail "q did not end top: $(screen)"
screen | grep -q "TOP-EXITED 0" || fail "top exited with $(screen | sed -n 's/.*TOP-EXITED //p')"
step "ok: q quit top with status 0"
stop_cpu_hogs

wait "$PROTO_PID"
rc=$?
cat "$TMP/protocol.out"
[ "$rc" = 0 ] || fail "the protocol checks failed (above)"

ctl release "${VM_PID[alpha]}" --json >"$TMP/release.json" || fail "release --json failed"
grep -q '"ok":true' "$TMP/release.json" || fail "release --json printed: $(cat "$TMP/release.json")"
stop_vm zeta
stop_vm alpha
stop_schedd
