/*
 * The BPF scheduler's rules in the simulator (policy "bpf"): enqueue,
 * dispatch, tick and the placement sweep of bpf/vmm_sched.bpf.c, on the
 * simulated world. Decisions shared with the BPF object call its pure rule
 * headers (vs_owed_pick from bpf/vmm_sched_smt.h); decisions still written
 * inline in vmm_sched.bpf.c are modelled here in functions named
 * sim_model_<what>(), each to be replaced by its bpf/rules/ header once
 * extracted. The world is sequential, so claims, leaving_vm and the core
 * lock have no counterpart: a start is atomic. Not modelled: host tasks
 * (strict pairing's host idle), guest hints, directed yields, enclaves
 * (one enclave of all CPUs), transactions.
 */
#include <string.h>

#include "bpf/vmm_sched_smt.h"
#include "sim.h"
#include "sim_policy.h"

struct owed_pick {
	int32_t vm;	    /* SIM_NONE: nobody is owed a core */
	uint32_t nr_queued; /* its queued vCPUs */
	bool starved, for_pair;
};

static bool on_home(struct sim *s, uint32_t cpu, int32_t vm)
{
	return vm < 0 || s->vms[vm].kind->node < 0 ||
	       (int)sim_core_of(s, cpu)->node == s->vms[vm].kind->node;
}

/* vm_within_cap(): caps count owned cores; @owns_this: the core in question is already its. */
static bool within_cap(struct sim *s, int32_t vm, bool owns_this)
{
	unsigned int cap;

	if (!s->caps_in_use || vm < 0 || !(cap = s->vms[vm].kind->cap))
		return true;
	return owns_this ? s->vms[vm].owned_cores <= cap : s->vms[vm].owned_cores < cap;
}

static uint32_t queued(struct sim *s, int32_t vm)
{
	return vm < 0 ? 0 : s->vms[vm].queued;
}

/* Does a thread of @cpu's core other than @cpu run a vCPU of a VM other than @vm? */
static bool sibling_runs_other(struct sim *s, uint32_t cpu, int32_t vm)
{
	struct sim_core *core = sim_core_of(s, cpu);
	uint32_t th;

	for (th = 0; th < s->tpc; th++) {
		int32_t other = sim_running_vm(s, core->first_cpu + th);

		if (core->first_cpu + th != cpu && other != SIM_NONE && other != vm)
			return true;
	}
	return false;
}

static bool thread_empty(struct sim *s, uint32_t cpu)
{
	return s->cpus[cpu].running == SIM_NONE;
}

static bool others_empty(struct sim *s, uint32_t cpu)
{
	struct sim_core *core = sim_core_of(s, cpu);
	uint32_t th;

	for (th = 0; th < s->tpc; th++)
		if (core->first_cpu + th != cpu && !thread_empty(s, core->first_cpu + th))
			return false;
	return true;
}

/*
 * TODO: replace with bpf/rules/ when extracted. pick_owed_vm(): the runnable
 * VM owed a core most (lowest vtime, ties to the lowest VM id as BPF's
 * ascending scan gives), among VMs with queued vCPUs or @prev_vm, under
 * their cap; a starved VM first; vs_owed_pick() for a pair's near tie.
 */
static struct owed_pick sim_model_pick_owed_vm(struct sim *s, int32_t prev_vm, int32_t this_owner)
{
	struct vs_owed best = {VS_VM_NONE, UINT64_MAX}, pair = {VS_VM_NONE, UINT64_MAX};
	uint64_t oldest = UINT64_MAX;
	int32_t starved = SIM_NONE;
	uint32_t nr_starved = 0, nr_best = 0, nr_pair = 0, i, n = s->nr_queued_vms;
	struct owed_pick out = {.vm = SIM_NONE};
	bool prev_seen = prev_vm < 0;

	for (i = 0; i <= n; i++) {
		int32_t vm;
		struct sim_vm *vs;
		uint32_t q, runnable;

		if (i < n) {
			vm = s->queued_vms[i];
			prev_seen |= vm == prev_vm;
		} else if (!prev_seen) {
			vm = prev_vm;
		} else {
			break;
		}
		if (s->caps_in_use && !within_cap(s, vm, vm == this_owner))
			continue;
		vs = &s->vms[vm];
		q = vs->queued;
		if (q > 0 && vs->last_run_ns && s->now > vs->last_run_ns + s->p.starved_ns &&
		    (vs->last_run_ns < oldest || (vs->last_run_ns == oldest && vm < starved))) {
			oldest = vs->last_run_ns;
			starved = vm;
			nr_starved = q;
		}
		if (vs->vtime < best.vtime || (vs->vtime == best.vtime && vm < best.vm)) {
			best = (struct vs_owed){vm, vs->vtime};
			nr_best = q;
		}
		runnable = q + (vm == prev_vm);
		if (runnable >= 2 &&
		    (vs->vtime < pair.vtime || (vs->vtime == pair.vtime && vm < pair.vm))) {
			pair = (struct vs_owed){vm, vs->vtime};
			nr_pair = q;
		}
	}
	out.starved = starved >= 0;
	if (out.starved) {
		out.vm = starved;
		out.nr_queued = nr_starved;
		return out;
	}
	out.vm = vs_owed_pick(&best, &pair, s->pair_window_ns);
	out.for_pair = out.vm != best.vm;
	out.nr_queued = out.for_pair ? nr_pair : nr_best;
	return out;
}

