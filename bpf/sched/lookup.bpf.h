/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lookups of the maps by CPU, core, task, VM and enclave, and the cap count.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

static struct vs_cpu_ctx *cpu_ctx_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_ctx, &key);
}

/* The core of an enclave CPU and the CPU's thread index in it; NULL outside the enclave. */
static struct vs_core_state *core_of(s32 cpu, u32 *thread)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
	u32 key;

	if (!c || !(c->flags & VS_CPU_IN_ENCLAVE))
		return NULL;
	key = c->core_id;
	*thread = (u32)cpu == c->core_id ? 0 : 1;
	return bpf_map_lookup_elem(&core_state, &key);
}

static struct vs_task *vcpu_of(struct task_struct *p)
{
	struct vs_task *t = bpf_task_storage_get(&task_ctx, p, NULL, 0);

	return t && t->is_vcpu ? t : NULL;
}

static void vcpu_attach(struct task_struct *p, struct vs_task *t);

/*
 * vcpu_of(), but a task that entered SCHED_EXT before the agent listed it
 * (its VMM chose SCHED_EXT itself, or a previous scheduler left it there)
 * and so was enabled as host work becomes a vCPU once vcpu_map lists it.
 * Without this a VMM could keep its vCPUs out of pairing, running wherever
 * they woke, by setting SCHED_EXT before enrolment.
 */
static struct vs_task *vcpu_of_adopting(struct task_struct *p)
{
	struct vs_task *t = bpf_task_storage_get(&task_ctx, p, NULL, 0);
	u32 tid = p->pid;

	if (!t || t->is_vcpu)
		return t && t->is_vcpu ? t : NULL;
	if (!bpf_map_lookup_elem(&vcpu_map, &tid))
		return NULL;
	vcpu_attach(p, t);
	if (t->is_vcpu)
		__sync_fetch_and_add(&late_adoptions, 1);
	return t->is_vcpu ? t : NULL;
}

static struct vs_vcpu_stats *stats_of(struct vs_task *t)
{
	u32 slot = t->slot;

	return bpf_map_lookup_elem(&vcpu_stats, &slot);
}

/* The guest's VS_HINT_* flags for vCPU @t (mirrored by the agent), 0 if none. */
static u32 hint_of(struct vs_task *t)
{
	u32 slot = t->slot;
	struct vs_vcpu_hint *h = bpf_map_lookup_elem(&vcpu_hints, &slot);

	return h ? h->flags : 0;
}

static struct vs_claim *claim_of_slot(u32 slot)
{
	return bpf_map_lookup_elem(&vcpu_claim, &slot);
}

static struct vs_cpu_stats *cpu_stats_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_stats, &key);
}

static struct vs_vm_state *vm_state_of(s32 vm)
{
	u32 key = vm;

	if (vm < 0 || vm >= vs_max_vms)
		return NULL;
	return bpf_map_lookup_elem(&vm_state, &key);
}

static u32 vm_weight(u32 vm)
{
	struct vs_vm_ctx *v = bpf_map_lookup_elem(&vm_ctx, &vm);

	return v && v->weight ? v->weight : VS_WEIGHT_SCALE;
}

static struct vs_vm_ctx *vm_ctx_of(s32 vm)
{
	u32 key = vm;

	if (vm < 0 || vm >= vs_max_vms)
		return NULL;
	return bpf_map_lookup_elem(&vm_ctx, &key);
}

static struct vs_enclave_ctx *enclave_ctx_of(u32 enclave)
{
	return bpf_map_lookup_elem(&enclave_ctx, &enclave);
}

/* The enclave of @vm (the default one until the agent wrote its vm_ctx). */
static u32 vm_enclave(s32 vm)
{
	struct vs_vm_ctx *v = vm_ctx_of(vm);

	return v ? v->enclave : VS_ENCLAVE_DEFAULT;
}

/* The enclave of @cpu, or VS_MAX_ENCLAVES if it is in none. */
static u32 cpu_enclave(s32 cpu)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);

	return c && (c->flags & VS_CPU_IN_ENCLAVE) ? c->enclave : VS_MAX_ENCLAVES;
}

/* Is @cpu a CPU of @vm's enclave? A hint: core_open_to() decides under the core's lock. */
static bool cpu_serves_vm(s32 cpu, s32 vm)
{
	return vm >= 0 && cpu_enclave(cpu) == vm_enclave(vm);
}

