#!/bin/bash
# case-seconds: 70
# The control socket never blocks the agent: while one client sends a byte
# every 1.5 s (slowloris) and 17 connect and send nothing (all reconnecting
# when dropped), status answers within seconds, a status reply bigger than
# the socket buffer reaches a client that reads it slowly whole, a VM that
# exits is noticed at the next rescan, and SIGTERM is handled within a second
# with every thread given back.
. "$(dirname "$0")/../lib.sh"

ATTACK_PID=
stop_attack() { [ -n "$ATTACK_PID" ] && kill "$ATTACK_PID" 2>/dev/null && wait "$ATTACK_PID" 2>/dev/null; ATTACK_PID=; }
trap 'stop_attack; cleanup' EXIT

start_paused_vm a 2 busy
start_paused_vm b 1 busy
declare -A before_aff
for vm in a b; do
	for tid in $(vm_tids $vm); do before_aff[$tid]=$(thread_affinity "$tid"); done
done
start_schedd --cpus 4-7 --pid "${VM_PID[a]}:a" --pid "${VM_PID[b]}:b"
resume_vm a
resume_vm b

t0=$EPOCHREALTIME
out=$(ctl status 2>&1) || fail "status failed before the attack: $out"
note "status answered in $(python3 -c "print(int(($EPOCHREALTIME - $t0) * 1000))") ms before the attack"

python3 - "$CTL_SOCK" >"$TMP/attack.log" 2>&1 <<'PY' &
import socket, sys, time
path = sys.argv[1]
def conn():
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.1)
idle = [conn() for _ in range(17)]
slow, nbytes, t = conn(), 0, 0.0
print("attacking", flush=True)
while True:
    now = time.monotonic()
    if now - t >= 1.5:
        t = now
        try:
            slow.send(b"{"[:1] if nbytes == 0 else b" ")
            nbytes += 1
        except OSError:
            slow, nbytes = conn(), 0
    # Reconnect whatever the agent dropped: the attack never lets up.
    for i, s in enumerate(idle):
        s.setblocking(False)
        try:
            if s.recv(1024) == b"":
                raise OSError
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            idle[i] = conn()
    time.sleep(0.1)
PY
ATTACK_PID=$!
wait_for 60 grep -q attacking "$TMP/attack.log" || fail "the attacking client did not start: $(cat "$TMP/attack.log")"
nap 3 # the agent now holds (or has dropped) every attacking connection at least once

for i in 1 2 3 4 5; do
	t0=$EPOCHREALTIME
	out=$(ctl status 2>&1) || fail "status $i failed under the attack: $out"
	ms=$(python3 -c "print(int(($EPOCHREALTIME - $t0) * 1000))")
	note "status $i answered in $ms ms under the attack"
	[ "$ms" -lt 5000 ] || fail "status $i took $ms ms under the attack"
	nap 1
done

# A reply bigger than the socket's buffer, to a client that pauses for 3 s
# after its first bytes, arrives whole (the agent writes it as the client reads).
start_paused_vm big 28 busy # 28 more vCPUs in the status reply
ctl enroll "${VM_PID[big]}" --name big >/dev/null || fail "enrolling VM big failed"
wmem=$(sysctl -n net.core.wmem_default)
sysctl -qw net.core.wmem_default=4608
out=$(python3 - "$CTL_SOCK" <<'PY' 2>&1
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"version":1,"cmd":"status"}\n')
data = s.recv(256)
time.sleep(3)
while True:
    chunk = s.recv(256)
    if not chunk:
        break
    data += chunk
    time.sleep(0.002)
reply = json.loads(data)
print(len(data), reply["ok"], len(reply["vms"]))
PY
)
sysctl -qw net.core.wmem_default="$wmem"
set -- $out
[ "${2:-}" = True ] && [ "${3:-}" = 3 ] || fail "a slowly read status reply did not arrive whole: $out"
[ "$1" -gt 4608 ] || fail "the status reply ($1 bytes) is not bigger than the socket buffer: the test proves nothing"
note "a $1-byte status reply, read slowly through a 4608-byte socket buffer, arrived whole"
ctl release "${VM_PID[big]}" >/dev/null || fail "release of VM big failed"
stop_vm big

counts=$(json_get 's["control"]["timed_out"], s["control"]["dropped_when_full"]')
note "attacking connections timed out, dropped when full: $counts"
[ "$counts" != "(0, 0)" ] || fail "status says no attacking connection was dropped: $counts"

# A VM that exits is noticed at the next rescan (once a second), not after the attack.
kill -TERM "${VM_PID[b]}"
wait "${VM_PID[b]}"
unset "VM_PID[b]"
t0=$EPOCHSECONDS
wait_for 30 grep -q "VM 'b' (pid [0-9]*) exited" "$SCHEDD_LOG" || fail "the exit of VM b was not noticed in 30 s"
note "VM b's exit noticed after $((EPOCHSECONDS - t0)) s"
[ $((EPOCHSECONDS - t0)) -le 5 ] || fail "the exit of VM b was noticed only after $((EPOCHSECONDS - t0)) s"

# SIGTERM under the attack: handled within a second, threads restored.
from=$(($(wc -l <"$SCHEDD_LOG") + 1))
t0=$EPOCHREALTIME
kill -TERM "$SCHEDD_PID"
stopping() { tail -n +$from "$SCHEDD_LOG" | grep -q "signal 15: stopping"; }
wait_for 30 stopping || fail "vmm-schedd did not handle SIGTERM in 30 s under the attack"
ms=$(python3 -c "print(int(($EPOCHREALTIME - $t0) * 1000))")
note "SIGTERM handled after $ms ms under the attack"
[ "$ms" -lt 1500 ] || fail "SIGTERM was handled only after $ms ms under the attack"
wait "$SCHEDD_PID"
rc=$?
SCHEDD_PID=
[ "$rc" = 0 ] || fail "vmm-schedd exited with $rc: $(tail -n 20 "$SCHEDD_LOG")"
ms=$(python3 -c "print(int(($EPOCHREALTIME - $t0) * 1000))")
note "vmm-schedd exited $ms ms after SIGTERM (threads restored, scheduler unloaded)"
[ "$ms" -lt 10000 ] || fail "vmm-schedd took $ms ms to exit after SIGTERM under the attack"
stop_attack
for tid in $(vm_tids a); do
	[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid has policy $(thread_policy "$tid") after the stop"
	[ "$(thread_affinity "$tid")" = "${before_aff[$tid]}" ] || fail "thread $tid kept affinity $(thread_affinity "$tid")"
done
grep -q "control: dropped" "$SCHEDD_LOG" || fail "the agent did not log the connections it dropped"
note "$(grep -c 'control: dropped' "$SCHEDD_LOG") rate-limited lines about dropped connections"
stop_vm a