/*
 * TODO: replace with bpf/rules/ when extracted. reserve_cpu_for(): may @cpu
 * start a vCPU of @vm? Not beside another VM; on its own core unless it
 * drains; a core of another VM only if @may_take_core, this thread is empty
 * and nothing of another VM runs there (the core is then handed over).
 */
static bool sim_model_reserve_cpu_for(struct sim *s, uint32_t cpu, int32_t vm, bool may_take_core)
{
	struct sim_core *core = sim_core_of(s, cpu);

	if (sibling_runs_other(s, cpu, vm))
		return false;
	if (core->owner == vm)
		return !core->draining;
	if (may_take_core && thread_empty(s, cpu)) {
		sim_set_owner(s, core, vm);
		return true;
	}
	return false;
}

/* place_on_idle_cpu(): @v starts on @cpu if it is idle and the rules allow. */
static bool place_on_idle_cpu(struct sim *s, struct sim_vcpu *v, uint32_t cpu, bool may_take_core)
{
	if (!thread_empty(s, cpu) ||
	    !sim_model_reserve_cpu_for(s, cpu, (int32_t)v->vm, may_take_core))
		return false;
	sim_start(s, cpu, v);
	return true;
}

/*
 * TODO: replace with bpf/rules/ when extracted. vs_enqueue's vtime floor: a
 * VM back from idle brings no more credit than one core slice plus the pair
 * window behind the VM granted a core last.
 */
static void sim_model_vtime_floor(struct sim *s, struct sim_vm *vm)
{
	uint64_t lag = s->core_slice_ns + s->pair_window_ns;

	if (vm->vtime + lag < s->vtime_floor)
		sim_set_vtime(s, vm, s->vtime_floor - lag);
}

/*
 * TODO: replace with bpf/rules/ when extracted. vs_enqueue's placement order:
 * the previous CPU if on the home node; on the home node the VM's own cores,
 * then wholly free cores; then off it the previous CPU, own cores, free cores.
 */
static void bpf_enqueue(struct sim *s, struct sim_vcpu *v, bool last)
{
	struct sim_vm *vm = &s->vms[v->vm];
	int32_t id = (int32_t)v->vm;
	uint32_t prev = (uint32_t)v->last_cpu, pass, cpu;
	bool may_take_core, prev_home;

	if (last) {
		/* SCX_ENQ_LAST: queue it; the sweep moves it to an idle CPU. */
		sim_enqueue(s, v);
		sim_request_sweep(s, 0);
		return;
	}
	sim_model_vtime_floor(s, vm);
	may_take_core = within_cap(s, id, false);
	prev_home = on_home(s, prev, id);
	if (prev_home && place_on_idle_cpu(s, v, prev, may_take_core))
		return;
	for (pass = 0; pass < 4; pass++) {
		bool home = pass < 2, take = pass & 1;

		if (take && !may_take_core)
			continue;
		if (pass == 2 && !prev_home && place_on_idle_cpu(s, v, prev, may_take_core))
			return;
		for (cpu = 0; cpu < s->nr_cpus; cpu++) {
			struct sim_core *core = sim_core_of(s, cpu);

			if (cpu == prev || !thread_empty(s, cpu))
				continue;
			if (!take && (core->owner != id || core->draining))
				continue;
			if (take && !others_empty(s, cpu))
				continue;
			if (on_home(s, cpu, id) != home)
				continue;
			if (place_on_idle_cpu(s, v, cpu, may_take_core))
				return;
		}
	}
	sim_enqueue(s, v);
	sim_request_sweep(s, 50 * 1000);
}

/* Is some other thread of @cpu's core empty (a sibling to wake)? */
static bool any_other_empty(struct sim *s, uint32_t cpu)
{
	struct sim_core *core = sim_core_of(s, cpu);
	uint32_t th;

	for (th = 0; th < s->tpc; th++)
		if (core->first_cpu + th != cpu && thread_empty(s, core->first_cpu + th))
			return true;
	return false;
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
			empty = thread_empty(s, s->cores[c].first_cpu + th);
		if (empty)
			return true;
	}
	return false;
}

/*
 * TODO: replace with bpf/rules/ when extracted. vs_dispatch's chain under the
 * core lock: the owner keeps the core while it has work and its turn
 * (core_slice_ns) lasts or it is still owed most; else the core goes to the
 * VM owed most once no other thread runs the old owner (until then the owner
 * drains, its vCPU there is kicked, and this thread idles: forced idle).
 */
static enum sim_decision sim_model_dispatch(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
					    struct sim_vcpu **next)
{
	struct sim_core *core = sim_core_of(s, cpu);
	int32_t prev_vm = prev ? (int32_t)prev->vm : SIM_NONE, owner = core->owner, best,
		target = SIM_NONE;
	uint32_t owner_queued = queued(s, owner), th;
	bool owner_has_work, owner_over_cap, prev_goes_home, wake_sibling = false;
	enum sim_decision d = SIM_IDLE;
	bool forced = false, owner_changed = false;
	struct owed_pick pick;