/* The vCPU time slice of @vm's enclave. */
static u64 vm_slice_ns(s32 vm)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(vm_enclave(vm));

	return e && e->slice_ns ? e->slice_ns : slice_ns;
}

static u64 enclave_core_slice_ns(u32 enclave)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(enclave);

	return e && e->core_slice_ns ? e->core_slice_ns : core_slice_ns;
}

static u64 enclave_pair_window_ns(u32 enclave)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(enclave);

	return e ? e->pair_window_ns : pair_window_ns;
}

static u64 *vtime_floor_of(u32 enclave)
{
	return enclave < VS_MAX_ENCLAVES ? &vtime_floor[enclave & (VS_MAX_ENCLAVES - 1)] : NULL;
}

/* Is @cpu on @vm's home node (or is either node unknown)? */
static bool cpu_on_home(s32 cpu, s32 vm)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
	struct vs_vm_ctx *v = vm_ctx_of(vm);

	return !c || !v || v->home_node < 0 || c->node < 0 || c->node == v->home_node;
}

/* Keeps vm_owned_cores as a core goes from VM @from to VM @to; core locked. */
static void count_owner_change(s32 from, s32 to)
{
	if (from == to)
		return;
	if (from >= 0 && from < VS_MAX_VMS)
		__sync_fetch_and_sub(&vm_owned_cores[from & (VS_MAX_VMS - 1)], 1);
	if (to >= 0 && to < VS_MAX_VMS)
		__sync_fetch_and_add(&vm_owned_cores[to & (VS_MAX_VMS - 1)], 1);
}

/*
 * Is @vm within its cap with one more core, or (@owns_this) with the core in
 * question, which it owns already?
 */
static bool vm_within_cap(s32 vm, bool owns_this)
{
	struct vs_vm_ctx *v = vm_ctx_of(vm);
	s32 n;

	if (!caps_in_use || !v || !v->cap_cores)
		return true;
	n = vm_owned_cores[vm & (VS_MAX_VMS - 1)];
	return vs_within_cap(n > 0 ? (u32)n : 0, v->cap_cores, owns_this);
}

static void set_vm_bits(u32 vm)
{
	u32 w = vs_vm_word(vm);

	__sync_fetch_and_or(&queued_vms[w], vs_vm_bit(vm));
	__sync_fetch_and_or(&queued_words, 1ULL << w);
}

/* @t goes into its VM @vm's queue: in flight (vm_in_flight) until it runs or leaves. */
static void vcpu_into_vm_queue(struct vs_task *t, s32 vm)
{
	if (!t || t->in_vm_queue || vm < 0 || vm >= VS_MAX_VMS)
		return;
	t->queued_vm = (u32)vm;
	t->in_vm_queue = true;
	__sync_fetch_and_add(&vm_in_flight[vm & (VS_MAX_VMS - 1)], 1);
}

/* @t runs, or leaves the scheduler: no longer in flight. */
static void vcpu_out_of_vm_queue(struct vs_task *t)
{
	if (!t || !t->in_vm_queue)
		return;
	t->in_vm_queue = false;
	__sync_fetch_and_sub(&vm_in_flight[t->queued_vm & (VS_MAX_VMS - 1)], 1);
}

/*
 * @vm has vCPUs to run, or its waiting_since went back: it must be in its
 * enclave's heaps (vm_heaps) with keys no higher than its vtime and
 * waiting_since (bpf/rules/vm_heap.h). The lock is taken only if it is
 * missing or a key is too high: a VM whose vCPUs keep coming is in already.
 * Reads the heaps after the caller's atomic stamp (mark_vm_queued), so a pick
 * removing the VM at the same time either sees the stamp or is seen here.
 * Global, so the verifier checks its sifts once, not in every caller.
 */
__noinline int vm_heaps_sync(s32 vm)
{
	struct vs_vm_state *vs = vm_state_of(vm);
	u32 e = vm_enclave(vm);
	struct vm_heaps *hp;
	u64 vt, ws;

	if (!vs || e >= VS_MAX_ENCLAVES)
		return 0;
	hp = bpf_map_lookup_elem(&vm_heaps, &e);
	if (!hp)
		return 0;
	vt = vs->vtime;
	ws = vs->waiting_since ? vs->waiting_since : bpf_ktime_get_ns();
	if (vs_heap_key_fits(&hp->vt, vm, vt) && vs_heap_key_fits(&hp->wait, vm, ws))
		return 0;
	bpf_spin_lock(&hp->lock);
	vs_heap_push_or_lower(&hp->vt, vm, vt);
	vs_heap_push_or_lower(&hp->wait, vm, ws);
	bpf_spin_unlock(&hp->lock);
	return 0;
}

