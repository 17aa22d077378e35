/* Over 400 lines: one adapter per BPF op, all around the shared rules. */
/*
 * The BPF scheduler's rules in the simulator (policy "bpf"): ops.enqueue,
 * ops.dispatch, ops.tick and the placement sweep of the BPF scheduler, each
 * as gather -> decide -> apply around the same pure rules the BPF object
 * compiles (bpf/rules/): the simulator gathers from its world what the
 * scheduler gathers from its maps, and applies the outcome to its world.
 *
 * The world is sequential: a start is atomic, so claims and leaving_vm are
 * always 0 / none in the views, and no lock is needed. Not modelled: host
 * tasks (strict pairing's host idle), guest idle hints (hand-ons; slice
 * extensions are in sim_hints.c), directed yields, enclaves (one enclave of all CPUs), agent
 * transactions, and the kernel's own fallbacks.
 */
#include <stdlib.h>
#include <string.h>

#include "bpf/rules/cap.h"
#include "bpf/rules/dispatch.h"
#include "bpf/rules/enqueue.h"
#include "bpf/rules/owed_scan.h"
#include "bpf/rules/reserve.h"
#include "bpf/rules/sibling_wait.h"
#include "bpf/rules/sweep.h"
#include "bpf/rules/tick_cut.h"
#include "bpf/rules/vtime.h"
#include "sim.h"
#include "sim_policy.h"

#define ENCLAVE 0

static bool on_home(struct sim *s, uint32_t cpu, int32_t vm)
{
	return vm < 0 || s->vms[vm].kind->node < 0 ||
	       (int)sim_core_of(s, cpu)->node == s->vms[vm].kind->node;
}

/* vm_within_cap() on vs_within_cap; @owns_this: the core in question is already its. */
static bool within_cap(struct sim *s, int32_t vm, bool owns_this)
{
	if (!s->caps_in_use || vm < 0)
		return true;
	return vs_within_cap(s->vms[vm].owned_cores, s->vms[vm].kind->cap, owns_this);
}

/* vm_reserve_claim(): what @vm's reservation asks of the core @vm may own (@owns_this). */
static enum vs_reserve_claim reserve_claim(struct sim *s, int32_t vm, bool owns_this)
{
	if (!s->reserves_in_use)
		return VS_RES_NONE;
	return vs_reserve_claim(s->vms[vm].owned_cores, s->vms[vm].kind->reserve,
				(int32_t)s->vms[vm].queued, owns_this);
}

static int32_t queued(struct sim *s, int32_t vm)
{
	return vm < 0 ? 0 : (int32_t)s->vms[vm].queued;
}

/*
 * Since when @vm's longest-waiting queued vCPU waits, found by walking its
 * queue: the check of the guard's stamp (vs_run_stamp) does not use it.
 */
static uint64_t oldest_wait(struct sim *s, int32_t vm)
{
	uint64_t oldest = s->now;

	for (int32_t i = s->vms[vm].qhead; i != SIM_NONE; i = s->vcpus[i].qnext)
		if (s->vcpus[i].runnable_at < oldest)
			oldest = s->vcpus[i].runnable_at;
	return oldest;
}

static uint32_t thread_of(struct sim *s, uint32_t cpu)
{
	return s->cpus[cpu].thread;
}

/* core_view_read(): the core as the rules see it. */
static struct vs_core_view view_of(struct sim *s, uint32_t cpu)
{
	struct sim_core *core = sim_core_of(s, cpu);
	struct vs_core_view v = {
	    .owner = core->owner,
	    .draining = core->draining,
	    .enclave = ENCLAVE,
	    .strict = 1, /* VS_PAIRING_STRICT, the default; no host task runs here */
	    .owner_since = core->owner_since,
	};
	uint32_t th;

	for (th = 0; th < VS_THREADS_PER_CORE; th++) {
		v.leaving_vm[th] = VS_VM_NONE;
		v.running_vm[th] = VS_VM_NONE;
		v.cpu[th] = -1;
		if (th < s->tpc) {
			v.cpu[th] = (int32_t)(core->first_cpu + th);
			v.running_vm[th] = sim_running_vm(s, core->first_cpu + th);
		}
	}
	return v;
}

/* BPF's last_core_open(): the VM's last core is still its, not handing over, a thread idle. */
static bool last_core_open(const struct sim *s, int32_t vm)
{
	const struct sim_core *core = &s->cores[s->vms[vm].last_core];

	return core->owner == vm && !core->draining && core->idle_threads > 0;
}

/* BPF's offer_vm() holding a VM back for its last core's sibling (vs_waits_for_sibling). */
static bool waits_for_sibling(const struct sim *s, int32_t vm, int32_t prev_vm, int32_t this_owner)
{
	const struct sim_vm *vs = &s->vms[vm];
	bool own = vm == prev_vm || vm == this_owner;

	return vs_sibling_wait_applies(own, (int32_t)vs->queued) &&
	       vs_waits_for_sibling(last_core_open(s, vm), vs->waiting_since, s->now);
}

