#!/bin/bash
# case-seconds: 23
# Guest hints read correctly. The test VMM plays a guest hint driver (testvmm
# --hints, mode benign): vCPU 0 idle, vCPU 1 in a critical section through
# thread slot 5, vCPU 2 busy outside one. The agent must show exactly that per
# vCPU and the VM's hints "on"; on a one-core enclave, where the three busy
# vCPUs contend, the scheduler must act on them (critical-section extensions
# and idle hand-ons counted, extension time within its 3% budget, 5% allowed
# for tick overruns). Bad enrolments are refused with the reason and
# leave nothing enrolled: a missing file, a file smaller than the region.
. "$(dirname "$0")/../lib.sh"

start_schedd --cpus 0-1
start_paused_vm hb 3 busy --hints "$TMP/hints-hb"

out=$(ctl enroll "${VM_PID[hb]}" --name hb --hints "$TMP/no-such-file" 2>&1) &&
	fail "enroll with a missing hint file succeeded"
echo "$out" | grep -q "No such file" || fail "missing hint file: unclear error: $out"
truncate -s 4096 "$TMP/small-region"
out=$(ctl enroll "${VM_PID[hb]}" --name hb --hints "$TMP/small-region" 2>&1) &&
	fail "enroll with a 4 KiB hint file succeeded"
echo "$out" | grep -q "at least" || fail "small hint file: unclear error: $out"
[ "$(vm_count)" = 0 ] || fail "a refused enrolment left the VM enrolled"
note "refused: $out"

out=$(ctl enroll "${VM_PID[hb]}" --name hb --hints "$TMP/hints-hb" 2>&1) ||
	fail "enroll --hints failed: $out"
resume_vm hb

hints_read() {
	[ "$(json_get '";".join(v["hint"] for v in sorted(s["vms"][0]["vcpus"], key=lambda v: v["index"])) + "/" + s["vms"][0]["hints"]["state"]')" = "idle;cs;/on" ]
}
wait_for 90 hints_read ||
	fail "the hints shown are not the guest's (want idle;cs;/on): $(json_get '[(v["index"], v["hint"]) for v in s["vms"][0]["vcpus"]], s["vms"][0].get("hints")')"
note "per-vCPU hints: $(json_get '[(v["index"], v["hint"]) for v in s["vms"][0]["vcpus"]]')"

acted() { [ "$(json_get 's["vms"][0]["cs_extensions"] > 0 and s["vms"][0]["idle_handoffs"] > 0')" = True ]; }
wait_for 60 acted || fail "the scheduler did not act on the hints: $(json_get '{k: s["vms"][0][k] for k in ("cs_extensions", "cs_extended_ns", "idle_handoffs", "run_ns")}')"
note "$(json_get '{k: s["vms"][0][k] for k in ("cs_extensions", "cs_extended_ns", "idle_handoffs", "directed_yields", "run_ns")}')"
[ "$(json_get 's["vms"][0]["hints"]["disables"]')" = 0 ] || fail "a benign region was disabled"
[ "$(json_get 's["vms"][0]["cs_extended_ns"] <= 0.05 * s["vms"][0]["run_ns"]')" = True ] ||
	fail "extensions beyond the 3% budget (5% allowed for tick overruns)"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)'"

stop_vm hb
stop_schedd
