#!/bin/bash
# case-seconds: 20
# vmm-sched.conf: the agent runs with the file's settings, and options on the
# command line override the file's (here --control, given by start_schedd, and
# --target-latency-ms).
. "$(dirname "$0")/../lib.sh"

conf=$TMP/vmm-sched.conf
cat >"$conf" <<CONF
[scheduler]
cpus = 4-7
pairing = relaxed
slice-us = 2000
target-latency-ms = 7
core-cookie = refuse
default-weight = 300

[control]
socket = /nonexistent/control.sock

[agent]
ring-kb = 64
CONF
"$BUILD/vmm-schedd" --check-config "$conf" >/dev/null || fail "--check-config refused $conf"
start_paused_vm a 1 busy
start_schedd --config "$conf" --target-latency-ms 9
got=$(json_get 's["scheduler"]["pairing"], s["scheduler"]["slice_us"], s["scheduler"]["target_latency_ms"], s["scheduler"]["core_cookie"]')
[ "$got" = "relaxed 2000 9 refuse" ] ||
	fail "status says (pairing, slice_us, target_latency_ms, core_cookie) = '$got'; expected 'relaxed 2000 9 refuse'"
note "ok: file and command line merged: $got; the control socket is the command line's"
ctl enroll "${VM_PID[a]}" --name a >/dev/null || fail "enroll a failed"
w=$(json_get '[v["weight"] for v in s["vms"]]')
[ "$w" = "[300]" ] || fail "VM a enrolled without a weight has weight $w; expected the file's default-weight 300"
note "ok: default-weight from the file: $w"
resume_vm a
stop_vm a
stop_schedd