/* pick_owed_vm() as BPF runs it: every candidate VM offered in ascending id. */
static struct vs_owed_choice pick_by_scan(struct sim *s, int32_t prev_vm, int32_t this_owner)
{
	struct vs_reserve_scan rs;
	struct vs_owed_scan scan;
	uint32_t w;

	vs_owed_scan_init(&scan);
	vs_reserve_scan_init(&rs);
	for (w = 0; w < s->mask_words; w++) {
		uint64_t bits = s->queued_mask[w];

		/* prev's VM is a candidate without queued vCPUs too. */
		if (prev_vm >= 0 && (uint32_t)prev_vm / 64 == w)
			bits |= 1ULL << (prev_vm % 64);
		while (bits) {
			int32_t vm = (int32_t)(w * 64 + (uint32_t)__builtin_ctzll(bits));
			struct sim_vm *vs = &s->vms[vm];

			bits &= bits - 1;
			if (s->caps_in_use && !within_cap(s, vm, vm == this_owner))
				continue;
			/* Held back from the owed scan only, as BPF's offer_vm(). */
			if (waits_for_sibling(s, vm, prev_vm, this_owner))
				s->t.sibling_waits++;
			else
				vs_owed_scan_add(&scan, vm, (int32_t)vs->queued, vm == prev_vm,
						 vs->vtime, vs->waiting_since, s->now);
			/* BPF's pick_reserved_vm: the same candidates, in a loop of its own */
			if (s->reserves_in_use)
				vs_reserve_scan_add(&rs, vm, (int32_t)vs->queued, vm == prev_vm,
						    reserve_claim(s, vm, vm == this_owner));
		}
	}
	return vs_owed_scan_choose(&scan, &rs, s->pair_window_ns);
}

static int cmp_vm(const void *a, const void *b)
{
	return *(const int32_t *)a - *(const int32_t *)b;
}

/*
 * pick_owed_vm() without a scan: the scan's result depends only on the VM
 * with the lowest (vtime, id), the lowest among those with two vCPUs to run,
 * the one waiting longest (vm_state.waiting_since), and prev's VM, so only
 * these (kept in heaps) are offered, still in id order. Caps filter
 * candidates and reservations add some: then it scans.
 */
static struct vs_owed_choice pick_owed_vm(struct sim *s, int32_t prev_vm, int32_t this_owner)
{
	int32_t cand[4];
	struct vs_reserve_scan rs;
	struct vs_owed_scan scan;
	uint32_t n = 0, i;

	if (s->caps_in_use || s->reserves_in_use || s->p.scan_like_bpf)
		return pick_by_scan(s, prev_vm, this_owner);
	cand[n++] = sim_vmheap_top(&s->by_vtime);
	cand[n++] = sim_vmheap_top(&s->pair_by_vtime);
	cand[n++] = sim_vmheap_top(&s->by_waiting);
	cand[n++] = prev_vm;
	qsort(cand, n, sizeof(cand[0]), cmp_vm);
	vs_owed_scan_init(&scan);
	for (i = 0; i < n; i++) {
		struct sim_vm *vs;

		if (cand[i] < 0 || (i && cand[i] == cand[i - 1]))
			continue;
		vs = &s->vms[cand[i]];
		/*
		 * One held back may hide the next of its heap, which BPF offers
		 * too (the heaps' first levels, or its scan): scan.
		 */
		if (waits_for_sibling(s, cand[i], prev_vm, this_owner))
			return pick_by_scan(s, prev_vm, this_owner);
		vs_owed_scan_add(&scan, cand[i], (int32_t)vs->queued, cand[i] == prev_vm, vs->vtime,
				 vs->waiting_since, s->now);
	}
	vs_reserve_scan_init(&rs);
	return vs_owed_scan_choose(&scan, &rs, s->pair_window_ns);
}

/* reserve_cpu_for() on vs_reserve_decide(): a sequential world needs no claim. */
static bool reserve_cpu_for(struct sim *s, uint32_t cpu, int32_t vm, bool may_take_core)
{
	struct vs_core_view v = view_of(s, cpu);

	switch (vs_reserve_decide(&v, thread_of(s, cpu), vm, ENCLAVE, may_take_core)) {
	case VS_RESERVE_OWNED:
		return true;
	case VS_RESERVE_TAKE:
		sim_set_owner(s, sim_core_of(s, cpu), vm);
		return true;
	default:
		return false;
	}
}

