#!/bin/bash
# case-seconds: 166
# Three test VMs with 2 vCPUs each on an enclave of 4 cores (8 threads): all
# vCPUs are enrolled into SCHED_EXT under vmm_sched, every vCPU makes progress,
# and after vmm-schedd stops every thread is back in the fair class with its old
# affinity and the VMs still run.
. "$(dirname "$0")/../lib.sh"

# Paused until vmm-schedd runs: busy guests make its start (BPF load under
# TCG) several times slower.
start_paused_vm busy 2 busy
start_paused_vm duty 2 duty --run-us 500 --block-us 1000
start_paused_vm lock 2 lock --hold-us 50
declare -A before_aff
for vm in busy duty lock; do
	for tid in $(vm_tids $vm); do before_aff[$tid]=$(thread_affinity "$tid"); done
done

start_schedd --cpus 0-7 --pid "${VM_PID[busy]}:busy" --pid "${VM_PID[duty]}:duty" \
	--pid "${VM_PID[lock]}:lock"
for vm in busy duty lock; do resume_vm $vm; done
[ "$(sched_ext_state)" = enabled ] || fail "sched_ext state is '$(sched_ext_state)', not enabled"
[ "$(sched_ext_ops)" = vmm_sched ] || fail "the loaded scheduler is '$(sched_ext_ops)', not vmm_sched"
[ "$(json_get 'sum(len(v["vcpus"]) for v in s["vms"])')" = 6 ] || fail "status does not list 6 vCPUs"
for vm in busy duty lock; do
	for tid in $(vm_tids $vm); do
		[ "$(thread_policy "$tid")" = 7 ] || fail "vCPU thread $tid of $vm has policy $(thread_policy "$tid"), not SCHED_EXT (7)"
		[ "$(thread_affinity "$tid")" = 0-7 ] || fail "vCPU thread $tid of $vm has affinity $(thread_affinity "$tid")"
	done
done

# Progress under the scheduler: guest-side counters and the scheduler's own.
declare -A u0
for vm in busy duty lock; do
	for i in 0 1; do u0[$vm.$i]=$(progress $vm $i units); done
done
sleep 6
for vm in busy duty lock; do
	for i in 0 1; do
		u1=$(progress $vm $i units)
		note "$vm vCPU $i: units ${u0[$vm.$i]} -> $u1"
		[ "$u1" -gt "${u0[$vm.$i]}" ] || fail "$vm vCPU $i made no progress under vmm_sched ($u1 units)"
	done
done
[ "$(progress duty 0 halts)" -gt 0 ] || fail "duty vCPU 0 never halted"
[ "$(progress lock 0 acq)" -gt 0 ] || [ "$(progress lock 1 acq)" -gt 0 ] || fail "no lock vCPU acquired the lock"
runs=$(json_get 'min(c["runs"] for v in s["vms"] for c in v["vcpus"])')
[ "$runs" -gt 0 ] || fail "some vCPU never ran according to the scheduler (min runs $runs)"
ctl status | sed 's/^/  /'

stop_schedd
grep -q "released 3 VMs (6 vCPU threads)" "$SCHEDD_LOG" || fail "vmm-schedd did not report releasing all vCPUs"
[ "$(sched_ext_state)" = disabled ] || fail "sched_ext still '$(sched_ext_state)' after vmm-schedd stopped"
for vm in busy duty lock; do
	for tid in $(vm_tids $vm); do
		[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid of $vm has policy $(thread_policy "$tid") after release, not SCHED_OTHER"
		[ "$(thread_affinity "$tid")" = "${before_aff[$tid]}" ] || fail "thread $tid of $vm kept affinity $(thread_affinity "$tid")"
	done
done
for vm in busy duty lock; do u0[$vm]=$(progress $vm 0 units); done
sleep 2
for vm in busy duty lock; do
	[ "$(progress $vm 0 units)" -gt "${u0[$vm]}" ] || fail "$vm stopped running after vmm-schedd stopped"
	stop_vm $vm
done
