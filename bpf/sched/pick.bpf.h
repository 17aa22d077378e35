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

/*
 * Is the core @vm was last given (vm_last_core) still its, open to @enclave,
 * not handing over, with a thread that has nothing on it? Unlocked, a hint:
 * a wrong answer costs a split core or a short wait, never a pairing.
 */
static bool last_core_open(u32 vm, u32 enclave)
{
	struct vs_core_state *core;
	u32 th, t;

	core = core_of(vm_last_core[vm & (VS_MAX_VMS - 1)], &th);
	if (!core || core->owner != (s32)vm || core->draining || !core_open_to(core, enclave))
		return false;
	for (t = 0; t < VS_THREADS_PER_CORE; t++)
		if (core->cpu[t] >= 0 &&
		    vs_thread_empty(core->running_vm[t], core->host[t], core->claims[t]))
			return true;
	return false;
}

/* What offer_vm saw of a VM, for the heaps' upkeep (pick_from_heaps). */
enum offer_seen {
	OFFER_GONE, /* nothing to run and stale, another enclave's, or no state: out of the heaps */
	OFFER_EMPTY,   /* nothing queued now, but a vCPU in flight: kept */
	OFFER_SKIPPED, /* over its cap: not a candidate here */
	OFFER_TAKEN,   /* offered to the folds */
};

struct offer_facts {
	u64 vtime, waiting_since;
	u64 enqueued_at; /* vm_enqueued_at when it was looked at */
	s32 queued;
	u32 seen; /* enum offer_seen */
};

/*
 * The two folds over the candidates and what they are offered for (one
 * pointer: a global function takes five arguments), and the facts of the
 * last VM offered.
 */
struct pick_scans {
	struct vs_owed_scan owed;
	struct vs_reserve_scan reserved;
	s32 prev_vm, this_owner;
	u32 enclave;
	u32 mends; /* heap operations the pick made to keep the heaps in step */
	struct offer_facts f;
};

/*
 * Each CPU's pick_scans: on the stack it took the deepest call chain
 * (dispatch, the pick, the heaps, the upkeep) past BPF's 512 bytes. One pick
 * at a time per CPU: dispatch and the sweep's timer never run at once on one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pick_scans);
} pick_scratch SEC(".maps");

/*
 * Offers @vm to @scans if it has vCPUs to run here: to the owed scan, and
 * to the reservations' (vs_reserve_scan, bpf/rules/reserve.h) if it has a
 * claim; clears its bit if it has none. Global, so the verifier checks it
 * once for any VM id rather than once per id the bitmap loop could produce.
 */
__noinline int offer_vm(struct pick_scans *scans, u32 vm)
{
	u64 now = bpf_ktime_get_ns(), at;
	struct vs_vm_state *vs;
	s32 queued, prev_vm;
	bool is_prev, own;

	if (!scans)
		return 0;
	scans->f.seen = OFFER_GONE;
	if (vm >= vs_max_vms)
		return 0;
	prev_vm = scans->prev_vm;
	is_prev = (s32)vm == prev_vm;
	queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));
	at = vm_enqueued_at[vm & (VS_MAX_VMS - 1)];
	scans->f.queued = queued;
	scans->f.enqueued_at = at;
	vs = vm_state_of(vm);
	if (!vs)
		return 0;
	scans->f.vtime = vs->vtime;
	scans->f.waiting_since = vs->waiting_since;
	if (queued <= 0 && !is_prev) {
		if (vs_vm_bit_stale(queued, false, vm_in_flight[vm & (VS_MAX_VMS - 1)], at, now)) {
			clear_vm_queued(vm, at);
			return 0;
		}
		scans->f.seen = OFFER_EMPTY;
		return 0;
	}
	if (vm_enclave(vm) != scans->enclave)
		return 0;
	scans->f.seen = OFFER_SKIPPED;
	if (caps_in_use && !vm_within_cap(vm, (s32)vm == scans->this_owner))
		return 0;
	own = is_prev || (s32)vm == scans->this_owner;
	/* Held back from the owed scan only: a reservation's guarantee is not put off. */
	if (vs_sibling_wait_applies(own, queued) &&
	    vs_waits_for_sibling(last_core_open(vm, scans->enclave), vs->waiting_since, now))
		__sync_fetch_and_add(&sibling_waits, 1);
	else
		vs_owed_scan_add(&scans->owed, vm, queued, is_prev, vs->vtime, vs->waiting_since,
				 now);
	scans->f.seen = OFFER_TAKEN;
	if (reserves_in_use) {
		enum vs_reserve_claim claim =
		    vm_reserve_claim(vm, queued, (s32)vm == scans->this_owner);

		if (claim != VS_RES_NONE)
			vs_reserve_scan_add(&scans->reserved, vm, queued, is_prev, claim);
	}
	return 0;
}

