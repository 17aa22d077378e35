/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM owed a core most (pick_owed_vm).
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * The runnable VM of @enclave owed a core most: lowest vtime among VMs with queued vCPUs
 * (or whose vCPU @prev_vm is still runnable on this CPU) that are under their
 * cap (@oc: the caller's count_owned_cores()), unless they already own this
 * core (@this_owner). A starved VM comes first; a VM with two vCPUs to run
 * wins a near tie (vs_owed_pick).
 */
struct owed_pick {
	s32 vm;	       /* VS_VM_NONE: nobody is owed a core */
	u32 nr_queued; /* its queued vCPUs */
	bool starved;  /* chosen because it starved */
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
	struct vs_owed best = {VS_VM_NONE, (u64)-1}, pair = {VS_VM_NONE, (u64)-1};
	u64 now = bpf_ktime_get_ns(), oldest = (u64)-1;
	s32 starved = VS_VM_NONE, chosen;
	u32 nr_starved = 0, nr_best = 0, nr_pair = 0;
	u32 vm;

	if (!oc || !out)
		return 0;
	bpf_for(vm, 0, VS_MAX_VMS)
	{
		struct vs_vm_state *vs;
		s32 queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)), runnable;

		if (queued <= 0 && (s32)vm != prev_vm)
			continue;
		if (vm_enclave(vm) != enclave)
			continue;
		if (caps_in_use && !vm_within_cap(vm, oc, (s32)vm == this_owner))
			continue;
		vs = vm_state_of(vm);
		if (!vs)
			continue;
		if (queued < 0)
			queued = 0;
		if (queued > 0 && vs->last_run_ns && now > vs->last_run_ns + STARVED_NS &&
		    vs->last_run_ns < oldest) {
			oldest = vs->last_run_ns;
			starved = vm;
			nr_starved = queued;
		}
		if (vs->vtime < best.vtime) {
			best = (struct vs_owed){vm, vs->vtime};
			nr_best = queued;
		}
		runnable = queued + ((s32)vm == prev_vm);
		if (runnable >= 2 && vs->vtime < pair.vtime) {
			pair = (struct vs_owed){vm, vs->vtime};
			nr_pair = queued;
		}
	}
	out->starved = starved >= 0;
	out->for_pair = false;
	if (starved >= 0) {
		out->vm = starved;
		out->nr_queued = nr_starved;
		return 0;
	}
	chosen = vs_owed_pick(&best, &pair, enclave_pair_window_ns(enclave));
	out->vm = chosen;
	out->for_pair = chosen != best.vm;
	out->nr_queued = out->for_pair ? nr_pair : nr_best;
	return 0;
}
