#!/bin/bash
# case-seconds: 30
# Guest hints read correctly. The test VMM plays a guest hint driver (testvmm
# --hints, mode benign): vCPU 0 idle, vCPU 1 in a critical section through
# thread slot 5, vCPU 2 busy outside one. The agent must show exactly that per
# vCPU and the VM's hints "on"; on a one-core enclave, where the three busy
# vCPUs contend, the scheduler must act on them (critical-section extensions
# and idle hand-ons counted, extension time within its 3% budget, 5% allowed
# for tick overruns). Bad enrolments are refused with the reason and
# leave nothing enrolled: a missing file, a file smaller than the region.
# The host part: a region reached through a second hard link is read but
# never written (a VMM could link a system file there); the real file gets
# the host mark the guest driver binds to and per-vCPU host-to-guest slots.
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

# region_u32 OFF: the little-endian 32-bit word at byte OFF of the hint file.
region_u32() { od -An -tu4 -j "$1" -N4 "$TMP/hints-hb" | tr -d ' '; }
HOST_MARK_OFF=$((0x24000)) H2G_OFF=$((0x20000))

ln "$TMP/hints-hb" "$TMP/hints-hb-link"
out=$(ctl enroll "${VM_PID[hb]}" --name hb --hints "$TMP/hints-hb-link" 2>&1) ||
	fail "enroll --hints through a hard link failed (it should only refuse to write): $out"
host_part=$(json_get 's["vms"][0]["hints"]["host_part"]')
echo "$host_part" | grep -q "hard link" || fail "a hard-linked region: host_part is '$host_part', want the hard-link refusal"
[ "$(region_u32 $HOST_MARK_OFF)" = 0 ] || fail "the agent stamped a hard-linked region"
ctl release "${VM_PID[hb]}" >/dev/null || fail "release of VM hb failed"
rm "$TMP/hints-hb-link"
note "hard link: host part not written: $host_part"

out=$(ctl enroll "${VM_PID[hb]}" --name hb --hints "$TMP/hints-hb" 2>&1) ||
	fail "enroll --hints failed: $out"
[ "$(json_get 's["vms"][0]["hints"]["host_part"]')" = written ] ||
	fail "host part not written: $(json_get 's["vms"][0]["hints"]')"
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

# The mark: "PVHH" (0x48485650), the ABI version, 3 vCPUs.
marked() { [ "$(region_u32 $HOST_MARK_OFF)" = $((0x48485650)) ]; }
wait_for 10 marked || fail "no host mark at 0x24000: $(od -An -tx4 -j $HOST_MARK_OFF -N16 "$TMP/hints-hb")"
[ "$(region_u32 $((HOST_MARK_OFF + 8)))" = 3 ] || fail "host mark: vCPU count $(region_u32 $((HOST_MARK_OFF + 8))), want 3"
# Busy vCPUs contending for one core get preempted: some host-to-guest slot says so.
preempted() {
	for i in 0 1 2; do
		seq=$(region_u32 $((H2G_OFF + 64 * i)))
		lo=$(region_u32 $((H2G_OFF + 64 * i + 8)))
		[ $((seq % 2)) = 0 ] && [ "$seq" -gt 0 ] && [ "$lo" -gt 0 ] && return 0
	done
	return 1
}
wait_for 30 preempted || fail "no host-to-guest slot shows preemptions: $(od -An -tu4 -j $H2G_OFF -N192 "$TMP/hints-hb")"
# vCPU 1's critical sections were extended: its slot says how often and how long.
extended() {
	local seq ext
	seq=$(region_u32 $((H2G_OFF + 64)))
	ext=$(region_u32 $((H2G_OFF + 64 + 16)))
	[ $((seq % 2)) = 0 ] && [ "$ext" -gt 0 ] && [ "$(region_u32 $((H2G_OFF + 64 + 24)))" -gt 0 ]
}
wait_for 30 extended || fail "vCPU 1's host-to-guest slot shows no extensions: $(od -An -tu4 -j $((H2G_OFF + 64)) -N32 "$TMP/hints-hb")"
[ "$(region_u32 $((H2G_OFF + 16)))" = 0 ] && [ "$(region_u32 $((H2G_OFF + 128 + 16)))" = 0 ] ||
	fail "vCPUs 0 and 2, never in a critical section, show extensions"
note "vCPU 1 slot: seq flags preempt extensions extended_ns: $(od -An -tu4 -j $((H2G_OFF + 64)) -N28 "$TMP/hints-hb")"
note "per-vCPU extensions in status: $(json_get '[(v["index"], v["cs_extensions"]) for v in s["vms"][0]["vcpus"]]')"
note "host part: mark $(od -An -tx4 -j $HOST_MARK_OFF -N16 "$TMP/hints-hb"), slot words $(od -An -tu4 -j $H2G_OFF -N16 "$TMP/hints-hb")"
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)'"

stop_vm hb
stop_schedd