/* place_on_idle_cpu(): @v starts on @cpu if it is idle and the rules allow. */
static bool place_on_idle_cpu(struct sim *s, struct sim_vcpu *v, uint32_t cpu, bool may_take_core)
{
	if (s->cpus[cpu].running != SIM_NONE ||
	    !reserve_cpu_for(s, cpu, (int32_t)v->vm, may_take_core))
		return false;
	sim_start(s, cpu, v);
	return true;
}

/*
 * One pass of ops.enqueue's search: the CPUs in id order that may fit
 * (vs_enqueue_fits decides), found from the cores the VM owns or the wholly
 * empty ones rather than by looking at every CPU: a thread fits only there.
 */
static bool place_in_pass(struct sim *s, struct sim_vcpu *v, uint32_t prev,
			  const struct vs_enqueue_pass *ep, bool may_take_core)
{
	const uint64_t *cores = ep->take ? s->empty_cores : sim_owned_mask(s, (int32_t)v->vm);
	int32_t id = (int32_t)v->vm;
	uint32_t w, th;

	for (w = 0; w < s->core_words; w++) {
		uint64_t bits = cores[w];

		while (bits) {
			uint32_t c = w * 64 + (uint32_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			for (th = 0; th < s->tpc; th++) {
				uint32_t cpu = s->cores[c].first_cpu + th;
				struct vs_core_view view;

				if (cpu == prev || s->cpus[cpu].running != SIM_NONE)
					continue;
				view = view_of(s, cpu);
				if (!vs_enqueue_fits(&view, th, id, ENCLAVE, ep->take))
					continue;
				if (on_home(s, cpu, id) != ep->home)
					continue;
				if (place_on_idle_cpu(s, v, cpu, may_take_core))
					return true;
			}
		}
	}
	return false;
}

/* The same pass as BPF runs it: every CPU in id order. */
static bool place_by_scan(struct sim *s, struct sim_vcpu *v, uint32_t prev,
			  const struct vs_enqueue_pass *ep, bool may_take_core)
{
	int32_t id = (int32_t)v->vm;
	uint32_t cpu;

	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		struct vs_core_view view;

		if (cpu == prev)
			continue;
		view = view_of(s, cpu);
		if (!vs_enqueue_fits(&view, thread_of(s, cpu), id, ENCLAVE, ep->take))
			continue;
		if (on_home(s, cpu, id) != ep->home)
			continue;
		if (place_on_idle_cpu(s, v, cpu, may_take_core))
			return true;
	}
	return false;
}

/* ops.enqueue: the vtime floor (vs_vtime_lift), then the passes of vs_enqueue_pass. */
void sim_bpf_enqueue(struct sim *s, struct sim_vcpu *v, bool last)
{
	struct sim_vm *vm = &s->vms[v->vm];
	int32_t id = (int32_t)v->vm;
	uint32_t prev = (uint32_t)v->last_cpu, pass;
	bool may_take_core, prev_home;

	if (last) {
		/* SCX_ENQ_LAST: queue it; the sweep moves it to an idle CPU. */
		sim_enqueue(s, v);
		sim_request_sweep(s, 0);
		return;
	}
	sim_set_vtime(
	    s, vm, vs_vtime_lift(vm->vtime, s->vtime_floor, s->core_slice_ns, s->pair_window_ns));
	may_take_core = within_cap(s, id, false);
	prev_home = on_home(s, prev, id);
	if (prev_home && place_on_idle_cpu(s, v, prev, may_take_core))
		return;
	for (pass = 0; pass < VS_ENQUEUE_PASSES; pass++) {
		struct vs_enqueue_pass ep = vs_enqueue_pass(pass, may_take_core, prev_home);

		if (!ep.open)
			continue;
		if (ep.prev && place_on_idle_cpu(s, v, prev, may_take_core))
			return;
		if (s->p.scan_like_bpf ? place_by_scan(s, v, prev, &ep, may_take_core)
				       : place_in_pass(s, v, prev, &ep, may_take_core))
			return;
	}
	sim_enqueue(s, v);
	sim_request_sweep(s, 50 * 1000);
}

/* home_core_free(): a wholly idle core on @vm's home node. */
static bool home_core_free(struct sim *s, int32_t vm)
{
	uint32_t c, th;

	for (c = 0; c < s->nr_cores; c++) {
		bool empty = true;

		if (!on_home(s, s->cores[c].first_cpu, vm))
			continue;
		for (th = 0; th < s->tpc && empty; th++)
			empty = s->cpus[s->cores[c].first_cpu + th].running == SIM_NONE;
		if (empty)
			return true;
	}
	return false;
}

/* ops.dispatch: gather, vs_dispatch_decide on the core's view, apply. */
enum sim_decision sim_bpf_dispatch(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
				   struct sim_vcpu **next)
{
	struct sim_core *core = sim_core_of(s, cpu);
	struct vs_dispatch_in in = {.prev_vm = prev ? (int32_t)prev->vm : VS_VM_NONE};
	struct vs_core_view view;
	struct vs_dispatch_out out;
	struct vs_owed_choice pick;
	int32_t owner = core->owner;

