#!/bin/bash
# case-seconds: 88
# A lying or hostile guest spends only its own share. Four busy VMs of equal
# weight (4 vCPUs each) on an enclave of 2 cores (CPUs 0-3), as in `weights`:
#   plain    publishes nothing
#   liar     claims a critical section on every vCPU, always (valid hints:
#            the scheduler extends its slices within its budget)
#   hostile  every 2 s a new boot and the next attack: random bytes, torn
#            writes (a seqcount left odd), wrong magic, a huge vCPU count,
#            idle flapping (not a fault: its idle hints go unused, counted
#            in idle_flaps), a bad ABI version
#   flapper  every vCPU idle, its idle changes counted at 10,000/s: too fast to
#            believe, yet not malformed: its hints stay on (no disable), each
#            vCPU's idle hint goes unused (status shows none idle) and
#            idle_flaps counts each vCPU going over the limit
# Over a WINDOW_SECS (default 40) window each VM's share of the vCPU time must
# be within +-10% of 1/4 (the weights case's tolerance): the liar gets no more
# than its entitlement, the others keep theirs. The agent keeps running, turns
# the hostile VM's hints off (at least twice: a new boot may turn them on
# again after 10 s) with a log line naming the fault, counts it in status, and
# the liar's extension time stays within its 3% budget (5% allowed for tick
# overruns).
. "$(dirname "$0")/../lib.sh"

WINDOW_SECS=${WINDOW_SECS:-40}
names=(plain liar hostile flapper)

start_schedd --cpus 0-3
start_paused_vm plain 4 busy
start_paused_vm liar 4 busy --hints "$TMP/hints-liar" --hints-mode cs-forever
start_paused_vm hostile 4 busy --hints "$TMP/hints-hostile" --hints-mode hostile
start_paused_vm flapper 4 busy --hints "$TMP/hints-flapper" --hints-mode flap
for vm in "${names[@]}"; do
	hints=()
	[ "$vm" = plain ] || hints=(--hints "$TMP/hints-$vm")
	out=$(ctl enroll "${VM_PID[$vm]}" --name "$vm" --weight 100 "${hints[@]}" 2>&1) ||
		fail "vmm-schedctl enroll $vm failed: $out"
done
for vm in "${names[@]}"; do resume_vm "$vm"; done

sleep 5
ctl status --json >"$TMP/snap0.json" || fail "status failed"
sleep "$WINDOW_SECS"
ctl status --json >"$TMP/snap1.json" || fail "status failed"
kill -0 "$SCHEDD_PID" 2>/dev/null || fail "vmm-schedd died: $(tail -n 20 "$SCHEDD_LOG")"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)', not enabled"
ctl status | sed -n '/^VM  *HINTS/,/^$/p' | sed 's/^/  /'
grep "guest hint region" "$SCHEDD_LOG" | head -n 3 | sed 's/^/  log: /'
grep -q "VM 'hostile': guest hint region .*hints off for this VM" "$SCHEDD_LOG" ||
	fail "no log line turned the hostile VM's hints off"

python3 - "$TMP" <<'PY' || fail "a VM's share is off, or the hints were not handled as expected"
import json, sys
tmp = sys.argv[1]
s0, s1 = (json.load(open(f"{tmp}/snap{n}.json")) for n in (0, 1))
v0 = {v["name"]: v for v in s0["vms"]}
v1 = {v["name"]: v for v in s1["vms"]}
names = ["plain", "liar", "hostile", "flapper"]
d = {n: v1[n]["run_ns"] - v0[n]["run_ns"] for n in names}
tot = sum(d.values())
ok = tot > 0
print("  VM       share  rel.err  cs_ext  cs_ext_ms  hints  disables  idle_flaps")
for n in names:
    got = d[n] / tot if tot else 0
    err = (got - 1 / len(names)) * len(names)
    h = v1[n].get("hints", {})
    bad = abs(err) > 0.10
    ok = ok and not bad
    print(f"  {n:8} {got:5.3f}  {err:+7.1%}  {v1[n]['cs_extensions'] - v0[n]['cs_extensions']:6}"
          f"  {(v1[n]['cs_extended_ns'] - v0[n]['cs_extended_ns']) / 1e6:9.1f}  {h.get('state', '-'):5}"
          f"  {h.get('disables', '-'):8}  {h.get('idle_flaps', '-')}{'  <-- off' if bad else ''}")
liar_ext = v1["liar"]["cs_extended_ns"] - v0["liar"]["cs_extended_ns"]
print(f"  liar: extensions {liar_ext / 1e6:.1f} ms = {liar_ext / d['liar']:.1%} of its vCPU time {d['liar'] / 1e9:.1f} s" if d["liar"] else "  liar: no vCPU time")
if v1["liar"]["hints"]["state"] != "on" or v1["liar"]["cs_extensions"] == 0:
    print("  the liar's valid hints were not used"); ok = False
if liar_ext > 0.05 * d["liar"]:
    print(f"  the liar's extensions ({liar_ext / 1e6:.1f} ms) exceed 5% of its time"); ok = False
if v1["hostile"]["hints"]["disables"] < 2 or s1["hint_disables"] < 2:
    print("  the hostile region was not turned off at least twice"); ok = False
fl = v1["flapper"]["hints"]
idle_vcpus = [v["index"] for v in v1["flapper"]["vcpus"] if "idle" in v["hint"].split(",")]
print(f"  flapper: hints {fl['state']}, disables {fl['disables']}, idle_flaps {fl['idle_flaps']}, "
      f"vCPUs with an idle hint {len(idle_vcpus)} of {len(v1['flapper']['vcpus'])}")
if fl["state"] != "on" or fl["disables"] != 0:
    print("  the flapping guest's hints were turned off (flapping is not malformed)"); ok = False
if fl["idle_flaps"] < len(v1["flapper"]["vcpus"]):
    print("  idle_flaps does not count each flapping vCPU going over the limit"); ok = False
if idle_vcpus:
    print(f"  the flapping guest's idle was believed (vCPUs {idle_vcpus})"); ok = False
if v1["hostile"]["cs_extensions"] > 0 and v1["hostile"]["cs_extended_ns"] > 0.05 * v1["hostile"]["run_ns"]:
    print("  the hostile VM got extensions beyond its budget"); ok = False
sys.exit(0 if ok else 1)
PY

for vm in "${names[@]}"; do stop_vm "$vm"; done
stop_schedd
