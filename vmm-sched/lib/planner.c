/* Over 400 lines: one epoch's plan is one algorithm (view checks are in planner_view.c). */
/* The agent's core planner: one epoch's plan (see planner.h). */
#include "planner.h"

#include <string.h>

#include "planner_heap.h"

#define NR_BUCKETS (PLANNER_MAX_NODES + 1) /* bucket 0: unknown node */

/* Sort contexts: the view and the state. */
struct ctx {
	const struct planner_view *v;
	const struct planner_state *st;
};

static int64_t vm_key(const struct ctx *c, uint32_t i)
{
	return c->st->key[i] - (int64_t)c->st->got[i] * (int64_t)c->v->epoch_ns;
}

/* Most owed first (after the cores granted so far), then the lower VM id. */
static bool vm_before(const void *p, uint32_t a, uint32_t b)
{
	const struct ctx *c = p;
	int64_t ka = vm_key(c, a), kb = vm_key(c, b);

	if (ka != kb)
		return ka > kb;
	return c->v->vms[a].id < c->v->vms[b].id;
}

/* Longest waiting first, then the lower slot. */
static bool vcpu_before(const void *p, uint32_t a, uint32_t b)
{
	const struct planner_vcpu *x = &((const struct ctx *)p)->v->vcpus[a],
				  *y = &((const struct ctx *)p)->v->vcpus[b];

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns;
	return x->slot < y->slot;
}

static bool vcpu_refused(const struct planner_state *st, const struct planner_vcpu *c)
{
	return st->vcpu[c->slot].refused_epoch == st->epoch + 1;
}

static bool core_refused(const struct planner_view *v, const struct planner_state *st,
			 const struct planner_core *c)
{
	unsigned int t;

	for (t = 0; t < v->threads_per_core; t++)
		if (st->cpu[c->cpu[t]].refused_epoch == st->epoch + 1)
			return true;
	return false;
}

/* The VMs' runnable vCPUs, in the order they should run: vcpu_order[first..]. */
static void order_vcpus(const struct planner_view *v, struct planner_state *st, const struct ctx *c)
{
	unsigned int i, k;

	for (i = 0; i < v->nr_vms; i++) {
		const struct planner_vm *m = &v->vms[i];
		uint32_t n = 0;

		for (k = 0; k < m->nr_vcpus; k++)
			if (!vcpu_refused(st, &v->vcpus[m->first_vcpu + k]))
				st->vcpu_order[m->first_vcpu + n++] = m->first_vcpu + k;
		planner_sort(&st->vcpu_order[m->first_vcpu], n, vcpu_before, c);
		st->runnable[i] = n;
	}
}

/*
 * Advance each VM's deficit by the time elapsed since the last plan. A
 * re-plan of the same epoch (elapsed 0) charges nobody: a VM whose vCPUs
 * were all refused keeps its credit.
 */
static void charge(const struct planner_view *v, struct planner_state *st)
{
	unsigned int i;

	for (i = 0; i < v->nr_vms; i++) {
		const struct planner_vm *m = &v->vms[i];
		struct planner_vm_state *s = &st->vm[m->id];
		int64_t d = s->deficit_ns, lim, share_cores = (m->share_mcores + 999) / 1000;

		if (v->elapsed_ns) {
			d -= v->measured ? (int64_t)m->delivered_ns
					 : (int64_t)s->granted_cores * (int64_t)v->elapsed_ns;
			if (st->runnable[i])
				d += (int64_t)((uint64_t)m->share_mcores * v->elapsed_ns / 1000);
			else if (d > 0)
				d = 0; /* no banked credit while it wants nothing */
			lim = PLANNER_CLAMP_EPOCHS * (int64_t)v->epoch_ns *
			      (share_cores ? share_cores : 1);
			s->deficit_ns = d > lim ? lim : d < -lim ? -lim : d;
		}
		s->granted_cores = 0;
		st->key[i] = s->deficit_ns;
	}
}

/* a comes after b: a heap with the least owed on top. */
static bool vm_after(const void *p, uint32_t a, uint32_t b)
{
	return vm_before(p, b, a);
}

/*
 * The VMs that may get a core, in vm_order: those with a reservation, then
 * the @usable most owed others (only they can be reached: each takes a
 * core), each part sorted, most owed first. Returns how many. A bounded heap
 * picks the others: O(n log usable), most VMs rejected by one comparison.
 */
