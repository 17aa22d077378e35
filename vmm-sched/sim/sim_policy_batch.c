/*
 * "batch": the benchmark's batch-pairing baseline (tests/bench/batch_pair.bpf.c,
 * policy (b) of make bench) in the simulator, so that vmm-sched's rules and
 * batch pairing meet on the same simulated host, where the test VM's
 * emulation does not distort either. Its rules, as batch_pair.bpf.c's:
 *
 * - a core belongs to one VM for a fixed 20 ms batch; both threads run only
 *   that VM's vCPUs, FIFO within the VM; a vCPU's slice ends with the batch;
 * - a thread whose owner has nothing queued keeps its vCPU, or idles while
 *   the sibling still runs the owner ("the batch holds the core"), or else
 *   hands the core to the next VM in id order after the owner that has
 *   vCPUs queued (or is the vCPU leaving this thread);
 * - a new owner waits for the sibling to leave the old one (a kick);
 * - an enqueue kicks the idle threads of cores its VM may take (owned by it,
 *   by nobody, or at the end of their batch); idle threads wake on nothing else.
 *
 * The simulated world is sequential, so batch_pair's claims (pending[]) are
 * not needed: a start is atomic.
 */
#include <stdlib.h>

#include "sim.h"
#include "sim_policy.h"

#define BATCH_NS	   (20 * SIM_MS) /* batch_pair.bpf.c's batch_ns */
#define BATCH_MIN_SLICE_NS 100000ULL	 /* its MIN_SLICE_NS */

/* The batch end of each core, by core index. */
static uint64_t *batch_end(struct sim *s)
{
	return s->policy_data;
}

static int batch_init(struct sim *s)
{
	s->policy_data = calloc(s->nr_cores, sizeof(uint64_t));
	return s->policy_data ? 0 : -1;
}

static void batch_free(struct sim *s)
{
	free(s->policy_data);
	s->policy_data = NULL;
}

static uint32_t core_index(const struct sim *s, uint32_t cpu)
{
	return s->cpus[cpu].core;
}

/* The VM running on @cpu's sibling, or SIM_NONE (no sibling, or idle). */
static int32_t sibling_vm(struct sim *s, uint32_t cpu)
{
	if (s->tpc < 2)
		return SIM_NONE;
	return sim_running_vm(s, sim_sibling(s, cpu, s->cpus[cpu].thread ^ 1));
}

static void batch_enqueue(struct sim *s, struct sim_vcpu *v, bool last)
{
	uint32_t cpu;

	(void)last;
	sim_enqueue(s, v);
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		const struct sim_core *core = sim_core_of(s, cpu);

		if (s->cpus[cpu].running != SIM_NONE)
			continue; /* SCX_KICK_IDLE */
		if (core->owner == (int32_t)v->vm || core->owner == SIM_NONE ||
		    s->now >= batch_end(s)[core_index(s, cpu)])
			sim_kick(s, cpu);
	}
}

static enum sim_decision run_or_keep(struct sim *s, int32_t vm, struct sim_vcpu *prev,
				     struct sim_vcpu **next)
{
	if (s->vms[vm].queued) {
		*next = sim_queue_first(s, vm);
		return SIM_RUN;
	}
	return prev ? SIM_KEEP_PREV : SIM_IDLE;
}

/* batch_pair.bpf.c's decide() and dispatch. */
static enum sim_decision batch_dispatch(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
					struct sim_vcpu **next)
{
	struct sim_core *core = sim_core_of(s, cpu);
	uint64_t *end = &batch_end(s)[core_index(s, cpu)];
	int32_t owner = core->owner, sib = sibling_vm(s, cpu), prev_vm, vm = SIM_NONE;
	uint32_t i;

	*next = NULL;
	prev_vm = prev ? (int32_t)prev->vm : SIM_NONE;
	if (owner != SIM_NONE && s->now < *end) {
		if (sib != SIM_NONE && sib != owner)
			return SIM_IDLE; /* the sibling is still draining the old owner */
		if (s->vms[owner].queued || prev_vm == owner)
			return run_or_keep(s, owner, prev_vm == owner ? prev : NULL, next);
		if (sib != SIM_NONE)
			return SIM_IDLE; /* the batch holds the core: this thread idles */
	}
	/* The batch is over, or its VM has nothing left here: the next VM in turn. */
	for (i = 1; i <= s->nr_vms; i++) {
		int32_t c = (int32_t)(((uint32_t)(owner < 0 ? -1 : owner) + i) % s->nr_vms);

		if (s->vms[c].queued || c == prev_vm) {
			vm = c;
			break;
		}
	}
	if (vm == SIM_NONE)
		return SIM_IDLE;
	sim_set_owner(s, core, vm);
	*end = s->now + BATCH_NS;
	if (sib != SIM_NONE && sib != vm) {
		sim_kick(s, sim_sibling(s, cpu, s->cpus[cpu].thread ^ 1));
		return SIM_IDLE;
	}
	return run_or_keep(s, vm, prev_vm == vm ? prev : NULL, next);
}

/* A vCPU's slice ends with its core's batch (at least BATCH_MIN_SLICE_NS after a refill). */
static bool batch_tick(struct sim *s, uint32_t cpu)
{
	const struct sim_vcpu *v = &s->vcpus[s->cpus[cpu].running];
	uint64_t end = batch_end(s)[core_index(s, cpu)];

	if (end < v->started_at + BATCH_MIN_SLICE_NS)
		end = v->started_at + BATCH_MIN_SLICE_NS;
	return s->now >= end;
}

static void batch_sweep(struct sim *s)
{
	(void)s; /* batch pairing has no sweep */
}

const struct sim_policy_ops sim_policy_batch = {
    .name = "batch",
    .init = batch_init,
    .free = batch_free,
    .enqueue = batch_enqueue,
    .dispatch = batch_dispatch,
    .tick = batch_tick,
    .sweep = batch_sweep,
};