	*next = NULL;
	in.th = thread_of(s, cpu);
	in.enclave = ENCLAVE;
	in.now = s->now;
	in.owner_seen = owner;
	in.owner_queued = queued(s, owner);
	in.owner_has_work = in.owner_queued > 0 || (owner >= 0 && owner == in.prev_vm);
	pick = pick_owed_vm(s, in.prev_vm, owner);
	in.best = pick.vm;
	in.nr_best = pick.nr_queued;
	in.prev_goes_home =
	    in.prev_vm >= 0 && !on_home(s, cpu, in.prev_vm) && home_core_free(s, in.prev_vm);
	in.owner_over_cap = s->caps_in_use && owner >= 0 && !within_cap(s, owner, true);
	in.core_slice = s->core_slice_ns;

	view = view_of(s, cpu);
	vs_dispatch_decide(&view, &in, &out);
	if (out.set_owner)
		sim_set_owner(s, core, out.new_owner);
	if (out.start_drain)
		core->draining = true;
	if (out.clear_draining)
		core->draining = false;
	if (out.kick_sibling)
		sim_kick(s, core->first_cpu + (in.th ^ 1));
	if (out.granted)
		s->vtime_floor = s->vms[in.best].vtime;
	if (out.granted && pick.starved) {
		s->t.starved_grants++;
		s->t.starved_early += s->now - oldest_wait(s, in.best) < VS_STARVED_NS;
	}
	switch (out.decision) {
	case VS_DISPATCH_RUN:
		*next = sim_queue_first(s, out.target);
		if (*next) {
			/* BPF asks after the move: more than this one queued. */
			if (out.wake_sibling && queued(s, out.target) > 1)
				sim_request_sweep(s, 0);
			return SIM_RUN;
		}
		return prev && out.target == in.prev_vm ? SIM_KEEP_PREV : SIM_IDLE;
	case VS_DISPATCH_KEEP_PREV:
		return prev ? SIM_KEEP_PREV : SIM_IDLE;
	default:
		return SIM_IDLE;
	}
}

/* ops.tick on vs_tick_cut: a cut may be put off by a critical section's extension. */
bool sim_bpf_tick(struct sim *s, uint32_t cpu)
{
	struct sim_vcpu *v = &s->vcpus[s->cpus[cpu].running];
	struct vs_core_view view = view_of(s, cpu);
	enum vs_cut cut;

	sim_hint_end_extension(s, v);
	cut = vs_tick_cut(&view, thread_of(s, cpu), (int32_t)v->vm, ENCLAVE, s->now < v->slice_end);
	return cut != VS_CUT_NONE && !sim_hint_extend(s, v, cut);
}

/* sweep_enclave(): each empty idle thread takes a vCPU of vs_sweep_target's VM. */
void sim_bpf_sweep(struct sim *s)
{
	int32_t best = pick_owed_vm(s, SIM_NONE, SIM_NONE).vm;
	bool more = false;
	uint32_t i;

	if (best < 0)
		return;
	for (i = 0; i < 2 * s->nr_cpus; i++) {
		uint32_t cpu = i % s->nr_cpus;
		bool home_pass = i < s->nr_cpus, take;
		struct sim_core *core = sim_core_of(s, cpu);
		struct vs_sweep_owner owner = {.vm = core->owner,
					       .draining = core->draining,
					       .queued = queued(s, core->owner),
					       .serves = true,
					       .within_cap = within_cap(s, core->owner, true)};
		int32_t vm;

		if (s->cpus[cpu].running != SIM_NONE)
			continue;
		vm = vs_sweep_target(&owner, best, &take);
		if (home_pass != on_home(s, cpu, vm))
			continue;
		if (queued(s, vm) <= 0 || !reserve_cpu_for(s, cpu, vm, true))
			continue;
		sim_start(s, cpu, sim_queue_first(s, vm));
		more = true;
		/* A free core taken: the next one goes to whoever is owed then. */
		if (take)
			best = pick_owed_vm(s, SIM_NONE, SIM_NONE).vm;
		if (best < 0)
			break;
	}
	if (more)
		sim_request_sweep(s, 200 * 1000);
}

const struct sim_policy_ops sim_policy_bpf = {
    .name = "bpf",
    .enqueue = sim_bpf_enqueue,
    .dispatch = sim_bpf_dispatch,
    .tick = sim_bpf_tick,
    .sweep = sim_bpf_sweep,
};

const struct sim_policy_ops *sim_policy_by_name(const char *name)
{
	static const struct sim_policy_ops *const all[] = {&sim_policy_bpf, &sim_policy_agent,
							   &sim_policy_batch};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
