#!/bin/bash
# case-seconds: 560
# case-vm-mem: 6G
# case-timeout: 2400
# A fleet: FLEET_VMS (512) one-vCPU test VMs enrolled at once, 4 busy and the
# rest mostly halted: all make progress, status lists them all, one more is
# refused at --max-vms with the error naming the limit and the setting and
# nothing enrolled is disturbed, and releasing returns them all to
# SCHED_OTHER. On the way, the BPF cost per call at 16 and at FLEET_VMS VMs
# (make bench-dispatch measures it longer); reported, never judged.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../fleet.sh"
n=${FLEET_VMS:-512}
# One testvmm (release build) and its KVM VM: about 5 MB in the test VM (2.8 GB
# of 5.9 GB used at 512).
need_kb=$((n * 6 * 1024))
have_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
[ "$have_kb" -ge "$need_kb" ] ||
	fail "$n test VMs need about $((need_kb / 1024)) MB, the test VM has $((have_kb / 1024)) MB: boot it with tests/vm/run --mem 6G (the case's 'case-vm-mem' line)"

busy=4
start_schedd --cpus 0-7 --max-vms "$n"
fleet_two_sizes 16 "$n" "$busy" 5
note "$n VMs started and enrolled, measured at 16 and $n (${SECONDS} s)"
note "one testvmm: $(grep -E '^(VmRSS|RssAnon)' "/proc/${VM_PID[idle0]}/status" | tr -s ' \t\n' ' ')"
note "test VM memory: $(free -m | sed -n 's/^Mem: *\([0-9]*\) *\([0-9]*\).*/\2 of \1 MB used/p')"

fleet_expect_listed "all $n enrolled" "${FLEET[@]}"
fleet_expect_policy 7 "all $n enrolled" "${FLEET[@]}"
fleet_progress 10 "${FLEET[@]}"
note "all listed, in SCHED_EXT, made progress (${SECONDS} s)"
note "wake latency in the guests so far (the worst VMs' max, us): $(fleet_worst_wake "${FLEET[@]}")"
note "queued-VM bits the safety net had to set again (vm_bit_repairs): $(sched_counter vm_bit_repairs)"
note "VMs it put back into their enclave's heaps (vm_heap_repairs): $(sched_counter vm_heap_repairs)"

# One more: refused, naming the limit and the setting; the fleet undisturbed.
fleet_start extra 1 busy
out=$(ctl enroll "${VM_PID[extra0]}" --name extra0 2>&1) && fail "VM $((n + 1)) was enrolled under --max-vms $n: $out"
note "refused: $out"
case "$out" in
*"VM limit reached: $n of $n VMs enrolled (--max-vms / max-vms in vmm-sched.conf); release one or raise the limit"*) ;;
*) fail "the refusal does not name the limit and the setting: $out" ;;
esac
fleet_expect_policy 0 "the refused VM" extra0
fleet_expect_listed "after the refusal" "${FLEET[@]:0:n}"
fleet_expect_policy 7 "after the refusal" "${FLEET[@]:0:n}"
fleet_progress 6 "${FLEET[@]:0:n}"

note "the refusal checked (${SECONDS} s)"
# The busy VMs last. A released VM's threads are host tasks on the enclave
# (here every CPU), and with strict pairing no vCPU starts beside one: four
# busy VMs released first, one on each core, left the other VMs' vCPUs no
# thread until their release, and a slow test VM took over the kernel's 30 s
# watchdog to release 195 of them (the scheduler was disabled).
fleet_release "${FLEET[@]:busy:n-busy}" "${FLEET[@]:0:busy}"
[ "$(vm_count)" = 0 ] || fail "status lists $(vm_count) VMs after releasing all"
fleet_expect_policy 0 "all released" "${FLEET[@]:0:n}"
stop_schedd
fleet_stop "${FLEET[@]}"
note "released and stopped (${SECONDS} s)"