/* Takes @vm out of both heaps of @enclave. Global: the verifier checks the sifts once. */
__noinline int vm_heaps_drop(u32 enclave, u32 vm)
{
	struct vm_heaps *hp = bpf_map_lookup_elem(&vm_heaps, &enclave);

	if (!hp)
		return 0;
	bpf_spin_lock(&hp->lock);
	vs_heap_remove(&hp->vt, vm);
	vs_heap_remove(&hp->wait, vm);
	bpf_spin_unlock(&hp->lock);
	return 0;
}

/* Gives @vm's entry in @enclave's vtime heap (@by_vtime) or waiting heap @key. Global, as above. */
__noinline int vm_heap_rekey(u32 enclave, u32 vm, u32 by_vtime, u64 key)
{
	struct vm_heaps *hp = bpf_map_lookup_elem(&vm_heaps, &enclave);

	if (!hp)
		return 0;
	bpf_spin_lock(&hp->lock);
	vs_heap_rekey(by_vtime ? &hp->vt : &hp->wait, vm, key);
	bpf_spin_unlock(&hp->lock);
	return 0;
}

/*
 * Keeps @enclave's heaps in step with what offer_vm found of @vm (@f), listed
 * in the vtime heap (@by_vtime) or the waiting one with @key, the heap's
 * entries not listed bounded by @rest: a VM with nothing to run leaves both;
 * a key whose VM's value has passed @rest is raised, so the VM sinks below
 * the listed levels (the lazy keys, bpf/rules/vm_heap.h); one still within
 * them is left, since the pick offers it with its value anyway. A removal
 * then reads the VM's insert stamp with an atomic (a full barrier): an insert
 * that came meanwhile puts it back (vm_heaps_sync), one that comes later
 * finds it out and adds it. Returns the heap operations it made.
 */
static u32 heap_mend(u32 enclave, u32 vm, const struct offer_facts *f, bool by_vtime, u64 key,
		     u64 rest)
{
	if (f->seen == OFFER_GONE) {
		vm_heaps_drop(enclave, vm);
		if (__sync_fetch_and_add(&vm_enqueued_at[vm & (VS_MAX_VMS - 1)], 0) !=
			f->enqueued_at ||
		    scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) > 0)
			vm_heaps_sync(vm);
		return 1;
	}
	if (by_vtime && f->vtime > key && f->vtime > rest) {
		vm_heap_rekey(enclave, vm, 1, f->vtime);
		return 1;
	}
	if (!by_vtime && f->queued > 0 && f->waiting_since > key && f->waiting_since > rest) {
		vm_heap_rekey(enclave, vm, 0, f->waiting_since);
		return 1;
	}
	return 0;
}

/*
 * Offers every VM of the reserving bitmap to the folds, and @this_owner (the
 * only VM that can keep this core for its reservation): with the heaps' VMs
 * the reservations' fold then sees every VM it could choose. A VM found
 * without a reservation leaves the bitmap (an atomic clear; an enqueue that
 * races sets it again, as its reservation is read after its own mark).
 */
static void offer_reserving_vms(struct pick_scans *scans, u32 *visits)
{
	u64 words = *(volatile u64 *)&reserving_words;
	u32 i, j;

	if (scans->this_owner >= 0) {
		offer_vm(scans, (u32)scans->this_owner);
		(*visits)++;
	}
	bpf_for(i, 0, VS_VM_WORDS)
	{
		u64 bits;
		u32 w;

		if (!words)
			break;
		w = vs_ctz64(words);
		barrier_var(w);
		w &= VS_VM_WORDS - 1;
		words &= words - 1;
		bits = *(volatile u64 *)&reserving_vms[w];
		if (!bits) {
			__sync_fetch_and_and(&reserving_words, ~(1ULL << w));
			if (*(volatile u64 *)&reserving_vms[w])
				__sync_fetch_and_or(&reserving_words, 1ULL << w);
			continue;
		}
		bpf_for(j, 0, 64)
		{
			struct vs_vm_ctx *v;
			u32 vm;

			if (!bits)
				break;
			vm = vs_ctz64(bits);
			barrier_var(vm);
			vm = w * 64 + (vm & 63);
			bits &= bits - 1;
			v = vm_ctx_of(vm);
			if (!v || !v->reserve_cores) {
				__sync_fetch_and_and(&reserving_vms[w], ~vs_vm_bit(vm));
				continue;
			}
			offer_vm(scans, vm);
			(*visits)++;
		}
	}
}