static uint32_t candidates(const struct planner_view *v, struct planner_state *st,
			   const struct ctx *c, uint32_t usable)
{
	uint32_t i, n = 0, nh = 0;

	for (i = 0; i < v->nr_vms; i++) {
		if (!st->want[i])
			continue;
		if (v->vms[i].reserve_cores) {
			st->vm_order[n++] = i;
		} else if (nh < usable) {
			planner_heap_push(st->heap, &nh, i, vm_after, c);
		} else if (nh && vm_before(c, i, st->heap[0])) {
			planner_heap_pop(st->heap, &nh, vm_after, c);
			planner_heap_push(st->heap, &nh, i, vm_after, c);
		}
	}
	planner_sort(st->vm_order, n, vm_before, c);
	planner_sort(st->heap, nh, vm_before, c);
	memcpy(&st->vm_order[n], st->heap, nh * sizeof(*st->heap));
	return n + nh;
}

/*
 * How many cores each VM gets: reservations, then the most owed first.
 * Returns how many VMs vm_order lists (every VM granted a core is there).
 */
static uint32_t grant(const struct planner_view *v, struct planner_state *st, const struct ctx *c,
		      uint32_t usable, struct planner_plan *plan)
{
	uint32_t i, n, nh = 0, left = usable;

	for (i = 0; i < v->nr_vms; i++) {
		const struct planner_vm *m = &v->vms[i];
		uint32_t w = (st->runnable[i] + v->threads_per_core - 1) / v->threads_per_core;

		if (m->cap_cores && w > m->cap_cores)
			w = m->cap_cores;
		st->want[i] = w > usable ? usable : w;
		st->got[i] = 0;
	}
	n = candidates(v, st, c, usable);
	for (i = 0; i < n && v->vms[st->vm_order[i]].reserve_cores; i++) {
		uint32_t vm = st->vm_order[i], r = v->vms[vm].reserve_cores;

		if (r > st->want[vm])
			r = st->want[vm];
		if (r > left) {
			r = left;
			plan->reserved_short++;
		}
		st->got[vm] = r;
		left -= r;
	}
	/*
	 * The heap holds only VMs granted a core already (their key went down);
	 * the others wait in vm_order, sorted, with their keys untouched. So
	 * the heap stays as small as the cores handed out.
	 */
	for (i = 0; i < n; i++)
		if (st->got[st->vm_order[i]] &&
		    st->got[st->vm_order[i]] < st->want[st->vm_order[i]])
			planner_heap_push(st->heap, &nh, st->vm_order[i], vm_before, c);
	for (i = 0; left;) {
		uint32_t vm;

		while (i < n && st->got[st->vm_order[i]])
			i++;
		if (i < n && (!nh || vm_before(c, st->vm_order[i], st->heap[0])))
			vm = st->vm_order[i++];
		else if (nh)
			vm = planner_heap_pop(st->heap, &nh, vm_before, c);
		else
			break;
		st->got[vm]++;
		left--;
		if (st->got[vm] < st->want[vm])
			planner_heap_push(st->heap, &nh, vm, vm_before, c);
	}
	return n;
}

static void give_core(const struct planner_view *v, struct planner_state *st,
		      struct planner_plan *plan, uint32_t core, uint32_t vm)
{
	plan->cores[core].owner = (int)v->vms[vm].id;
	st->vm_cores[st->core_start[vm] + st->placed[vm]++] = core;
}

static bool core_running(const struct planner_core *c)
{
	return c->running_tid[0] || c->running_tid[1];
}

static bool core_hosts(const struct planner_core *c)
{
	return c->host[0] || c->host[1];
}

/* Strict: no host task on the core; relaxed: a thread without one. */
static bool host_allows(const struct planner_view *v, const struct planner_core *c)
{
	unsigned int t, free = 0;

	for (t = 0; t < v->threads_per_core; t++)
		free += !c->host[t];
	return v->relaxed ? free > 0 : free == v->threads_per_core;
}

/* A free core worth less: the old owner's vCPU runs there, or a host task does. */
static bool core_worse(const struct planner_core *c)
{
	return core_running(c) || core_hosts(c);
}