	*next = NULL;
	owner_has_work = owner_queued > 0 || (owner >= 0 && owner == prev_vm);
	pick = sim_model_pick_owed_vm(s, prev_vm, owner);
	best = pick.vm;
	prev_goes_home = prev_vm >= 0 && !on_home(s, cpu, prev_vm) && home_core_free(s, prev_vm);
	owner_over_cap = s->caps_in_use && owner >= 0 && !within_cap(s, owner, true);

	if (owner >= 0 && owner_has_work && !owner_over_cap &&
	    (owner == best || (!core->draining && s->now - core->owner_since < s->core_slice_ns))) {
		target = owner;
		if (owner == best)
			core->draining = false;
	} else if (best >= 0 && !sibling_runs_other(s, cpu, best)) {
		sim_set_owner(s, core, best);
		owner_changed = true;
		target = best;
	} else if (best >= 0) {
		core->draining = true; /* start_drain */
		forced = true;
	} else if (owner_over_cap) {
		if (!sibling_runs_other(s, cpu, SIM_NONE))
			sim_set_owner(s, core, SIM_NONE);
		else
			core->draining = true;
	}
	if (target >= 0) {
		if (sibling_runs_other(s, cpu, target)) {
			forced = true;
		} else if (target == prev_vm && !(target == best ? pick.nr_queued : owner_queued)) {
			d = prev_goes_home ? SIM_IDLE : SIM_KEEP_PREV;
		} else {
			d = SIM_RUN;
		}
		wake_sibling = !forced && any_other_empty(s, cpu);
	}
	/* The other threads' vCPUs hold up a handover: make them leave now. */
	if (core->draining)
		for (th = 0; th < s->tpc; th++)
			if (core->first_cpu + th != cpu && !thread_empty(s, core->first_cpu + th))
				sim_kick(s, core->first_cpu + th);
	if (owner_changed && best >= 0)
		s->vtime_floor = s->vms[best].vtime;
	if (forced)
		return SIM_IDLE;
	if (d == SIM_RUN) {
		*next = sim_queue_first(s, target);
		if (*next) {
			if (wake_sibling && queued(s, target) > 1)
				sim_request_sweep(s, 0);
			return SIM_RUN;
		}
		return prev && target == prev_vm ? SIM_KEEP_PREV : SIM_IDLE;
	}
	return d;
}

/*
 * TODO: replace with bpf/rules/ when extracted. vs_tick's cut: a vCPU beside
 * another VM or on a core not its VM's leaves at once, one on a draining core
 * or whose slice ran out at this tick (no guest hints: no extensions).
 */
static bool sim_model_tick_cut(struct sim *s, uint32_t cpu)
{
	struct sim_vcpu *v = &s->vcpus[s->cpus[cpu].running];
	struct sim_core *core = sim_core_of(s, cpu);

	if (core->owner != (int32_t)v->vm || sibling_runs_other(s, cpu, (int32_t)v->vm))
		return true;
	return core->draining || s->now >= v->slice_end;
}

/*
 * TODO: replace with bpf/rules/ when extracted. sweep_enclave(): queued vCPUs
 * onto idle threads where pairing allows: the owner's onto its cores, the VM
 * owed most onto free ones (home node first).
 */
static void sim_model_sweep(struct sim *s)
{
	struct owed_pick pick = sim_model_pick_owed_vm(s, SIM_NONE, SIM_NONE);
	int32_t best = pick.vm;
	bool more = false;
	uint32_t i;

	if (best < 0)
		return;
	for (i = 0; i < 2 * s->nr_cpus; i++) {
		uint32_t cpu = i % s->nr_cpus;
		bool home_pass = i < s->nr_cpus, take;
		struct sim_core *core = sim_core_of(s, cpu);
		int32_t vm = core->owner;

		if (!thread_empty(s, cpu))
			continue;
		take = core->draining || queued(s, vm) == 0 ||
		       (s->caps_in_use && !within_cap(s, vm, true));
		if (take)
			vm = best;
		if (home_pass != on_home(s, cpu, vm))
			continue;
		if (!queued(s, vm) || !sim_model_reserve_cpu_for(s, cpu, vm, true))
			continue;
		sim_start(s, cpu, sim_queue_first(s, vm));
		more = true;
		if (take) {
			best = sim_model_pick_owed_vm(s, SIM_NONE, SIM_NONE).vm;
			if (best < 0)
				break;
		}
	}
	if (more)
		sim_request_sweep(s, 200 * 1000);
}

const struct sim_policy_ops sim_policy_bpf = {
    .name = "bpf",
    .enqueue = bpf_enqueue,
    .dispatch = sim_model_dispatch,
    .tick = sim_model_tick_cut,
    .sweep = sim_model_sweep,
};

const struct sim_policy_ops *sim_policy_by_name(const char *name)
{
	static const struct sim_policy_ops *const all[] = {&sim_policy_bpf};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