/*
 * The pick from the enclave's heaps: offers the VMs of least vtime and those
 * waiting longest (bpf/rules/vm_heap.h), not every queued VM, then @prev_vm,
 * and mends what it found stale. False when the choice cannot be trusted
 * (vs_heap_pick_exact, e.g. every VM offered was capped): the caller scans.
 * Global, so the verifier checks it once.
 */
__noinline int pick_from_heaps(struct pick_scans *scans, struct vs_owed_choice *chosen, u32 *visits)
{
	u32 zero = 0, e, n_vt, n_w, i;
	u64 rest_vt, rest_w, vt;
	struct pick_snaps *sn;
	struct vm_heaps *hp;
	bool prev_seen = false;

	if (!scans || !chosen || !visits)
		return false;
	e = scans->enclave;
	if (e >= VS_MAX_ENCLAVES)
		return false;
	hp = bpf_map_lookup_elem(&vm_heaps, &e);
	sn = bpf_map_lookup_elem(&pick_snaps, &zero);
	if (!hp || !sn)
		return false;
	bpf_spin_lock(&hp->lock);
	vs_heap_snapshot(&hp->vt, &sn->vt);
	vs_heap_snapshot(&hp->wait, &sn->wait);
	bpf_spin_unlock(&hp->lock);
	n_vt = vs_heap_snap_top(&sn->vt, VS_HEAP_TOP_VT, sn->vms_vt, sn->keys_vt, &rest_vt);
	n_w = vs_heap_snap_top(&sn->wait, VS_HEAP_TOP_WAIT, sn->vms_w, sn->keys_w, &rest_w);
	bpf_for(i, 0, VS_HEAP_TOP_VT + VS_HEAP_TOP_WAIT)
	{
		bool by_vtime = i < VS_HEAP_TOP_VT;
		u32 k = by_vtime ? i : i - VS_HEAP_TOP_VT;
		u32 vm;
		u64 key;

		if (k >= (by_vtime ? n_vt : n_w) || k >= VS_HEAP_TOP_VT)
			continue;
		vm = by_vtime ? sn->vms_vt[k] : sn->vms_w[k];
		key = by_vtime ? sn->keys_vt[k] : sn->keys_w[k];
		if ((s32)vm == scans->prev_vm)
			prev_seen = true;
		offer_vm(scans, vm);
		(*visits)++;
		scans->mends +=
		    heap_mend(e, vm, &scans->f, by_vtime, key, by_vtime ? rest_vt : rest_w);
	}
	if (scans->prev_vm >= 0 && !prev_seen) {
		offer_vm(scans, (u32)scans->prev_vm);
		(*visits)++;
	}
	if (reserves_in_use)
		offer_reserving_vms(scans, visits);
	*chosen = vs_owed_scan_choose(&scans->owed, &scans->reserved,
				      enclave_pair_window_ns(scans->enclave));
	vt = chosen->for_pair ? scans->owed.pair.vtime : scans->owed.best.vtime;
	return vs_heap_pick_exact(rest_vt == ~0ULL && rest_w == ~0ULL, chosen->vm, chosen->starved,
				  chosen->reserved, vt, rest_vt, rest_w, bpf_ktime_get_ns(),
				  VS_STARVED_NS);
}

/* Are @vm's bit (in word @w) and its word's summary bit set? */
static bool vm_bits_set(u32 vm, u32 w)
{
	return (*(volatile u64 *)&queued_vms[w] & vs_vm_bit(vm)) &&
	       (*(volatile u64 *)&queued_words & (1ULL << w));
}

/*
 * A safety net under the bitmap's clearing rules and the heaps' upkeep: each
 * pick checks one more VM id, in turn, and sets the bit of a VM found with
 * queued vCPUs but no bit, or puts it back in its enclave's heaps (a lost
 * bit or entry would leave its vCPUs waiting until the VM's next insert, or
 * the kernel's watchdog). Each CPU walks the ids with a cursor of its own
 * (a shared one would be a cache line every dispatch writes), the CPUs'
 * starting points spread evenly over the ids; any one CPU checks every VM id
 * within vs_max_vms of its picks (milliseconds: a CPU picks several times per
 * slice). A repair is counted (vm_bit_repairs, vm_heap_repairs in status), so
 * a loss shows. It also marks a VM with a reservation as reserving: one given
 * its reservation while all its vCPUs wait has no enqueue to mark it.
 */