/*
 * Which cores: kept by their owner (cores running its vCPUs first, then
 * those on its home node), then free ones near home, idle before busy: a
 * core where another VM's vCPU runs is refused (wrong_vm) until it stops.
 */
static void map_cores(const struct planner_view *v, struct planner_state *st,
		      struct planner_plan *plan, uint32_t nr_order)
{
	uint32_t head[2 * NR_BUCKETS] = {0}, end[2 * NR_BUCKETS] = {0}, i, b, pass, start = 0;

	for (i = 0; i < v->nr_vms; i++) {
		st->core_start[i] = start;
		start += st->got[i];
		st->placed[i] = 0;
	}
	for (pass = 0; pass < 4; pass++) { /* running and home, running, home, any */
		for (i = 0; i < v->nr_cores; i++) {
			const struct planner_core *c = &v->cores[i];
			int32_t vm = c->owner == PLANNER_NONE ? -1 : st->vm_index[c->owner];

			if (!st->core_usable[i] || plan->cores[i].owner != PLANNER_NONE || vm < 0 ||
			    st->placed[vm] >= st->got[vm])
				continue;
			if (pass < 2 && !core_running(c))
				continue;
			if (!(pass & 1) && c->node != v->vms[vm].home_node)
				continue;
			give_core(v, st, plan, i, (uint32_t)vm);
		}
	}
	/* The free cores by node, idle ones with both threads free first (counting sort). */
	for (i = 0; i < v->nr_cores; i++)
		if (st->core_usable[i] && plan->cores[i].owner == PLANNER_NONE)
			end[2 * (v->cores[i].node + 1) + core_worse(&v->cores[i])]++;
	for (b = 0, start = 0; b < 2 * NR_BUCKETS; b++) {
		head[b] = start;
		start += end[b];
		end[b] = head[b];
	}
	for (i = 0; i < v->nr_cores; i++)
		if (st->core_usable[i] && plan->cores[i].owner == PLANNER_NONE)
			st->free_cores[end[2 * (v->cores[i].node + 1) +
					   core_worse(&v->cores[i])]++] = i;
	for (i = 0; i < nr_order; i++) {
		uint32_t vm = st->vm_order[i], bk;
		int home = v->vms[vm].home_node;

		for (b = home >= 0 ? 0 : 1; b <= NR_BUCKETS && st->placed[vm] < st->got[vm]; b++) {
			/* home first, then known nodes, unknown last */
			bk = b == 0 ? (uint32_t)home + 1 : b % NR_BUCKETS;
			while (st->placed[vm] < st->got[vm] && head[2 * bk] < end[2 * bk])
				give_core(v, st, plan, st->free_cores[head[2 * bk]++], vm);
			while (st->placed[vm] < st->got[vm] && head[2 * bk + 1] < end[2 * bk + 1])
				give_core(v, st, plan, st->free_cores[head[2 * bk + 1]++], vm);
		}
	}
}

/* Where a vCPU should stay: the CPU its live commit names, else where it last ran. */
static int preferred_cpu(const struct planner_state *st, const struct planner_vcpu *c)
{
	const struct planner_vcpu_state *vs = &st->vcpu[c->slot];

	if (vs->latched_cpu1 && vs->latched_seq == c->seqnum)
		return (int)vs->latched_cpu1 - 1;
	return c->last_cpu;
}

/* No vCPU planned there yet, and no host task runs there (relaxed pairing). */
static bool thread_free(const struct planner_view *v, const struct planner_plan *plan,
			uint32_t core, uint32_t t)
{
	return plan->cores[core].vcpu[t] == PLANNER_NONE && !v->cores[core].host[t];
}

/* Which vCPUs: the longest waiting, on their preferred thread if it is the VM's, packed. */
static void place_vcpus(const struct planner_view *v, struct planner_state *st,
			struct planner_plan *plan, uint32_t vm)
{
	const struct planner_vm *m = &v->vms[vm];
	const uint32_t *order = &st->vcpu_order[m->first_vcpu];
	uint32_t *cores = &st->vm_cores[st->core_start[vm]];
	uint32_t n = st->runnable[vm], k, ci = 0, t = 0, pass;

