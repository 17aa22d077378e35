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
 * What the reservations claim of the core (vs_reserve_scan, bpf/rules/reserve.h)
 * among the same candidates as pick_owed_vm, into @r. A loop of its own and
 * @r behind a pointer: the verifier tracks no more state in pick_owed_vm's
 * scan, which sits near the 1M-instruction limit within dispatch.
 */
__noinline int pick_reserved_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owned_cores *oc,
				struct vs_reserve_scan *r)
{
	u32 vm;

	if (!oc || !r)
		return 0;
	bpf_for(vm, 0, VS_MAX_VMS)
	{
		s32 queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));
		enum vs_reserve_claim claim;

		if (queued <= 0 && (s32)vm != prev_vm)
			continue;
		if (vm_enclave(vm) != enclave)
			continue;
		if (caps_in_use && !vm_within_cap(vm, oc, (s32)vm == this_owner))
			continue;
		claim = vm_reserve_claim(vm, oc, queued, (s32)vm == this_owner);
		if (claim != VS_RES_NONE)
			vs_reserve_scan_add(r, vm, queued, (s32)vm == prev_vm, claim);
	}
	return 0;
}

/*
 * Global, so the verifier checks it once rather than at every call site
 * (checked as part of dispatch, it took dispatch past the 1M-instruction
 * limit).
 */
__noinline int pick_owed_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owned_cores *oc,
			    struct owed_pick *out)
{
	struct vs_owed_choice chosen;
	struct vs_reserve_scan rs;
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
		vs_owed_scan_add(&scan, vm, queued, (s32)vm == prev_vm, vs->vtime,
				 vs->waiting_since, now);
	}
	vs_reserve_scan_init(&rs);
	if (reserves_in_use)
		pick_reserved_vm(prev_vm, this_owner, enclave, oc, &rs);
	chosen = vs_owed_scan_choose(&scan, &rs, enclave_pair_window_ns(enclave));
	out->vm = chosen.vm;
	out->nr_queued = chosen.nr_queued;
	out->starved = chosen.starved;
	out->reserved = chosen.reserved;
	out->for_pair = chosen.for_pair;
	return 0;
}
