#!/bin/bash
# case-seconds: 46
# --max-vms 2: two test VMs are enrolled, the third is refused with an error
# naming the limit and the setting, and the first two are not disturbed: they
# stay listed in status, in SCHED_EXT, and keep making progress.
. "$(dirname "$0")/../lib.sh"

for vm in a b c; do start_paused_vm $vm 1 busy; done
start_schedd --cpus 0-7 --max-vms 2
enroll_vm a
enroll_vm b
declare -A u0
for vm in a b; do u0[$vm]=$(progress $vm 0 units); done

out=$(ctl enroll "${VM_PID[c]}" --name c 2>&1) && fail "a third VM was enrolled under --max-vms 2: $out"
note "refused: $out"
case "$out" in
*"VM limit reached: 2 of 2 VMs enrolled (--max-vms / max-vms in vmm-sched.conf); release one or raise the limit"*) ;;
*) fail "the refusal does not name the limit and the setting: $out" ;;
esac
resume_vm c
[ "$(thread_policy "$(vm_tids c)")" = 0 ] || fail "the refused VM's vCPU thread left SCHED_OTHER"

[ "$(vm_count)" = 2 ] || fail "status lists $(vm_count) VMs, not 2"
[ "$(json_get 'sorted(v["name"] for v in s["vms"])')" = "['a', 'b']" ] ||
	fail "status lists $(json_get '[v["name"] for v in s["vms"]]'), not a and b"
sleep 4
for vm in a b; do
	tid=$(vm_tids $vm)
	[ "$(thread_policy "$tid")" = 7 ] || fail "vCPU of $vm left SCHED_EXT after the refusal"
	u1=$(progress $vm 0 units)
	note "$vm: units ${u0[$vm]} -> $u1"
	[ "$u1" -gt "${u0[$vm]}" ] || fail "$vm made no progress after the third VM was refused"
done

# A release makes room again.
ctl release "${VM_PID[b]}" >/dev/null || fail "release of b failed"
out=$(ctl enroll "${VM_PID[c]}" --name c 2>&1) || fail "c was refused after b was released: $out"
[ "$(vm_count)" = 2 ] || fail "status lists $(vm_count) VMs after the swap, not 2"

stop_schedd
for vm in a b c; do stop_vm $vm; done