/* Is @vm in both heaps of its enclave? Unlocked: for the safety net's look. */
static bool vm_in_heaps(s32 vm)
{
	u32 e = vm_enclave(vm);
	struct vm_heaps *hp = e < VS_MAX_ENCLAVES ? bpf_map_lookup_elem(&vm_heaps, &e) : NULL;

	return hp && vs_heap_has(&hp->vt, vm) && vs_heap_has(&hp->wait, vm);
}

/* Marks @vm as reserving (reserving_vms) if it has a reservation and is not marked yet. */
static void mark_vm_reserving(s32 vm)
{
	struct vs_vm_ctx *v;
	u32 w;

	if (!reserves_in_use || vm < 0 || vm >= VS_MAX_VMS)
		return;
	w = vs_vm_word(vm);
	if ((*(volatile u64 *)&reserving_vms[w] & vs_vm_bit(vm)) &&
	    (*(volatile u64 *)&reserving_words & (1ULL << w)))
		return;
	v = vm_ctx_of(vm);
	if (!v || !v->reserve_cores)
		return;
	__sync_fetch_and_or(&reserving_vms[w], vs_vm_bit(vm));
	__sync_fetch_and_or(&reserving_words, 1ULL << w);
}

/* A vCPU of @vm goes into its queue: the VM is a candidate of pick_owed_vm from now on. */
static void mark_vm_queued(s32 vm)
{
	if (vm < 0 || vm >= vs_max_vms)
		return;
	__sync_lock_test_and_set(&vm_enqueued_at[vm & (VS_MAX_VMS - 1)], bpf_ktime_get_ns());
	set_vm_bits(vm);
	vm_heaps_sync(vm);
	mark_vm_reserving(vm);
}

/*
 * Clears @vm's bit, its queue seen empty and its last insert at @seen_at.
 * Every step is an atomic (a full barrier), so an insert racing with this is
 * never lost: if its mark came before the clear, the stamp has moved on and
 * the bit is set again; if after, the mark sets it. The same for the summary.
 */
static void clear_vm_queued(u32 vm, u64 seen_at)
{
	u32 w = vs_vm_word(vm);
	u64 old;

	old = __sync_fetch_and_and(&queued_vms[w], ~vs_vm_bit(vm));
	if (*(volatile u64 *)&vm_enqueued_at[vm & (VS_MAX_VMS - 1)] != seen_at) {
		set_vm_bits(vm);
		return;
	}
	if (old & ~vs_vm_bit(vm))
		return;
	__sync_fetch_and_and(&queued_words, ~(1ULL << w));
	if (*(volatile u64 *)&queued_vms[w])
		__sync_fetch_and_or(&queued_words, 1ULL << w);
}

/*
 * vs_reserve_claim for @vm with @queued vCPUs on its queue; @owns_this: the
 * core in question is its. Owned cores as for caps (vm_owned_cores).
 */
static enum vs_reserve_claim vm_reserve_claim(s32 vm, s32 queued, bool owns_this)
{
	struct vs_vm_ctx *v = vm_ctx_of(vm);
	s32 n;

	if (!reserves_in_use || !v || vm < 0)
		return VS_RES_NONE;
	n = vm_owned_cores[vm & (VS_MAX_VMS - 1)];
	return vs_reserve_claim(n > 0 ? (u32)n : 0, v->reserve_cores, queued, owns_this);
}

static s32 vm_queued(s32 vm)
{
	if (vm < 0 || vm >= vs_max_vms)
		return 0;
	return scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));
}

/*
 * Since when the vCPU at the head of @vm's queue waits (vcpu_wait_since), 0
 * if the queue is empty or the head is not known. Global, so the verifier
 * checks it apart from its callers.
 */
__noinline u64 vm_head_wait_since(s32 vm)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct vs_vcpu_id *id;
	u64 since = 0;
	u32 tid;

	if (vm < 0 || vm >= vs_max_vms)
		return 0;
	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	p = bpf_iter_scx_dsq_next(&it);
	if (p) {
		tid = p->pid;
		id = bpf_map_lookup_elem(&vcpu_map, &tid);
		if (id)
			since = vcpu_wait_since[id->slot & (VS_MAX_VCPUS - 1)];
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	return since;
}