	if (n > st->placed[vm] * v->threads_per_core)
		n = st->placed[vm] * v->threads_per_core;
	/*
	 * Those running on their preferred thread keep it first: a waiting vCPU
	 * that last ran there goes elsewhere (a running one cannot be moved).
	 */
	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < n; k++) {
			const struct planner_vcpu *c = &v->vcpus[order[k]];
			int cpu = preferred_cpu(st, c), ct;
			struct planner_core_plan *cp;
			bool runs_there;

			if (cpu < 0 || (ct = st->cpu_core[cpu]) < 0)
				continue;
			runs_there =
			    v->cores[ct / PLANNER_THREADS].running_tid[ct % PLANNER_THREADS] ==
			    c->tid;
			if (runs_there != !pass)
				continue;
			cp = &plan->cores[ct / PLANNER_THREADS];
			if (cp->owner == (int)m->id &&
			    thread_free(v, plan, ct / PLANNER_THREADS, ct % PLANNER_THREADS))
				cp->vcpu[ct % PLANNER_THREADS] = (int)order[k];
		}
	}
	for (k = 0; k < n; k++) {
		int cpu = preferred_cpu(st, &v->vcpus[order[k]]),
		    ct = cpu < 0 ? -1 : st->cpu_core[cpu];

		if (ct >= 0 &&
		    plan->cores[ct / PLANNER_THREADS].vcpu[ct % PLANNER_THREADS] == (int)order[k])
			continue; /* kept on its preferred thread */
		while (ci < st->placed[vm] && !thread_free(v, plan, cores[ci], t)) {
			if (++t == v->threads_per_core) {
				t = 0;
				ci++;
			}
		}
		if (ci < st->placed[vm])
			plan->cores[cores[ci]].vcpu[t] = (int)order[k];
	}
}

void planner_plan_epoch(const struct planner_view *v, struct planner_state *st,
			struct planner_plan *plan)
{
	struct ctx c = {v, st};
	uint32_t i, t, usable = 0, nr_order = 0;

	if (v->elapsed_ns)
		st->epoch++;
	for (i = 0; i < v->nr_vms; i++)
		st->vm_index[v->vms[i].id] = (int32_t)i;
	order_vcpus(v, st, &c);
	charge(v, st);
	*plan = (struct planner_plan){.cores = plan->cores, .nr_cores = v->nr_cores};
	for (i = 0; i < v->nr_cores; i++) {
		const struct planner_core *core = &v->cores[i];

		st->core_usable[i] = host_allows(v, core) && !core_refused(v, st, core);
		usable += st->core_usable[i];
		plan->cores[i] = (struct planner_core_plan){
		    .owner = PLANNER_NONE,
		    .to_bpf = !st->core_usable[i],
		    .vcpu = {PLANNER_NONE, PLANNER_NONE},
		};
		for (t = 0; t < v->threads_per_core; t++)
			st->cpu_core[core->cpu[t]] = (int32_t)(i * PLANNER_THREADS + t);
	}
	nr_order = grant(v, st, &c, usable, plan);
	map_cores(v, st, plan, nr_order);
	for (i = 0; i < v->nr_vms; i++) {
		place_vcpus(v, st, plan, i);
		st->vm[v->vms[i].id].granted_cores = st->placed[i];
	}
	for (i = 0; i < v->nr_cores; i++) {
		const struct planner_core_plan *cp = &plan->cores[i];
		int old = v->cores[i].owner, busy = 0;

		for (t = 0; t < v->threads_per_core; t++)
			busy += cp->vcpu[t] != PLANNER_NONE;
		plan->vcpus_placed += busy;
		if (cp->owner != PLANNER_NONE) {
			plan->cores_given++;
			plan->idle_siblings += v->threads_per_core == 2 && busy == 1;
		}
		if (cp->to_bpf || cp->owner == old)
			continue;
		if (old == PLANNER_NONE)
			plan->owner_grants++;
		else if (cp->owner == PLANNER_NONE)
			plan->owner_releases++;
		else
			plan->owner_changes++;
		plan->busy_handovers += cp->owner != PLANNER_NONE && core_running(&v->cores[i]);
	}
	/* Clean the lookups for the next view. */
	for (i = 0; i < v->nr_vms; i++)
		st->vm_index[v->vms[i].id] = -1;
	for (i = 0; i < v->nr_cores; i++)
		for (t = 0; t < v->threads_per_core; t++)
			st->cpu_core[v->cores[i].cpu[t]] = -1;
}