static void repair_vm_bit(struct vs_cpu_stats *cs, u32 cpu)
{
	u32 n = vs_max_vms ? vs_max_vms : 1;
	u32 spread = nr_cpus ? n / nr_cpus : 0;
	u32 vm = ((cs->vm_bit_cursor++ + cpu * spread) % n) & (VS_MAX_VMS - 1);
	u32 w = vs_vm_word(vm);
	bool bits, heaps;

	mark_vm_reserving(vm);
	bits = vm_bits_set(vm, w);
	heaps = vm_in_heaps(vm);
	if (bits && heaps)
		return;
	if (scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) <= 0)
		return;
	/*
	 * An insert that landed since the first look marked the VM before it
	 * (vm_queue_insert): not a loss. Under TCG a CPU can pause between
	 * two instructions for a round robin's 100 ms, long enough for that.
	 */
	if (!bits && !vm_bits_set(vm, w)) {
		set_vm_bits(vm);
		__sync_fetch_and_add(&vm_bit_repairs, 1);
	}
	if (!heaps && !vm_in_heaps(vm)) {
		vm_heaps_sync(vm);
		__sync_fetch_and_add(&vm_heap_repairs, 1);
	}
}

static void pick_scans_init(struct pick_scans *scans, s32 prev_vm, s32 this_owner, u32 enclave)
{
	vs_owed_scan_init(&scans->owed);
	vs_reserve_scan_init(&scans->reserved);
	scans->prev_vm = prev_vm;
	scans->this_owner = this_owner;
	scans->enclave = enclave;
	scans->mends = 0;
}

/* Offers every VM of the queued bitmap (bpf/rules/vm_bits.h), then the prev VM if it was not. */
static void scan_queued_vms(struct pick_scans *scans, u32 *visits)
{
	u64 words = *(volatile u64 *)&queued_words;
	bool prev_seen = false;
	u32 i, j;

	bpf_for(i, 0, VS_VM_WORDS)
	{
		u64 bits;
		u32 w;

		if (!words)
			break;
		/* Masked after a barrier: clang may make vs_ctz64 an unbounded table. */
		w = vs_ctz64(words);
		barrier_var(w);
		w &= VS_VM_WORDS - 1;
		words &= words - 1;
		bits = *(volatile u64 *)&queued_vms[w];
		bpf_for(j, 0, 64)
		{
			u32 vm;

			if (!bits)
				break;
			vm = vs_ctz64(bits);
			barrier_var(vm);
			vm = w * 64 + (vm & 63);
			bits &= bits - 1;
			if ((s32)vm == scans->prev_vm)
				prev_seen = true;
			offer_vm(scans, vm);
			(*visits)++;
		}
	}
	if (scans->prev_vm >= 0 && !prev_seen) {
		offer_vm(scans, (u32)scans->prev_vm);
		(*visits)++;
	}
}

/*
 * Global, so the verifier checks it once rather than at every call site
 * (checked as part of dispatch, it took dispatch past the 1M-instruction
 * limit). Reads the enclave's heaps (pick_from_heaps), with the reserving
 * VMs if reservations are in use; scans the queued bitmap when the choice
 * cannot be trusted.
 */
__noinline int pick_owed_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owed_pick *out)
{
	u32 visits = 0, zero = 0, mends, cpu = bpf_get_smp_processor_id();
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_owed_choice chosen;
	struct pick_scans *scans;
	bool scanned = false;

	if (!out)
		return 0;
	out->vm = VS_VM_NONE;
	scans = bpf_map_lookup_elem(&pick_scratch, &zero);
	if (!scans)
		return 0;
	if (cs)
		repair_vm_bit(cs, cpu);
	pick_scans_init(scans, prev_vm, this_owner, enclave);
	if (!pick_from_heaps(scans, &chosen, &visits)) {
		mends = scans->mends;
		pick_scans_init(scans, prev_vm, this_owner, enclave);
		scans->mends = mends;
		scan_queued_vms(scans, &visits);
		chosen = vs_owed_scan_choose(&scans->owed, &scans->reserved,
					     enclave_pair_window_ns(enclave));
		scanned = true;
	}
	/* Only this CPU writes them, from dispatch or the sweep's timer, never both at once. */
	if (cs) {
		cs->pick_calls++;
		cs->pick_visits += visits;
		cs->pick_scans += scanned;
		cs->pick_mends += scans->mends;
	}
	out->vm = chosen.vm;
	out->nr_queued = chosen.nr_queued;
	out->starved = chosen.starved;
	out->reserved = chosen.reserved;
	out->for_pair = chosen.for_pair;
	return 0;
}
