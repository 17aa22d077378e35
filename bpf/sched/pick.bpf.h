/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM owed a core most (pick_owed_vm).
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * The runnable VM of @enclave owed a core most (vs_owed_scan, bpf/rules/owed_scan.h):
 * the candidates are the VMs with queued vCPUs (or whose vCPU @prev_vm is
 * still runnable on this CPU) that are under their cap (vm_owned_cores),
 * counting this core if they own it (@this_owner).
 */
struct owed_pick {
	s32 vm;	       /* VS_VM_NONE: nobody is owed a core */
	u32 nr_queued; /* its queued vCPUs */
	bool starved;  /* chosen because it starved */
	bool reserved; /* chosen for its reservation (keeps the core, or is short) */
	bool for_pair; /* chosen over the VM owed most, for its two vCPUs */
};

/* The two folds over the candidates, one pointer (a global function takes five arguments). */
struct pick_scans {
	struct vs_owed_scan owed;
	struct vs_reserve_scan reserved;
};

/*
 * Offers @vm to @scans if it has vCPUs to run here: to the owed scan, and
 * to the reservations' (vs_reserve_scan, bpf/rules/reserve.h) if it has a
 * claim; clears its bit if it has none. Global, so the verifier checks it
 * once for any VM id rather than once per id the bitmap loop could produce.
 */
__noinline int offer_vm(struct pick_scans *scans, u32 vm, s32 prev_vm, s32 this_owner, u32 enclave)
{
	u64 now = bpf_ktime_get_ns(), at;
	struct vs_vm_state *vs;
	s32 queued;

	if (!scans || vm >= vs_max_vms)
		return 0;
	queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));
	if (queued <= 0 && (s32)vm != prev_vm) {
		at = vm_enqueued_at[vm & (VS_MAX_VMS - 1)];
		if (vs_vm_bit_stale(queued, false, vm_in_flight[vm & (VS_MAX_VMS - 1)], at, now))
			clear_vm_queued(vm, at);
		return 0;
	}
	if (vm_enclave(vm) != enclave)
		return 0;
	if (caps_in_use && !vm_within_cap(vm, (s32)vm == this_owner))
		return 0;
	vs = vm_state_of(vm);
	if (!vs)
		return 0;
	vs_owed_scan_add(&scans->owed, vm, queued, (s32)vm == prev_vm, vs->vtime, vs->waiting_since,
			 now);
	if (reserves_in_use) {
		enum vs_reserve_claim claim = vm_reserve_claim(vm, queued, (s32)vm == this_owner);

		if (claim != VS_RES_NONE)
			vs_reserve_scan_add(&scans->reserved, vm, queued, (s32)vm == prev_vm,
					    claim);
	}
	return 0;
}

/* Are @vm's bit (in word @w) and its word's summary bit set? */
static bool vm_bits_set(u32 vm, u32 w)
{
	return (*(volatile u64 *)&queued_vms[w] & vs_vm_bit(vm)) &&
	       (*(volatile u64 *)&queued_words & (1ULL << w));
}

/*
 * A safety net under the bitmap's clearing rules: each pick checks one more
 * VM id, in turn, and sets the bit of a VM found with queued vCPUs but no
 * bit (a lost bit would leave its vCPUs waiting until the VM's next insert,
 * or the kernel's watchdog). Each CPU walks the ids with a cursor of its own
 * (a shared one would be a cache line every dispatch writes), the CPUs'
 * starting points spread evenly over the ids; any one CPU checks every VM id
 * within vs_max_vms of its picks (milliseconds: a CPU picks several times per
 * slice). A repair is counted (vm_bit_repairs in status), so a lost bit shows.
 */
static void repair_vm_bit(struct vs_cpu_stats *cs, u32 cpu)
{
	u32 n = vs_max_vms ? vs_max_vms : 1;
	u32 spread = nr_cpus ? n / nr_cpus : 0;
	u32 vm = ((cs->vm_bit_cursor++ + cpu * spread) % n) & (VS_MAX_VMS - 1);
	u32 w = vs_vm_word(vm);

	if (vm_bits_set(vm, w))
		return;
	if (scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) <= 0)
		return;
	/*
	 * An insert that landed since the first look marked the VM before it
	 * (vm_queue_insert): not a lost bit. Under TCG a CPU can pause between
	 * two instructions for a round robin's 100 ms, long enough for that.
	 */
	if (vm_bits_set(vm, w))
		return;
	set_vm_bits(vm);
	__sync_fetch_and_add(&vm_bit_repairs, 1);
}

/*
 * Global, so the verifier checks it once rather than at every call site
 * (checked as part of dispatch, it took dispatch past the 1M-instruction
 * limit). Visits only the VMs of the queued bitmap (bpf/rules/vm_bits.h),
 * then @prev_vm if the bitmap did not list it.
 */
__noinline int pick_owed_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owed_pick *out)
{
	u32 i, j, visits = 0, cpu = bpf_get_smp_processor_id();
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_owed_choice chosen;
	struct pick_scans scans;
	u64 words;
	bool prev_seen = false;

	if (!out)
		return 0;
	if (cs)
		repair_vm_bit(cs, cpu);
	vs_owed_scan_init(&scans.owed);
	vs_reserve_scan_init(&scans.reserved);
	words = *(volatile u64 *)&queued_words;
	bpf_for(i, 0, VS_VM_WORDS)
	{
		u64 bits;
		u32 w;

		if (!words)
			break;
		w = vs_ctz64(words) & (VS_VM_WORDS - 1);
		words &= words - 1;
		bits = *(volatile u64 *)&queued_vms[w];
		bpf_for(j, 0, 64)
		{
			u32 vm;

			if (!bits)
				break;
			vm = w * 64 + (vs_ctz64(bits) & 63);
			bits &= bits - 1;
			if ((s32)vm == prev_vm)
				prev_seen = true;
			offer_vm(&scans, vm, prev_vm, this_owner, enclave);
			visits++;
		}
	}
	if (prev_vm >= 0 && !prev_seen) {
		offer_vm(&scans, (u32)prev_vm, prev_vm, this_owner, enclave);
		visits++;
	}
	/* Only this CPU writes them, from dispatch or the sweep's timer, never both at once. */
	if (cs) {
		cs->pick_calls++;
		cs->pick_visits += visits;
	}
	chosen = vs_owed_scan_choose(&scans.owed, &scans.reserved, enclave_pair_window_ns(enclave));
	out->vm = chosen.vm;
	out->nr_queued = chosen.nr_queued;
	out->starved = chosen.starved;
	out->reserved = chosen.reserved;
	out->for_pair = chosen.for_pair;
	return 0;
}
