/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM owed a core most (pick_owed_vm).
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * The runnable VM of @enclave owed a core most (vs_owed_scan, bpf/rules/owed_scan.h):
 * the candidates are the VMs with queued vCPUs (or whose vCPU @prev_vm is
 * still runnable on this CPU) that are under their cap (@oc: the caller's
 * count_owned_cores()), counting this core if they own it (@this_owner).
 */
struct owed_pick {
	s32 vm;	       /* VS_VM_NONE: nobody is owed a core */
	u32 nr_queued; /* its queued vCPUs */
	bool starved;  /* chosen because it starved */
	bool reserved; /* chosen for its reservation (keeps the core, or is short) */
	bool for_pair; /* chosen over the VM owed most, for its two vCPUs */
};

/*
 * Global, so the verifier checks it once rather than at every call site
 * (checked as part of dispatch, it took dispatch past the 1M-instruction
 * limit).
 */
__noinline int pick_owed_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owned_cores *oc,
			    struct owed_pick *out)
{
	struct vs_owed_choice chosen;
	struct vs_owed_scan scan;
	u64 now = bpf_ktime_get_ns();
	u32 vm;

	if (!oc || !out)
		return 0;
	vs_owed_scan_init(&scan);
	bpf_for(vm, 0, VS_MAX_VMS)
	{
		struct vs_vm_state *vs;
		s32 queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));

		if (queued <= 0 && (s32)vm != prev_vm)
			continue;
		if (vm_enclave(vm) != enclave)
			continue;
		if (caps_in_use && !vm_within_cap(vm, oc, (s32)vm == this_owner))
			continue;
		vs = vm_state_of(vm);
		if (!vs)
			continue;
		vs_owed_scan_add(&scan, vm, queued, (s32)vm == prev_vm, vs->vtime, vs->last_run_ns,
				 vs->queued_since, now,
				 vm_reserve_claim(vm, oc, queued, (s32)vm == this_owner));
	}
	chosen = vs_owed_scan_choose(&scan, enclave_pair_window_ns(enclave));
	out->vm = chosen.vm;
	out->nr_queued = chosen.nr_queued;
	out->starved = chosen.starved;
	out->reserved = chosen.reserved;
	out->for_pair = chosen.for_pair;
	return 0;
}
